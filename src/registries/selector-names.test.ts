import { describe, expect, it } from 'vitest';
import { compilePattern, type Pattern } from '../config/pattern.js';
import {
  literalNames,
  literalNamespace,
  literalPrefixes,
  namingAdvice,
  type SpelledNames,
  spelledNames,
} from './selector-names.js';

const exact = (...names: string[]): SpelledNames => ({ names, exact: true });
const prefix = (...names: string[]): SpelledNames => ({ names, exact: false });

// pattern, what it spells (undefined: a regex), the namespace it names (undefined: none).
// Every registry reads selectors through this table: a repository is made from a pattern only
// when the pattern is exact; a namespace is taken from a pattern that spells one.
const TABLE: Array<[string, SpelledNames | undefined, string | undefined]> = [
  ['^nginx$', exact('nginx'), 'nginx'],
  ['api$', exact('api'), 'api'],
  ['nginx', prefix('nginx'), 'nginx'], // re.match: also nginx-proxy
  ['Acme', prefix('acme'), 'acme'],
  ['^library$', exact('library'), 'library'],
  ['^docker$', exact('docker'), 'docker'],
  ['^(api|Web)$', exact('api', 'web'), undefined],
  ['^(?:api|web)$', exact('api', 'web'), undefined],
  ['^api$|^web$', exact('api', 'web'), undefined],
  ['^(api|(web|www))$', exact('api', 'web', 'www'), undefined],
  ['(api|web)', prefix('api', 'web'), undefined],
  ['^(api|web)', prefix('api', 'web'), undefined],
  ['api$|web', prefix('api', 'web'), undefined],
  ['acme|other', prefix('acme', 'other'), undefined],
  ['^platform/ingress-controller$', exact('platform/ingress-controller'), undefined],
  ['^team/app$', exact('team/app'), undefined],
  ['team/app', prefix('team/app'), undefined],
  ['aws-cli/aws-cli', prefix('aws-cli/aws-cli'), undefined],
  ['^team/(api|web)$', exact('team/api', 'team/web'), undefined],
  ['^(library/nginx|library/redis)$', exact('library/nginx', 'library/redis'), undefined],
  ['^my\\.app$', exact('my.app'), 'my.app'],
  ['^my\\.repo$', exact('my.repo'), 'my.repo'],
  ['^my.app$', undefined, undefined], // a bare dot matches any character: myxapp too
  ['.*', undefined, undefined],
  ['', undefined, undefined],
  ['^', undefined, undefined],
  ['^$', exact(''), ''], // no namespace: `redis` rather than `library/redis`
  ['^web-.*$', undefined, undefined],
  ['library/.+', undefined, undefined],
  ['^[a-z]+$', undefined, undefined],
  ['^[a]pi$', undefined, undefined],
  ['^api\\d$', undefined, undefined],
  ['^apis?$', undefined, undefined],
  ['^(api|web)+$', undefined, undefined],
  ['^api{2}$', undefined, undefined],
  ['^(?!x)', undefined, undefined],
  ['^(?!test-).*', undefined, undefined],
  ['^(?=api)api$', undefined, undefined],
  ['(?i)api', undefined, undefined],
  ['^(?P<n>api)$', undefined, undefined],
  ['^(api$|web)$', undefined, undefined],
  ['^a$b', undefined, undefined],
  ['^(api|)$', undefined, undefined],
  ['^_api$', undefined, undefined],
  ['^api web$', undefined, undefined],
];

function compiled(source: string): Pattern {
  const c = compilePattern(source);
  if ('error' in c) throw new Error(c.error);
  return c.pattern;
}

describe('what a selector pattern spells', () => {
  it.each(TABLE)('%s', (pattern, spelled, namespace) => {
    expect(spelledNames(pattern)).toEqual(spelled);
    expect(literalNames(pattern)).toEqual(
      spelled?.exact && spelled.names[0] !== '' ? spelled.names : undefined,
    );
    expect(literalNamespace(pattern)).toEqual(namespace);
  });

  // The table's claims, held against the matcher selectors really use (config/pattern.ts).
  it.each(TABLE.filter((row) => row[1] !== undefined))('%s matches as the table says', (pattern, spelled) => {
    const p = compiled(pattern);
    for (const name of spelled!.names) {
      expect(p.test(name)).toBe(true);
      expect(p.test(name.toUpperCase())).toBe(true);
      expect(p.test(`x${name}`)).toBe(false);
    }
    // Exact: no longer name matches. A prefix: some longer name does.
    expect(spelled!.names.some((name) => p.test(`${name}-x`))).toBe(!spelled!.exact);
  });
});

// What every name a pattern matches starts with, alternative by alternative (Google registries
// walk from there instead of the whole project).
describe('the literal start of a pattern', () => {
  it.each<[string, string[] | undefined]>([
    ['^containers/', ['containers/']],
    ['(web|api)/.*', ['web/', 'api/']],
    ['containers', ['containers']],
    ['^Team/(API|web)\\.v1$', ['team/api.v1', 'team/web.v1']],
    ['a/.*|b/c', ['a/', 'b/c']],
    ['.*', ['']],
    ['^team/x*', ['team/']],
    ['^containers/?x', ['containers']],
    ['^team/(a|b.*)/', ['team/']],
    ['^(?!x)team/', ['']],
    ['^[ab]/', ['']],
    ['^a$b', ['a']],
    ['api)', undefined],
    ['(api', undefined],
  ])('%s', (pattern, heads) => {
    expect(literalPrefixes(pattern)).toEqual(heads);
  });
});

// What a registry that cannot list says of a pattern that reads like names but is not exact.
describe('advice for a pattern that names no repository', () => {
  const cannot = 'names no repository without a listing';
  it.each<[string, string | undefined]>([
    [
      'ap',
      `repository_pattern "ap" ${cannot} (it also matches every longer name that starts with it); write "^ap$" to name ap alone`,
    ],
    [
      '(web|api)',
      `repository_pattern "(web|api)" ${cannot} (it also matches every longer name that starts with one of its names); write "^(api|web)$" to name api, web alone`,
    ],
    [
      '^foo.bar$',
      `repository_pattern "^foo.bar$" ${cannot} ("." matches any character); write "^foo\\\\.bar$" to name foo.bar alone`,
    ],
    [
      'my.app',
      `repository_pattern "my.app" ${cannot} ("." matches any character; it also matches every longer name that starts with it); write "^my\\\\.app$" to name my.app alone`,
    ],
    [
      '^my\\.app',
      `repository_pattern "^my\\\\.app" ${cannot} (it also matches every longer name that starts with it); write "^my\\\\.app$" to name my.app alone`,
    ],
    ['^api$', undefined],
    ['^my\\.app$', undefined],
    ['.*', undefined],
    ['^[a-z]+$', undefined],
    ['', undefined],
    ['^$', undefined],
  ])('%s', (pattern, advice) => {
    expect(namingAdvice('repository_pattern', pattern)).toBe(advice);
  });
});
