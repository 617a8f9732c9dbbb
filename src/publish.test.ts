import { describe, expect, it } from 'vitest';
import { loadConfig } from './config/load-config.js';
import { ConfigError } from './errors.js';
import { DEFAULT_DEVGRAPH_URL, resolveUpload } from './publish.js';
import { Secrets } from './secrets.js';

const configWith = (discovery: string) =>
  loadConfig(
    `discovery:\n${discovery}  providers:\n    - name: demo\n      type: docker\n      config: { registry_type: private, api_url: "http://127.0.0.1:5000" }\n`,
    { env: {}, secrets: new Secrets(), origin: 'test' },
  );

describe('resolveUpload: flag or input, then environment, then config, then default', () => {
  const config = configWith(
    '  api_base_url: https://config.devgraph.test/\n  environment: env-config\n  opaque_token: token-from-config\n',
  );

  it('the config alone decides when nothing else is said', () => {
    expect(resolveUpload({ urlField: '--devgraph-url', dryRun: false }, {}, config, new Secrets())).toEqual({
      url: 'https://config.devgraph.test',
      token: 'token-from-config',
      environment: 'env-config',
      dryRun: false,
    });
  });

  it('the environment wins over the config', () => {
    const env = { DEVGRAPH_TOKEN: 'token-from-env', DEVGRAPH_ENVIRONMENT: 'env-from-env' };
    expect(
      resolveUpload({ urlField: '--devgraph-url', dryRun: false }, env, config, new Secrets()),
    ).toMatchObject({
      url: 'https://config.devgraph.test',
      token: 'token-from-env',
      environment: 'env-from-env',
    });
  });

  it('the flag or input wins over both; empty counts as not given', () => {
    const env = { DEVGRAPH_TOKEN: 'token-from-env', DEVGRAPH_ENVIRONMENT: 'env-from-env' };
    const given = {
      urlField: '--devgraph-url',
      url: 'http://127.0.0.1:9/',
      token: 'token-given',
      environment: 'env-given',
      dryRun: true,
    };
    expect(resolveUpload(given, env, config, new Secrets())).toEqual({
      url: 'http://127.0.0.1:9',
      token: 'token-given',
      environment: 'env-given',
      dryRun: true,
    });
    expect(
      resolveUpload(
        { urlField: '--devgraph-url', url: '', token: '', environment: '', dryRun: false },
        env,
        config,
        new Secrets(),
      ),
    ).toMatchObject({
      url: 'https://config.devgraph.test',
      token: 'token-from-env',
      environment: 'env-from-env',
    });
  });

  it('without any of them: the default URL and no token', () => {
    expect(
      resolveUpload({ urlField: '--devgraph-url', dryRun: false }, {}, undefined, new Secrets()),
    ).toEqual({
      url: DEFAULT_DEVGRAPH_URL,
      dryRun: false,
    });
  });

  it('the token found is a secret from then on', () => {
    const secrets = new Secrets();
    resolveUpload(
      { urlField: '--devgraph-url', dryRun: false },
      { DEVGRAPH_TOKEN: 'token-from-env' },
      undefined,
      secrets,
    );
    expect(secrets.redact('sent token-from-env')).toBe('sent ***');
  });

  it('a URL that is not http(s) is refused, naming where it came from', () => {
    const given = { urlField: 'inputs.devgraph-url', dryRun: false };
    expect(() => resolveUpload({ ...given, url: 'ftp://x' }, {}, config, new Secrets())).toThrow(
      new ConfigError(['inputs.devgraph-url: must be an http(s) URL, got "ftp://x"']),
    );
    expect(() =>
      resolveUpload(given, {}, configWith('  api_base_url: api.devgraph.ai\n'), new Secrets()),
    ).toThrow(new ConfigError(['discovery.api_base_url: must be an http(s) URL, got "api.devgraph.ai"']));
  });
});
