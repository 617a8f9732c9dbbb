import { describe, expect, it } from 'vitest';
import { withConfig, withSelector } from '../../test/support/config-text.js';
import { ConfigError } from '../errors.js';
import { Secrets } from '../secrets.js';
import { loadConfig } from './load-config.js';
import { compilePattern, type Pattern } from './pattern.js';
import type { Settings } from './settings.js';

type Env = Record<string, string | undefined>;

function load(text: string, env: Env = {}, secrets = new Secrets()): Settings {
  return loadConfig(text, { env, secrets, origin: 'test.yml' });
}

/** The ConfigError a load throws; fails the test when it does not throw one. */
function loadError(text: string, env: Env = {}, secrets = new Secrets()): ConfigError {
  try {
    load(text, env, secrets);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

function pattern(source: string): Pattern {
  const result = compilePattern(source);
  if ('error' in result) throw new Error(result.error);
  return result.pattern;
}

describe('loadConfig: accepted forms', () => {
  it('reads the providers: form', () => {
    const s = load(withConfig('registry_type: ghcr', 'api_url: https://ghcr.io'));
    expect(s.providers).toHaveLength(1);
    expect(s.providers[0]).toMatchObject({ name: 'hub', registryType: 'ghcr', apiUrl: 'https://ghcr.io' });
    expect(s.devgraph).toBeUndefined();
  });

  it.each(['molecules', 'providers'])(
    'reads Devgraph discovery.%s with type docker.molecules.devgraph.ai',
    (list) => {
      const s = load(
        [
          'discovery:',
          '  api_base_url: https://api.devgraph.ai',
          '  environment: 6f1c2c1e-0000-4000-8000-000000000000',
          '  opaque_token: devgraph-opaque-token',
          `  ${list}:`,
          '    - name: docker-hub',
          '      type: docker.molecules.devgraph.ai',
          '      every: 60',
          '      config:',
          '        namespace: team-a',
        ].join('\n'),
      );
      expect(s.providers.map((p) => [p.name, p.namespace])).toEqual([['docker-hub', 'team-a']]);
      expect(s.devgraph).toEqual({
        apiBaseUrl: 'https://api.devgraph.ai',
        environment: '6f1c2c1e-0000-4000-8000-000000000000',
        token: 'devgraph-opaque-token',
      });
    },
  );

  it('keeps several providers in order', () => {
    const s = load(
      [
        'providers:',
        '  - { name: a, type: docker, config: {} }',
        '  - { name: b, type: docker.molecules.devgraph.ai, config: { registry_type: ecr, api_url: "https://1.dkr.ecr.us-east-1.amazonaws.com" } }',
      ].join('\n'),
    );
    expect(s.providers.map((p) => [p.name, p.registryType])).toEqual([
      ['a', 'docker-hub'],
      ['b', 'ecr'],
    ]);
  });
});

describe('loadConfig: defaults (reference/devgraph.md §6)', () => {
  it('fills every default when config is absent', () => {
    const s = load('providers:\n  - name: hub\n    type: docker\n');
    const p = s.providers[0]!;
    expect(p.namespace).toBe('default');
    expect(p.registryType).toBe('docker-hub');
    expect(p.apiUrl).toBe('https://registry-1.docker.io');
    expect(p.timeoutMs).toBe(30_000);
    expect(p.discoverVulnerabilities).toBe(false);
    expect(p.credentials).toEqual({});
    expect(p.concurrency).toBeUndefined();
    expect(p.selectors).toHaveLength(1);
    const sel = p.selectors[0]!;
    expect(sel.namespacePattern.source).toBe('.*');
    expect(sel.repositoryPattern.source).toBe('.*');
    expect(sel.includeTags).toBeUndefined();
    expect(sel.excludeTags).toEqual([]);
    expect(sel.maxTags).toBe(10);
  });

  it('fills every default for an empty config mapping', () => {
    const s = load(withConfig('{}'));
    const p = s.providers[0]!;
    expect(p).toMatchObject({
      namespace: 'default',
      registryType: 'docker-hub',
      apiUrl: 'https://registry-1.docker.io',
      timeoutMs: 30_000,
    });
    expect(p.selectors).toHaveLength(1);
    expect(p.selectors[0]!.namespacePattern.source).toBe('.*');
    expect(p.selectors[0]!.repositoryPattern.source).toBe('.*');
    expect(p.selectors[0]!.maxTags).toBe(10);
    expect(p.selectors[0]!.repositoryPattern.test('nginx')).toBe(true);
  });

  it('fills the default selector when only other config keys are given', () => {
    const sel = load(withConfig('registry_type: ghcr')).providers[0]!.selectors;
    expect(sel.map((x) => [x.namespacePattern.source, x.repositoryPattern.source, x.maxTags])).toEqual([
      ['.*', '.*', 10],
    ]);
  });

  it('turns selectors: [{}] into one select-everything selector with max_tags 10', () => {
    const sel = load(withConfig('selectors: [{}]')).providers[0]!.selectors;
    expect(sel).toHaveLength(1);
    expect(sel[0]!.namespacePattern.source).toBe('.*');
    expect(sel[0]!.repositoryPattern.source).toBe('.*');
    expect(sel[0]!.maxTags).toBe(10);
    expect(sel[0]!.namespacePattern.test('')).toBe(true);
    expect(sel[0]!.repositoryPattern.test('anything/at/all')).toBe(true);
  });

  it.each([
    [0, 0],
    [1, 1],
    [250, 250],
  ])('max_tags: %s → maxTags %s (0 = all tags)', (given, expected) => {
    expect(load(withSelector(`max_tags: ${given}`)).providers[0]!.selectors[0]!.maxTags).toBe(expected);
  });

  it.each([
    [30, 30_000],
    [1, 1000],
    [1.5, 1500],
    [0.25, 250],
  ])('timeout: %s → timeoutMs %s', (timeout, ms) => {
    expect(load(withConfig(`timeout: ${timeout}`)).providers[0]!.timeoutMs).toBe(ms);
  });

  it.each([
    ['https://registry.example.com/', 'https://registry.example.com'],
    ['https://registry.example.com///', 'https://registry.example.com'],
    ['http://localhost:5000', 'http://localhost:5000'],
  ])('normalises api_url %s → %s', (given, expected) => {
    expect(load(withConfig(`api_url: ${given}`)).providers[0]!.apiUrl).toBe(expected);
  });

  it('copies selector fields', () => {
    const sel = load(
      withSelector(
        'namespace_pattern: library',
        'repository_pattern: "^(nginx|redis)$"',
        'include_tags: [latest, stable]',
        'exclude_tags: [".*-rc.*"]',
        'max_tags: 3',
      ),
    ).providers[0]!.selectors[0]!;
    expect(sel.namespacePattern.source).toBe('library');
    expect(sel.repositoryPattern.source).toBe('^(nginx|redis)$');
    expect([...(sel.includeTags ?? [])]).toEqual(['latest', 'stable']);
    expect(sel.excludeTags.map((p) => p.source)).toEqual(['.*-rc.*']);
    expect(sel.excludeTags[0]!.test('1.0-rc1')).toBe(true);
    expect(sel.maxTags).toBe(3);
  });

  it('reads a retention block: counts, compiled keep_tags, durations in ms, protect_in_use on by default', () => {
    const sel = load(
      withSelector(
        'retention:',
        '  keep_newest: 5',
        "  keep_tags: ['^v\\d+\\.\\d+\\.\\d+$', latest]",
        '  older_than: 30d',
        '  untagged_older_than: 12h',
        '  ecr_lifecycle_policy: { rules: [] }',
      ),
    ).providers[0]!.selectors[0]!;
    const r = sel.retention!;
    expect(r.keepNewest).toBe(5);
    expect(r.keepTags.map((p) => p.source)).toEqual(['^v\\d+\\.\\d+\\.\\d+$', 'latest']);
    expect(r.keepTags[0]!.test('v1.2.3')).toBe(true);
    expect(r.keepTags[0]!.test('v1.2.3-rc1')).toBe(false);
    expect(r.olderThan).toEqual({ text: '30d', ms: 30 * 86_400_000 });
    expect(r.untaggedOlderThan).toEqual({ text: '12h', ms: 12 * 3_600_000 });
    expect(r.protectInUse).toBe(true);
    expect(r.ecrLifecyclePolicy).toEqual({ rules: [] });
  });

  it('leaves out retention rules that are not given, and reads protect_in_use: false', () => {
    const r = load(withSelector('retention: { untagged_older_than: 2w, protect_in_use: false }'))
      .providers[0]!.selectors[0]!.retention;
    expect(r).toEqual({
      keepTags: [],
      untaggedOlderThan: { text: '2w', ms: 14 * 86_400_000 },
      protectInUse: false,
    });
    expect(load(withSelector('max_tags: 0')).providers[0]!.selectors[0]!.retention).toBeUndefined();
  });

  it('accepts keep_newest: 0 (keep none by count)', () => {
    expect(
      load(withSelector('retention: { keep_newest: 0 }')).providers[0]!.selectors[0]!.retention!.keepNewest,
    ).toBe(0);
  });

  it('reads credentials, concurrency, max_pages and discover_vulnerabilities', () => {
    const p = load(
      withConfig(
        'username: robot',
        'password: hunter2-password',
        'token: tok-123456',
        'concurrency: 4',
        'max_pages: 7',
        'discover_vulnerabilities: true',
      ),
    ).providers[0]!;
    expect(p.credentials).toEqual({ username: 'robot', password: 'hunter2-password', token: 'tok-123456' });
    expect(p.concurrency).toBe(4);
    expect(p.maxPages).toBe(7);
    expect(p.discoverVulnerabilities).toBe(true);
  });
});

describe("loadConfig: registry_type from api_url's host when it is not set", () => {
  it.each([
    ['http://127.0.0.1:5000', 'private'],
    ['https://registry.example.com', 'private'],
    ['https://ghcr.io', 'ghcr'],
    ['https://myregistry.azurecr.io', 'acr'],
    ['https://123456789012.dkr.ecr.us-east-1.amazonaws.com', 'ecr'],
    ['https://europe-west1-docker.pkg.dev', 'gcr'],
    ['https://quay.io', 'quay'],
  ])('api_url %s is %s, and the settings say it was inferred', (url, type) => {
    const p = load(withConfig(`api_url: ${url}`)).providers[0]!;
    expect(p.registryType).toBe(type);
    expect(p.apiUrl).toBe(url);
    expect(p.registryTypeNote).toContain(`registry_type not set: ${type}`);
    expect(p.registryTypeNote).toContain(new URL(url).host);
  });

  it('stays Docker Hub, with nothing to say, for a Hub host, a Hub mirror given hub_url, or no api_url', () => {
    for (const body of [
      ['api_url: https://docker.io'],
      ['api_url: https://hub-mirror.example.com', 'hub_url: https://hub-api.example.com'],
      ['namespace: team-a'],
    ]) {
      const p = load(withConfig(...body)).providers[0]!;
      expect(p.registryType).toBe('docker-hub');
      expect(p.registryTypeNote).toBeUndefined();
    }
  });

  it('never overrides a registry_type that is set', () => {
    const p = load(withConfig('registry_type: harbor', 'api_url: https://ghcr.io')).providers[0]!;
    expect(p.registryType).toBe('harbor');
    expect(p.registryTypeNote).toBeUndefined();
  });

  it('checks read_manifests against the inferred type', () => {
    const err = loadError(withConfig('api_url: https://myregistry.azurecr.io', 'read_manifests: false'));
    expect(err.problems).toEqual([
      expect.stringContaining('providers[0].config.read_manifests: false needs'),
    ]);
    expect(err.problems[0]).toContain('acr has none');
  });
});

describe('loadConfig: ${VAR} interpolation', () => {
  it.each<[string, Env, string]>([
    ['${HOST}', { HOST: 'https://r.example' }, 'https://r.example'],
    ['https://${HOST}/', { HOST: 'r.example' }, 'https://r.example'],
    ['${HOST:-https://fallback.example}', {}, 'https://fallback.example'],
    ['${HOST:-https://fallback.example}', { HOST: 'https://set.example' }, 'https://set.example'],
    ['${HOST:-https://fallback.example}', { HOST: '' }, 'https://fallback.example'],
    ['https://${A}.${B:-example}', { A: 'r' }, 'https://r.example'],
  ])('api_url: %s with %j → %s', (text, env, expected) => {
    expect(load(withConfig(`api_url: "${text}"`), env).providers[0]!.apiUrl).toBe(expected);
  });

  it.each<[string, Env, number]>([
    ['${T:-5}', {}, 5000],
    ['${T:-5}', { T: '12' }, 12_000],
    ['${T}', { T: '2.5' }, 2500],
  ])('a whole-value expression is typed: timeout: %s with %j → %s ms', (text, env, ms) => {
    expect(load(withConfig(`timeout: ${text}`), env).providers[0]!.timeoutMs).toBe(ms);
  });

  it('types booleans and integers too', () => {
    const p = load(withConfig('discover_vulnerabilities: ${V:-true}', 'selectors:', '  - max_tags: ${N}'), {
      N: '0',
    }).providers[0]!;
    expect(p.discoverVulnerabilities).toBe(true);
    expect(p.selectors[0]!.maxTags).toBe(0);
  });

  it('keeps credentials strings even when they look like numbers or booleans', () => {
    const p = load(withConfig('username: ${U}', 'password: ${P}', 'token: ${T}'), {
      U: '12345',
      P: '00123456',
      T: 'true',
    }).providers[0]!;
    expect(p.credentials).toEqual({ username: '12345', password: '00123456', token: 'true' });
  });

  it('keeps discovery.opaque_token a string', () => {
    const s = load(
      [
        'discovery:',
        '  opaque_token: ${DT}',
        '  molecules:',
        '    - { name: a, type: docker, config: {} }',
      ].join('\n'),
      { DT: '1234567890' },
    );
    expect(s.devgraph?.token).toBe('1234567890');
  });

  it('keeps a numeric-looking tag a string in include_tags', () => {
    // A push workflow passes the pushed tag: include_tags: ["${TAG}"] with TAG=1.10 is the tag
    // "1.10", not the number 1.1 (and not a type error).
    const sel = load(withSelector('include_tags: ["${TAG}"]'), { TAG: '1.10' }).providers[0]!.selectors[0]!;
    expect([...(sel.includeTags ?? [])]).toEqual(['1.10']);
  });

  it.each([
    ['$${HOST}', 'https://x.example/$${HOST}', 'https://x.example/${HOST}'],
    ['$${HOST:-d}', 'https://x.example/$${HOST:-d}', 'https://x.example/${HOST:-d}'],
  ])('$${...} escapes %s to a literal', (_name, text, expected) => {
    expect(load(withConfig(`api_url: "${text}"`), { HOST: 'nope' }).providers[0]!.apiUrl).toBe(expected);
  });

  it('an escaped whole value stays a literal string', () => {
    const p = load(withConfig('password: "$${PW}"', 'username: u'), { PW: 'nope' }).providers[0]!;
    expect(p.credentials.password).toBe('${PW}');
  });

  it('an unset variable without a default names the variable and the path', () => {
    const err = loadError(withConfig('username: robot', 'password: ${DOCKER_PASSWORD}'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('DOCKER_PASSWORD');
    expect(err.problems[0]).toContain('providers[0].config.password');
  });

  it('an empty variable without a default is an error, not an empty credential', () => {
    const err = loadError(withConfig('token: ${TOKEN}'), { TOKEN: '' });
    expect(err.problems[0]).toContain('TOKEN');
    expect(err.problems[0]).toContain('providers[0].config.token');
  });

  it('reports every unset variable at once, each with its path', () => {
    const err = loadError(
      withConfig(
        'api_url: https://${HOST}',
        'username: ${USER_X}',
        'selectors:',
        '  - exclude_tags: ["${EX}"]',
      ),
    );
    expect(err.problems).toHaveLength(3);
    expect(err.problems.join('\n')).toMatch(
      /providers\[0\]\.config\.api_url.*HOST|HOST.*providers\[0\]\.config\.api_url/,
    );
    expect(err.problems.some((p) => p.includes('USER_X') && p.includes('providers[0].config.username'))).toBe(
      true,
    );
    expect(
      err.problems.some(
        (p) => p.includes('EX') && p.includes('providers[0].config.selectors[0].exclude_tags[0]'),
      ),
    ).toBe(true);
  });

  it('does not interpolate keys or YAML comments', () => {
    const s = load(`${withConfig('namespace: ns-a')}\n# \${NOT_SET}`);
    expect(s.providers[0]!.namespace).toBe('ns-a');
  });
});

describe('loadConfig: unknown keys', () => {
  it.each([
    [withConfig('selector: []'), 'providers[0].config.selector', 'selectors'],
    [withSelector('max_tag: 5'), 'providers[0].config.selectors[0].max_tag', 'max_tags'],
    [withSelector('exclude_tag: [a]'), 'providers[0].config.selectors[0].exclude_tag', 'exclude_tags'],
    [withConfig('timout: 5'), 'providers[0].config.timout', 'timeout'],
    [withConfig('usernme: x'), 'providers[0].config.usernme', 'username'],
    ['providers:\n  - name: a\n    type: docker\n    confg: {}', 'providers[0].confg', 'config'],
    ['provider:\n  - name: a\n    type: docker', 'provider', 'providers'],
    [
      'discovery:\n  molecule:\n    - { name: a, type: docker }\n  providers:\n    - { name: a, type: docker }',
      'discovery.molecule',
      'molecules',
    ],
    [
      'discovery:\n  molecules:\n    - name: a\n      type: docker\n      config: { selectors: [{ max_tag: 1 }] }',
      'discovery.molecules[0].config.selectors[0].max_tag',
      'max_tags',
    ],
  ])('%#: names the path and suggests a key', (text, path, hint) => {
    const err = loadError(text);
    const message = err.problems.find((p) => p.includes(`${path}:`));
    expect(message, err.problems.join('\n')).toBeDefined();
    expect(message).toContain('unknown key');
    expect(message).toContain(`did you mean ${hint}`);
    expect(err.message).toContain(path);
  });

  it('lists the known keys when nothing is close', () => {
    const err = loadError(withConfig('completely_unrelated: 1'));
    expect(err.problems[0]).toContain('providers[0].config.completely_unrelated');
    expect(err.problems[0]).toContain('unknown key');
    expect(err.problems[0]).not.toContain('did you mean');
    expect(err.problems[0]).toContain('registry_type');
  });
});

describe('loadConfig: wrong values', () => {
  it.each([
    [withConfig('timeout: "abc"'), 'providers[0].config.timeout'],
    [withConfig('timeout: 0'), 'providers[0].config.timeout'],
    [withConfig('timeout: -3'), 'providers[0].config.timeout'],
    [withConfig('selectors: {}'), 'providers[0].config.selectors'],
    [withConfig('selectors: []'), 'providers[0].config.selectors'],
    [withConfig('selectors: "all"'), 'providers[0].config.selectors'],
    [withSelector('max_tags: -1'), 'providers[0].config.selectors[0].max_tags'],
    [withSelector('max_tags: 2.5'), 'providers[0].config.selectors[0].max_tags'],
    [withSelector('max_tags: ten'), 'providers[0].config.selectors[0].max_tags'],
    [withSelector('include_tags: latest'), 'providers[0].config.selectors[0].include_tags'],
    [withSelector('repository_pattern: ""'), 'providers[0].config.selectors[0].repository_pattern'],
    [withConfig('registry_type: dockerhub'), 'providers[0].config.registry_type'],
    [withConfig('registry_type: docker_hub'), 'providers[0].config.registry_type'],
    [withConfig('api_url: registry.example.com'), 'providers[0].config.api_url'],
    [withConfig('api_url: ftp://registry.example.com'), 'providers[0].config.api_url'],
    [withConfig('namespace: Team_A'), 'providers[0].config.namespace'],
    [withConfig('discover_vulnerabilities: sometimes'), 'providers[0].config.discover_vulnerabilities'],
    [withConfig('concurrency: 0'), 'providers[0].config.concurrency'],
    [withConfig('max_pages: 0'), 'providers[0].config.max_pages'],
    ['providers:\n  - name: a\n    type: dockerx', 'providers[0].type'],
    ['providers:\n  - type: docker', 'providers[0].name'],
    ['providers:\n  - name: ""\n    type: docker', 'providers[0].name'],
    ['providers:\n  - name: a', 'providers[0].type'],
    ['providers: []', 'providers'],
    ['providers: {}', 'providers'],
    ['providers:\n  - name: a\n    type: docker\n    config: []', 'providers[0].config'],
  ])('%#: rejects the value and names the path', (text, path) => {
    const err = loadError(text);
    expect(
      err.problems.some((p) => p.startsWith(`${path}:`)),
      err.problems.join('\n'),
    ).toBe(true);
  });

  it('names a missing type or name and what to add, never "undefined"', () => {
    expect(loadError('providers:\n  - name: a').problems).toEqual([
      'providers[0].type: missing; add "type: docker" (Devgraph\'s own files say "type: docker.molecules.devgraph.ai"; both work)',
    ]);
    const both = loadError('providers:\n  - { config: {} }').problems;
    expect(both).toEqual([
      expect.stringMatching(/^providers\[0\]\.name: missing; add "name: /),
      expect.stringMatching(/^providers\[0\]\.type: missing; add "type: docker"/),
    ]);
    expect(both.join('\n')).not.toContain('undefined');
  });

  it('says what it got for a wrong type', () => {
    const err = loadError(withConfig('timeout: "abc"'));
    expect(err.problems).toEqual([
      expect.stringMatching(/^providers\[0\]\.config\.timeout: expected a number/),
    ]);
    expect(err.problems[0]).toContain('got string "abc"');
    expect(err.problems[0]).not.toContain('undefined');
  });

  it('lists the accepted registry types', () => {
    const err = loadError(withConfig('registry_type: dockerhub'));
    expect(err.problems[0]).toMatch(/^providers\[0\]\.config\.registry_type: "dockerhub" is not one of /);
    expect(err.problems[0]).toContain('"docker-hub"');
  });

  it('names the path of an invalid regex', () => {
    const err = loadError(withSelector('exclude_tags: ["ok", "(unclosed"]'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^providers\[0\]\.config\.selectors\[0\]\.exclude_tags\[1\]: /);
    expect(err.problems[0]).toContain('(unclosed');
  });

  it.each([
    ['namespace_pattern: "[a-"', 'providers[0].config.selectors[0].namespace_pattern'],
    ['repository_pattern: "*nginx"', 'providers[0].config.selectors[0].repository_pattern'],
    ['exclude_tags: ["+"]', 'providers[0].config.selectors[0].exclude_tags[0]'],
  ])('invalid regex %s names %s', (line, path) => {
    const err = loadError(withSelector(line));
    expect(err.problems[0]?.startsWith(`${path}:`), err.problems.join('\n')).toBe(true);
  });

  it('rejects duplicate provider names, naming the second', () => {
    const err = loadError(
      [
        'providers:',
        '  - { name: hub, type: docker, config: {} }',
        '  - { name: hub, type: docker, config: {} }',
      ].join('\n'),
    );
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^providers\[1\]\.name: /);
    expect(err.problems[0]).toContain('"hub"');
  });

  it('rejects a password without a username', () => {
    const err = loadError(withConfig('password: some-password'));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^providers\[0\]\.config\.password: /);
    expect(err.problems[0]).toContain('username');
    expect(err.message).not.toContain('some-password');
  });

  it('accepts a token without a username', () => {
    expect(load(withConfig('token: only-a-token')).providers[0]!.credentials).toEqual({
      token: 'only-a-token',
    });
  });

  it.each(['', '   \n', '# only a comment\n', '---\n', 'null'])('rejects an empty file (%j)', (text) => {
    const err = loadError(text);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('test.yml');
    expect(err.problems[0]).toContain('empty');
  });

  it.each(['providers: [', 'providers:\n  - name: a\n   type: docker', 'a: b: c', 'providers: {a: 1, a: 2}'])(
    'rejects invalid YAML (%j), naming the origin',
    (text) => {
      const err = loadError(text);
      expect(err.problems.length).toBeGreaterThan(0);
      for (const p of err.problems) expect(p).toMatch(/^test\.yml: not valid YAML/);
    },
  );

  it.each(['{}', 'discovery:\n  environment: x', 'discovery: {}'])(
    'rejects a file with no providers (%j)',
    (text) => {
      const err = loadError(text);
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toContain('test.yml');
      expect(err.problems[0]).toContain('providers');
    },
  );

  it.each(['- a\n- b', '"just a string"', '42'])('rejects a document that is not a mapping (%j)', (text) => {
    expect(loadError(text).problems.length).toBeGreaterThan(0);
  });

  it.each([
    [
      'providers',
      'discovery.molecules',
      'providers:\n  - { name: a, type: docker }\ndiscovery:\n  molecules:\n    - { name: b, type: docker }',
    ],
    [
      'providers',
      'discovery.providers',
      'providers:\n  - { name: a, type: docker }\ndiscovery:\n  providers:\n    - { name: b, type: docker }',
    ],
    [
      'discovery.providers',
      'discovery.molecules',
      'discovery:\n  providers:\n    - { name: a, type: docker }\n  molecules:\n    - { name: b, type: docker }',
    ],
  ])('rejects providers given in both %s and %s', (a, b, text) => {
    const err = loadError(text);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain(a);
    expect(err.problems[0]).toContain(b);
  });
});

describe('loadConfig: every problem at once', () => {
  it('lists several schema problems together', () => {
    const err = loadError(
      withConfig(
        'timeout: "abc"',
        'registry_type: dockerhub',
        'selector: []',
        'selectors:',
        '  - max_tag: 1',
      ),
    );
    const all = err.problems.join('\n');
    expect(all).toContain('providers[0].config.timeout');
    expect(all).toContain('providers[0].config.registry_type');
    expect(all).toContain('providers[0].config.selector');
    expect(all).toContain('providers[0].config.selectors[0].max_tag');
    expect(err.message).toContain('problems in the configuration');
  });

  it('lists problems across providers together', () => {
    const err = loadError(
      [
        'providers:',
        '  - { name: a, type: docker, config: { timeout: x } }',
        '  - { name: b, type: dockr }',
        '  - { name: c, type: docker, config: { selectors: [{ max_tags: -2 }] } }',
      ].join('\n'),
    );
    const all = err.problems.join('\n');
    expect(all).toContain('providers[0].config.timeout');
    expect(all).toContain('providers[1].type');
    expect(all).toContain('providers[2].config.selectors[0].max_tags');
  });

  it('lists semantic problems together: duplicate names, password without username, invalid regexes', () => {
    const err = loadError(
      [
        'providers:',
        '  - name: a',
        '    type: docker',
        '    config:',
        '      password: pw-without-user',
        '      selectors:',
        '        - namespace_pattern: "("',
        '          exclude_tags: ["[", "ok", ")"]',
        '  - name: a',
        '    type: docker',
        '    config: {}',
      ].join('\n'),
    );
    expect(err.problems).toHaveLength(5);
    const all = err.problems.join('\n');
    expect(all).toContain('providers[0].config.password');
    expect(all).toContain('providers[0].config.selectors[0].namespace_pattern');
    expect(all).toContain('providers[0].config.selectors[0].exclude_tags[0]');
    expect(all).toContain('providers[0].config.selectors[0].exclude_tags[2]');
    expect(all).toContain('providers[1].name');
  });

  it('lists a schema problem and an invalid regex together', () => {
    const err = loadError(withConfig('timeout: "abc"', 'selectors:', '  - exclude_tags: ["(unclosed"]'));
    const all = err.problems.join('\n');
    expect(all).toContain('providers[0].config.timeout');
    expect(all).toContain('providers[0].config.selectors[0].exclude_tags[0]');
  });

  it('lists an unset variable and an unknown key together', () => {
    const err = loadError(withConfig('token: ${MISSING_TOKEN}', 'selector: []'));
    const all = err.problems.join('\n');
    expect(all).toContain('MISSING_TOKEN');
    expect(all).toContain('providers[0].config.selector');
  });
});

describe('loadConfig: secrets', () => {
  it.each([
    ['password', withConfig('username: robot', 'password: p4ssw0rd-literal'), 'p4ssw0rd-literal'],
    ['token', withConfig('token: ghp_abcdefghijklmnop'), 'ghp_abcdefghijklmnop'],
    [
      'discovery.opaque_token',
      [
        'discovery:',
        '  opaque_token: dg-opaque-secret',
        '  molecules:',
        '    - { name: a, type: docker, config: {} }',
      ].join('\n'),
      'dg-opaque-secret',
    ],
  ])('registers %s with Secrets', (_name, text, secret) => {
    const secrets = new Secrets();
    load(text, {}, secrets);
    expect(secrets.redact(`x${secret}`)).toBe('x***');
    expect(secrets.redact(`auth ${Buffer.from(secret).toString('base64')}`)).toBe('auth ***');
  });

  it('registers interpolated credentials (the value, not the expression)', () => {
    const secrets = new Secrets();
    load(
      withConfig('username: robot', 'password: ${PW}', 'token: ${TK:-default-token-value}'),
      { PW: 'from-env-pw' },
      secrets,
    );
    expect(secrets.redact('xfrom-env-pw')).toBe('x***');
    expect(secrets.redact('xdefault-token-value')).toBe('x***');
  });

  it('registers credentials of every provider', () => {
    const secrets = new Secrets();
    const seen: string[] = [];
    const tracking = new Secrets((v) => seen.push(v));
    const text = [
      'providers:',
      '  - { name: a, type: docker, config: { token: first-token } }',
      '  - { name: b, type: docker, config: { username: u, password: second-password } }',
    ].join('\n');
    load(text, {}, secrets);
    load(text, {}, tracking);
    expect(secrets.redact('first-token second-password')).toBe('*** ***');
    expect(seen).toContain('first-token');
    expect(seen).toContain('second-password');
  });

  it('registers credentials even when a later check fails', () => {
    const secrets = new Secrets();
    loadError(
      [
        'providers:',
        '  - { name: a, type: docker, config: { token: dup-secret-token } }',
        '  - { name: a, type: docker, config: {} }',
      ].join('\n'),
      {},
      secrets,
    );
    expect(secrets.redact('xdup-secret-token')).toBe('x***');
  });

  it('does not register the username', () => {
    const secrets = new Secrets();
    load(withConfig('username: robot-user', 'password: robot-password'), {}, secrets);
    expect(secrets.redact('robot-user')).toBe('robot-user');
  });

  it('does not echo a credential of the wrong type in the error', () => {
    // YAML reads an unquoted numeric password as a number; the message must not print it.
    const err = loadError(withConfig('username: robot', 'password: 98765432'));
    expect(err.problems.join('\n')).toContain('providers[0].config.password');
    expect(err.message).not.toContain('98765432');
  });
});

describe('compilePattern: Python re.match semantics (IGNORECASE, anchored at the start only)', () => {
  it.each<[string, string, boolean]>([
    ['nginx', 'nginx', true],
    ['nginx', 'nginx-extra', true],
    ['nginx', 'NGINX', true],
    ['NGINX', 'nginx', true],
    ['nginx', 'my-nginx', false],
    ['nginx', 'ngin', false],
    ['.*nginx', 'my-nginx', true],
    ['^(nginx|redis)$', 'redis', true],
    ['^(nginx|redis)$', 'redis-x', false],
    ['nginx|redis', 'redis-x', true],
    ['nginx|redis', 'my-redis', false],
    ['a|b$', 'ax', true],
    ['.*', '', true],
    ['library', '', false],
    ['.*-rc.*', '1.0-rc1', true],
    ['.*-rc.*', '1.0', false],
    ['v\\d+', 'v12.3', true],
    ['[a-z]+$', 'abc1', false],
  ])('%s on %s → %s', (source, value, expected) => {
    expect(pattern(source).test(value)).toBe(expected);
  });

  it('keeps the source', () => {
    expect(pattern('^(a|b)').source).toBe('^(a|b)');
  });

  it('is stateless across calls (no lastIndex carry-over)', () => {
    const p = pattern('a');
    expect([p.test('a'), p.test('a'), p.test('a')]).toEqual([true, true, true]);
  });

  it.each(['(', '[a-', '*x', '+', '(?<n>a)(?<n>b)'])('reports %s as invalid', (source) => {
    const result = compilePattern(source);
    expect('error' in result).toBe(true);
    if ('error' in result) expect(result.error).toContain(JSON.stringify(source));
  });

  it.each([
    ['.*\\-rc', '1.0-rc1'],
    ['[\\w\\-]+', 'a-b'],
  ])('accepts escapes Python accepts: %s', (source, value) => {
    const result = compilePattern(source);
    expect('error' in result ? result.error : undefined).toBeUndefined();
    if ('pattern' in result) expect(result.pattern.test(value)).toBe(true);
  });
});
