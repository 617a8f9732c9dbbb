// The config's JSON Schema (schema/devgraph-docker.schema.json), as an editor or CI would use it:
// checked by ajv, a standard validator, in its draft-07 build (the draft the schema is written in).
// It is what the Zod schema generates, every example and documented config names it and passes it,
// and it refuses what the loader refuses wherever JSON Schema can say so. The loader's checks it
// cannot say are listed below with the reason, each shown to pass the schema and fail the loader.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema, SCHEMA_FILE, SCHEMA_URL } from '../../src/config/json-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { Secrets } from '../../src/secrets.js';
import { withConfig, withSelector } from '../support/config-text.js';
import { codeBlocks, documentationFiles, root } from '../support/documentation.js';

type Env = Record<string, string | undefined>;

const committed = readFileSync(join(root, SCHEMA_FILE), 'utf8');
// strictTypes off: JSON Schema lets `required` and `properties` stand without a `type` (in `if`,
// `oneOf`), which ajv's stricter-than-the-standard mode would only warn about. Unknown keywords and
// formats still fail compilation.
const ajv = new Ajv.default({ allErrors: true, strictTypes: false });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(committed) as object);

const MODELINE = `# yaml-language-server: $schema=${SCHEMA_URL}`;

/** The schema's verdict on a YAML text: the problems, as ajv words them (none: valid). */
function schemaProblems(text: string): string[] {
  if (validate(parse(text))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
}

/** Where the schema's problems are, written as the loader writes paths (`providers[0].config`; root ''). */
function schemaPaths(text: string): string[] {
  validate(parse(text));
  return (validate.errors ?? []).map((e) =>
    e.instancePath
      .split('/')
      .slice(1)
      .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
      .join('')
      .replace(/^\./, ''),
  );
}

/** The loader's problems (none: it loads). */
function loaderProblems(text: string, env: Env = {}): string[] {
  try {
    loadConfig(text, { env, secrets: new Secrets(), origin: 'test.yml' });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

/** Any ${VAR} a documented config references, set as a workflow's env would set it. */
function envFor(text: string): Env {
  return Object.fromEntries(
    [...text.matchAll(/\$\{(\w+)(?::-[^}]*)?\}/g)].map((m) => [m[1]!, `${m[1]}-value`]),
  );
}

const PRIVATE = ['registry_type: private', 'api_url: https://registry.example.com'];

const examples = readdirSync(join(root, 'examples', 'configs'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => ({
    where: `examples/configs/${f}`,
    text: readFileSync(join(root, 'examples', 'configs', f), 'utf8'),
  }));

/** Every YAML block of README.md and docs/ whose top level is a config file's. */
const documented = documentationFiles()
  .flatMap(codeBlocks)
  .filter((b) => b.lang === 'yaml' || b.lang === 'yml')
  .filter((b) => {
    const doc = parse(b.text) as unknown;
    return (
      !!doc && typeof doc === 'object' && !Array.isArray(doc) && ('providers' in doc || 'discovery' in doc)
    );
  })
  .map((b) => ({ where: `${b.path}:${b.line}`, text: b.text }));

describe('the config JSON Schema', () => {
  it(`${SCHEMA_FILE} is what the Zod schema generates (npm run docs rewrites it)`, () => {
    expect(committed).toBe(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

  it('describes every key', () => {
    const undescribed: string[] = [];
    const visit = (node: unknown, at: string) => {
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (k === 'properties')
          for (const [name, property] of Object.entries(v as Record<string, { description?: string }>)) {
            if (!at.includes('/if') && !at.includes('/then') && !at.includes('Of/') && !property.description)
              undescribed.push(`${at}/${name}`);
            visit(property, `${at}/${name}`);
          }
        else visit(v, `${at}/${k}`);
      }
    };
    visit(JSON.parse(committed), '');
    expect(undescribed).toEqual([]);
  });

  it('gives the defaults the loader fills in', () => {
    const schema = JSON.parse(committed) as {
      definitions: {
        provider: { properties: { config: { properties: Record<string, { default?: unknown }> } } };
      };
    };
    const config = schema.definitions.provider.properties.config.properties;
    const selector = (config.selectors as { items: { properties: Record<string, { default?: unknown }> } })
      .items.properties;
    const loaded = loadConfig(withSelector('retention: { keep_newest: 1 }'), {
      env: {},
      secrets: new Secrets(),
      origin: 'test.yml',
    }).providers[0]!;
    expect(loaded.timeoutMs).toBe((config.timeout!.default as number) * 1000);
    expect(loaded.namespace).toBe(config.namespace!.default);
    expect(loaded.maxPages).toBe(config.max_pages!.default);
    expect(loaded.readManifests).toBe(config.read_manifests!.default);
    expect(loaded.discoverVulnerabilities).toBe(config.discover_vulnerabilities!.default);
    expect(loaded.selectors[0]!.maxTags).toBe(selector.max_tags!.default);
    const retention = selector.retention as unknown as { properties: Record<string, { default?: unknown }> };
    expect(loaded.selectors[0]!.retention!.protectInUse).toBe(retention.properties.protect_in_use!.default);
    expect(config.selectors!.default).toEqual([{}]);
  });

  it('is found by the examples in the documentation', () => {
    expect(examples.length).toBeGreaterThanOrEqual(9);
    expect(documented.length).toBeGreaterThan(examples.length);
  });

  for (const { where, text } of [...examples, ...documented]) {
    it(`${where} names the schema in its first line, passes it and loads`, () => {
      expect(text.split('\n')[0]).toBe(MODELINE);
      expect(schemaProblems(text)).toEqual([]);
      expect(loaderProblems(text, envFor(text))).toEqual([]);
    });
  }
});

/** Configs the loader takes (with this environment), which the schema must take too. */
const ACCEPTED: Array<[string, string, Env]> = [
  ['the whole value from the environment', withConfig('api_url: "${HOST}"'), { HOST: 'https://r.example' }],
  ['part of a URL from the environment', withConfig('api_url: "https://${HOST}/"'), { HOST: 'r.example' }],
  ['a default after :-', withConfig('api_url: "${HOST:-https://fallback.example}"'), {}],
  ['two references', withConfig('api_url: "https://${A}.${B:-example}"'), { A: 'r' }],
  ['a typed number from the environment', withConfig('timeout: ${T:-5}'), {}],
  [
    'a typed boolean and integer',
    withConfig('discover_vulnerabilities: ${V:-true}', 'selectors:', '  - max_tags: ${N}'),
    { N: '0' },
  ],
  [
    'the registry type from the environment',
    withConfig('registry_type: ${TYPE}', 'api_url: https://r.example'),
    {
      TYPE: 'harbor',
    },
  ],
  ['an escaped reference is text', withConfig('username: u', 'password: "$${PW}"'), {}],
  ['a lone $ is text', withConfig('username: u', 'password: "pa$$word$"'), {}],
  ['a token without a username', withConfig('token: only-a-token'), {}],
  [
    'read_manifests: false on Harbor',
    withConfig('registry_type: harbor', 'api_url: https://h.example', 'read_manifests: false'),
    {},
  ],
  ['keep_newest: 0', withSelector('retention: { keep_newest: 0 }'), {}],
  [
    'durations',
    withSelector('retention: { older_than: 30d, untagged_older_than: 12h, keep_tags: ["^v"] }'),
    {},
  ],
  [
    'require with platforms and max_critical 0',
    withSelector('require: { platforms: [linux/arm64/v8], max_critical: 0 }'),
    {},
  ],
  [
    "Devgraph's discovery file",
    'discovery:\n  environment: prod\n  molecules:\n    - { name: a, type: docker.molecules.devgraph.ai }',
    {},
  ],
  ['Python named groups, which RE2 reads', withSelector('repository_pattern: "(?P<app>api)-.*"'), {}],
];

/** Configs the loader refuses (the loader tests' bad inputs), which the schema must refuse too. */
const REFUSED: Array<[string, string]> = [
  // Wrong types and values.
  ['a duration in timeout', withConfig('timeout: 30s')],
  ['a quoted number', withSelector('max_tags: "5"')],
  ['timeout: "abc"', withConfig('timeout: "abc"')],
  ['timeout: 0', withConfig('timeout: 0')],
  ['timeout: -3', withConfig('timeout: -3')],
  ['timeout: .inf', withConfig('timeout: .inf')],
  ['a number that is part of a reference', withConfig('timeout: "3${T}"')],
  ['max_pages: 1.5', withConfig('max_pages: 1.5')],
  ['max_pages: 0', withConfig('max_pages: 0')],
  ['concurrency: 0', withConfig('concurrency: 0')],
  ['concurrency: 100000', withConfig('concurrency: 100000')],
  ['max_tags: -1', withSelector('max_tags: -1')],
  ['max_tags: 2.5', withSelector('max_tags: 2.5')],
  ['max_tags: ten', withSelector('max_tags: ten')],
  ['a number among tags', withSelector('include_tags: [1.10, latest]')],
  ['an empty tag', withSelector('include_tags: [""]')],
  ['include_tags not a list', withSelector('include_tags: latest')],
  ['exclude_tags not a list', withSelector('exclude_tags: "-rc"')],
  ['an empty pattern', withSelector('repository_pattern: ""')],
  ['selectors as a mapping', withConfig('selectors: { namespace_pattern: library }')],
  ['selectors empty', withConfig('selectors: []')],
  ['selectors a string', withConfig('selectors: "all"')],
  ['a selector that is a string', withConfig('selectors: [library]')],
  ['registry_type: dockerhub', withConfig('registry_type: dockerhub')],
  ['registry_type: docker_hub', withConfig('registry_type: docker_hub')],
  ['api_url without a scheme', withConfig('api_url: registry.example.com')],
  ['api_url over ftp', withConfig('api_url: ftp://registry.example.com')],
  ['namespace: Team_A', withConfig('namespace: Team_A')],
  ['discover_vulnerabilities: sometimes', withConfig('discover_vulnerabilities: sometimes')],
  [
    'read_manifests: "no"',
    withConfig('registry_type: harbor', 'api_url: https://h.example', 'read_manifests: "no"'),
  ],
  ['a boolean that is not a typed key from the environment', withConfig('read_manifests: ${RM:-true}')],
  ['type: dockerx', 'providers:\n  - name: a\n    type: dockerx'],
  ['no name', 'providers:\n  - type: docker'],
  ['an empty name', 'providers:\n  - name: ""\n    type: docker'],
  ['no type', 'providers:\n  - name: a'],
  ['providers: []', 'providers: []'],
  ['providers: {}', 'providers: {}'],
  ['config: []', 'providers:\n  - name: a\n    type: docker\n    config: []'],
  // Unknown keys.
  ['selector', withConfig('selector: []')],
  ['max_tag', withSelector('max_tag: 5')],
  ['namespace in a selector', withSelector('namespace: library')],
  ['registry', withConfig('registry: ghcr')],
  ['confg', 'providers:\n  - name: a\n    type: docker\n    confg: {}'],
  ['provders', 'provders:\n  - { name: a, type: docker }'],
  ['discovery.molecule', 'discovery:\n  molecule:\n    - { name: a, type: docker }'],
  ['__proto__', withConfig('__proto__: { timeout: 1 }')],
  // Retention and require.
  ['a duration without its unit', withSelector('retention: { older_than: 30 }')],
  ['a duration in words', withSelector('retention: { untagged_older_than: 7 days }')],
  ['months', withSelector('retention: { older_than: 3m }')],
  ['a zero duration', withSelector('retention: { untagged_older_than: 0h }')],
  ['seven digits', withSelector('retention: { older_than: 1234567d }')],
  ['keep_newest: -1', withSelector('retention: { keep_newest: -1 }')],
  ['keep_last', withSelector('retention: { keep_last: 5 }')],
  [
    'a retention that deletes nothing',
    withSelector('retention: { keep_tags: ["^v"], protect_in_use: false }'),
  ],
  ['protect_in_use: "yes"', withSelector('retention: { keep_newest: 3, protect_in_use: "yes" }')],
  ['a require that requires nothing', withSelector('require: { signed: false }')],
  ['an empty require', withSelector('require: {}')],
  ['a platform without its architecture', withSelector('require: { platforms: [linux] }')],
  ['verified without keys', withSelector('require: { verified: true }')],
  // Across keys.
  ['a private registry without api_url', withConfig('registry_type: private')],
  ['a username without a password', withConfig(...PRIVATE, 'username: ci')],
  ['a password without a username', withConfig(...PRIVATE, 'password: hunter2-secret')],
  ['read_manifests: false on a plain registry', withConfig(...PRIVATE, 'read_manifests: false')],
  [
    'read_manifests: false on an inferred ACR',
    withConfig('api_url: https://myregistry.azurecr.io', 'read_manifests: false'),
  ],
  [
    'credentials in the URL',
    withConfig('registry_type: private', 'api_url: https://ci:hunter2@registry.example.com'),
  ],
  ['credentials in an interpolated URL', withConfig('api_url: "https://${USER}@r.example"')],
  // Credentials and references.
  ['an empty password', withConfig(...PRIVATE, 'username: ci', 'password: ""')],
  ['a reference with a dash', withConfig(...PRIVATE, 'username: ci', 'password: ${REGISTRY-PASSWORD}')],
  ['a default without :-', withConfig('api_url: ${REGISTRY_URL:https://registry.example.com}')],
  [
    'a shell variable as the password',
    withConfig(...PRIVATE, 'username: ci', 'password: $REGISTRY_PASSWORD'),
  ],
  [
    'a GitHub expression',
    withConfig(...PRIVATE, 'username: ci', 'password: ${{ secrets.REGISTRY_PASSWORD }}'),
  ],
  ['a malformed reference in a pattern', withSelector('exclude_tags: ["${MY-VAR}"]')],
  // The file as a whole.
  ['an empty file', ''],
  ['null', 'null'],
  ['a list', '- a\n- b'],
  ['a string', '"just a string"'],
  ['a number', '42'],
  ['no providers', '{}'],
  ['only discovery settings', 'discovery:\n  environment: x'],
  ['empty discovery', 'discovery: {}'],
  [
    'providers and discovery.molecules',
    'providers:\n  - { name: a, type: docker }\ndiscovery:\n  molecules:\n    - { name: b, type: docker }',
  ],
  [
    'providers and discovery.providers',
    'providers:\n  - { name: a, type: docker }\ndiscovery:\n  providers:\n    - { name: b, type: docker }',
  ],
  [
    'discovery.providers and .molecules',
    'discovery:\n  providers:\n    - { name: a, type: docker }\n  molecules:\n    - { name: b, type: docker }',
  ],
];

/**
 * What only the loader can check, and why a JSON Schema cannot. Not here because they never reach
 * a schema: YAML syntax (duplicate keys, tabs, two documents, an open quote, alias bombs), which the
 * editor's YAML parser reports, and the 1 MB limit on the file's size, which is no property of its data.
 */
const LOADER_ONLY: Array<[string, string, string, Env]> = [
  [
    'provider names must be unique',
    'uniqueItems compares whole items, not one key of them',
    'providers:\n  - { name: hub, type: docker }\n  - { name: hub, type: docker }',
    {},
  ],
  [
    'a pattern that does not compile',
    "patterns are compiled by RE2 with Python's syntax; JSON Schema's regex format is ECMAScript's, which refuses (?P<name>) that RE2 reads",
    withSelector('exclude_tags: ["(unclosed"]'),
    {},
  ],
  [
    'a backreference, which RE2 refuses',
    'the restrictions are RE2 features, known only by compiling the pattern',
    withSelector('repository_pattern: "(a)\\\\1"'),
    {},
  ],
  [
    'a pattern past the size limit',
    'the limit is on the compiled program, not on the text',
    withSelector(`repository_pattern: "${'[a-z]{1000}'.repeat(6)}"`),
    {},
  ],
  [
    'an unset variable',
    'the environment is known only when the config is loaded',
    withConfig('username: robot', 'password: ${DOCKER_PASSWORD}'),
    {},
  ],
  [
    'an interpolated value that is wrong once read',
    'the value comes from the environment when the config is loaded',
    withConfig('timeout: ${T}'),
    { T: 'soon' },
  ],
  [
    'a verify key that is not a PEM public key',
    'the key is parsed (PEM armour, key type, a private key refused) by code',
    withConfig('verify: { keys: [not-a-key] }'),
    {},
  ],
];

describe('the schema refuses what the loader refuses', () => {
  it.each(ACCEPTED)('accepts %s, as the loader does', (_name, text, env) => {
    expect(loaderProblems(text, env)).toEqual([]);
    expect(schemaProblems(text)).toEqual([]);
  });

  it.each(REFUSED)(
    'refuses %s, as the loader does, at the same key or the mapping holding it',
    (_name, text) => {
      const loader = loaderProblems(text).map((p) => p.slice(0, p.indexOf(': ')));
      expect(loader).not.toEqual([]);
      expect(schemaProblems(text)).not.toEqual([]);
      // A problem with the file as a whole is the loader's "test.yml" and the schema's root.
      const within = (key: string, at: string) =>
        at === '' || key === at || key.startsWith(`${at}.`) || key.startsWith(`${at}[`);
      const paths = schemaPaths(text);
      expect(
        paths.some((at) => loader.some((key) => within(key, at))),
        `loader: ${loader.join(', ')}; schema: ${paths.join(', ')}`,
      ).toBe(true);
    },
  );

  it.each(LOADER_ONLY)('leaves to the loader: %s (%s)', (_name, _why, text, env) => {
    expect(loaderProblems(text, env)).not.toEqual([]);
    expect(schemaProblems(text)).toEqual([]);
  });
});
