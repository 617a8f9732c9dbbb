import { describe, expect, it } from 'vitest';
import { type Challenge, parseWwwAuthenticate } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it.each<[string, string, Challenge[]]>([
    [
      'Distribution Bearer challenge',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/nginx:pull',
          },
        },
      ],
    ],
    [
      'scope with commas and colons inside quotes',
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull,push"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:a/b:pull,push' },
        },
      ],
    ],
    [
      'several scopes in one quoted value',
      'Bearer realm="https://r/token",scope="repository:a:pull repository:b:pull,push"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://r/token', scope: 'repository:a:pull repository:b:pull,push' },
        },
      ],
    ],
    [
      'insufficient_scope error',
      'Bearer realm="https://r/token",service="r",scope="repository:a/b:push",error="insufficient_scope"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://r/token',
            service: 'r',
            scope: 'repository:a/b:push',
            error: 'insufficient_scope',
          },
        },
      ],
    ],
    [
      'spaces after commas and around =',
      'Bearer realm = "https://r/token" , service = "r"',
      [{ scheme: 'bearer', params: { realm: 'https://r/token', service: 'r' } }],
    ],
    [
      'Basic with a non-URL realm',
      'Basic realm="Artifactory Realm"',
      [{ scheme: 'basic', params: { realm: 'Artifactory Realm' } }],
    ],
    [
      'Basic with a realm containing commas',
      'Basic realm="Sonatype Nexus Repository Manager, docker", charset="UTF-8"',
      [{ scheme: 'basic', params: { realm: 'Sonatype Nexus Repository Manager, docker', charset: 'UTF-8' } }],
    ],
    [
      'several challenges in one header',
      'Bearer realm="https://x/token",service="x", Basic realm="y"',
      [
        { scheme: 'bearer', params: { realm: 'https://x/token', service: 'x' } },
        { scheme: 'basic', params: { realm: 'y' } },
      ],
    ],
    [
      'Basic first, then Bearer',
      'Basic realm="y", Bearer realm="https://x/token", service="x"',
      [
        { scheme: 'basic', params: { realm: 'y' } },
        { scheme: 'bearer', params: { realm: 'https://x/token', service: 'x' } },
      ],
    ],
    [
      'a scheme with no params between two others',
      'Negotiate, Basic realm="r"',
      [
        { scheme: 'negotiate', params: {} },
        { scheme: 'basic', params: { realm: 'r' } },
      ],
    ],
    [
      'escaped quotes and backslashes',
      'Basic realm="say \\"hi\\", \\\\ ok"',
      [{ scheme: 'basic', params: { realm: 'say "hi", \\ ok' } }],
    ],
    [
      'case-insensitive scheme and param names',
      'BEARER REALM="https://r/Token",Service="R"',
      [{ scheme: 'bearer', params: { realm: 'https://r/Token', service: 'R' } }],
    ],
    ['mixed-case scheme', 'bAsIc realm="r"', [{ scheme: 'basic', params: { realm: 'r' } }]],
    [
      'unquoted values',
      'Bearer realm=https://r/token,service=r',
      [{ scheme: 'bearer', params: { realm: 'https://r/token', service: 'r' } }],
    ],
    [
      'empty quoted value',
      'Bearer realm="",service="r"',
      [{ scheme: 'bearer', params: { realm: '', service: 'r' } }],
    ],
    ['a bare scheme', 'Basic', [{ scheme: 'basic', params: {} }]],
    [
      'leading and trailing whitespace and commas',
      '  , Bearer realm="https://r/token" ,  ',
      [{ scheme: 'bearer', params: { realm: 'https://r/token' } }],
    ],
  ])('%s', (_name, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  it.each([undefined, '', '   ', ',', ', ,'])('%j → no challenges', (header) => {
    expect(parseWwwAuthenticate(header)).toEqual([]);
  });

  it('does not hang or throw on an unterminated quote', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://r/token')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://r/token' } },
    ]);
  });

  it('does not hang or throw on garbage', () => {
    for (const header of [
      '"""',
      '===',
      '@@@ ###',
      'Bearer ="x"',
      'Bearer realm=',
      '\u0000\u0001',
      'realm="x", Basic realm="y"',
    ]) {
      expect(Array.isArray(parseWwwAuthenticate(header))).toBe(true);
    }
  });
});
