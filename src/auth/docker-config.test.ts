import { describe, expect, it } from 'vitest';
import { dockerConfigCredentials } from './docker-config.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('dockerConfigCredentials', () => {
  it('decodes the base64 `auth` form', () => {
    const text = JSON.stringify({ auths: { 'registry.example.com': { auth: b64('alice:s3cr:et') } } });
    expect(dockerConfigCredentials(text, 'registry.example.com')).toEqual({
      found: true,
      key: 'registry.example.com',
      credentials: { username: 'alice', password: 's3cr:et' },
    });
  });

  it('reads the username/password form, and keys written as URLs with a port', () => {
    const text = JSON.stringify({
      auths: { 'https://registry.example.com:5000/v1/': { username: 'bob', password: 'pw-123' } },
    });
    expect(dockerConfigCredentials(text, 'registry.example.com:5000')).toMatchObject({
      found: true,
      credentials: { username: 'bob', password: 'pw-123' },
    });
    expect(dockerConfigCredentials(text, 'registry.example.com').found).toBe(false);
  });

  it("finds Docker Hub's https://index.docker.io/v1/ entry for registry-1.docker.io", () => {
    const text = JSON.stringify({
      auths: { 'https://index.docker.io/v1/': { auth: b64('hubuser:dckr_pat_x') } },
    });
    expect(dockerConfigCredentials(text, 'registry-1.docker.io')).toEqual({
      found: true,
      key: 'https://index.docker.io/v1/',
      credentials: { username: 'hubuser', password: 'dckr_pat_x' },
    });
  });

  it('names the credential helper it does not run (credHelpers, then credsStore)', () => {
    const text = JSON.stringify({
      auths: { 'registry.example.com': {} },
      credHelpers: { 'registry.example.com': 'ecr-login' },
      credsStore: 'desktop',
    });
    expect(dockerConfigCredentials(text, 'registry.example.com')).toEqual({
      found: false,
      reason:
        'credentials for registry.example.com live in the credential helper "docker-credential-ecr-login", which is not run; set credentials in the config',
    });
    expect(dockerConfigCredentials(text, 'other.example.com')).toMatchObject({
      reason: expect.stringContaining('"docker-credential-desktop"'),
    });
  });

  it('refuses an identity token, also when `auth` holds only the user name beside it', () => {
    const text = JSON.stringify({
      auths: { 'r.azurecr.io': { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: 'eyJ' } },
    });
    expect(dockerConfigCredentials(text, 'r.azurecr.io')).toEqual({
      found: false,
      reason:
        'its entry for r.azurecr.io holds an identity token, which is not supported; set username and password/token in the config',
    });
  });

  it('says what is wrong with a broken file and finds nothing in an empty one', () => {
    expect(dockerConfigCredentials('{nope', 'r.example')).toEqual({
      found: false,
      reason: 'the file is not valid JSON',
    });
    expect(dockerConfigCredentials('null', 'r.example')).toEqual({
      found: false,
      reason: 'the file is not a JSON object',
    });
    expect(dockerConfigCredentials('{}', 'r.example')).toEqual({ found: false });
  });
});
