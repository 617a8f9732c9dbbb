import { parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Secrets } from '../secrets.js';
import { didYouMean } from './did-you-mean.js';
import { interpolate } from './interpolate.js';
import { compilePattern, type Pattern } from './pattern.js';
import { resolveRegistryType } from './registry-hosts.js';
import {
  ConfigFileSchema,
  DEFAULT_API_URLS,
  DEFAULT_HUB_URL,
  type DockerConfig,
  knownKeysAt,
  type ProviderConfig,
  REGISTRY_TYPES,
  type RegistryType,
} from './schema.js';
import type { ProviderSettings, Requirements, RetentionRules, Settings } from './settings.js';
import { parseVerifyKey, type VerifyKey } from './verify-keys.js';

export interface LoadOptions {
  env: Record<string, string | undefined>;
  secrets: Secrets;
  /** Where the text came from, for messages ("config input", a file path). */
  origin: string;
}

/**
 * Largest config accepted, in bytes. Real configs are a few KB (a provider per registry, patterns
 * rather than lists); parsing a megabyte already takes about a second, so anything past this is
 * refused at once rather than left to grind through YAML and validation.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Problems listed in one error; past this a config is wrong throughout, and more would bury it. */
const MAX_PROBLEMS = 50;

/** Parses, interpolates and validates a config document; every problem is reported at once. */
export function loadConfig(text: string, opts: LoadOptions): Settings {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) {
    throw new ConfigError([
      `${opts.origin}: the config is ${(bytes / 1024 / 1024).toFixed(1)} MB, over the 1 MB limit; a config is a few KB: one provider per registry, and selector patterns such as "^(api|web)$" instead of lists of repositories`,
    ]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  // Only the first: a YAML mistake usually sets off a chain of errors after it that all go away
  // when it is fixed.
  const yamlError = doc.errors[0];
  if (yamlError) throw new ConfigError([yamlProblem(yamlError, text, opts.origin)]);
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // The yaml package refuses aliases that expand past its limit (a "billion laughs" document).
    throw new ConfigError([
      `${opts.origin}: not valid YAML: ${err instanceof Error ? err.message : String(err)}; write the values out instead of repeating them through *aliases`,
    ]);
  }
  if (raw === null || raw === undefined) {
    throw new ConfigError([
      `${opts.origin}: the config is empty; it needs a "providers:" list (see README "Configuration")`,
    ]);
  }
  const { value, problems } = interpolate(raw, opts.env);
  registerSecrets(value, opts.secrets);
  // Every problem is reported at once: unset variables, schema issues and cross-field checks. A
  // field whose variable is unset is reported once, not again as an empty value.
  const parsed = ConfigFileSchema.safeParse(value, { reportInput: true });
  const unset = new Set(problems.map((p) => p.path));
  const schemaProblems = parsed.success
    ? []
    : formatIssues(parsed.error.issues.filter((i) => !unset.has(formatPath(i.path))));
  const crossProblems = crossFieldProblems(value).filter((m) => !unset.has(m.slice(0, m.indexOf(': '))));
  const all = [...problems.map((p) => p.message), ...schemaProblems, ...crossProblems];
  if (all.length > MAX_PROBLEMS) {
    throw new ConfigError([
      ...all.slice(0, MAX_PROBLEMS),
      `… and ${all.length - MAX_PROBLEMS} more problems; fix the ones above and run again`,
    ]);
  }
  if (all.length > 0 || !parsed.success) throw new ConfigError(all);
  const file = parsed.data;

  const lists = [
    ['providers', file.providers],
    ['discovery.providers', file.discovery?.providers],
    ['discovery.molecules', file.discovery?.molecules],
  ] as const;
  const present = lists.filter(([, list]) => list !== undefined);
  if (present.length === 0) {
    throw new ConfigError([
      `${opts.origin}: no providers; add a "providers:" list (or Devgraph's "discovery.molecules:") with at least one docker provider`,
    ]);
  }
  if (present.length > 1) {
    throw new ConfigError([
      `${opts.origin}: providers are given in both ${present.map(([k]) => k).join(' and ')}; keep one list`,
    ]);
  }
  const [listPath, providers] = present[0]!;

  const errors: string[] = [];
  const settings: ProviderSettings[] = [];
  providers!.forEach((p, i) => {
    const built = buildProvider(p, `${listPath}[${i}]`, errors);
    if (built) settings.push(built);
  });
  if (errors.length > 0) throw new ConfigError(errors);

  return {
    providers: settings,
    ...(file.discovery
      ? {
          devgraph: {
            apiBaseUrl: file.discovery.api_base_url,
            environment: file.discovery.environment,
            token: file.discovery.opaque_token,
          },
        }
      : {}),
  };
}

function buildProvider(p: ProviderConfig, path: string, errors: string[]): ProviderSettings | undefined {
  const c: DockerConfig = p.config;
  const cpath = `${path}.config`;
  const compile = (source: string, at: string) => {
    const result = compilePattern(source);
    if ('error' in result) {
      errors.push(`${at}: ${result.error}`);
      return undefined;
    }
    return result.pattern;
  };
  const selectors = c.selectors.map((s, i) => {
    const spath = `${cpath}.selectors[${i}]`;
    return {
      namespacePattern: compile(s.namespace_pattern, `${spath}.namespace_pattern`)!,
      repositoryPattern: compile(s.repository_pattern, `${spath}.repository_pattern`)!,
      ...(s.include_tags ? { includeTags: new Set(s.include_tags) } : {}),
      excludeTags: (s.exclude_tags ?? []).map((x, j) => compile(x, `${spath}.exclude_tags[${j}]`)!),
      maxTags: s.max_tags,
      ...(s.require ? { require: requirements(s.require) } : {}),
      ...(s.retention
        ? {
            retention: retentionRules(
              s.retention,
              (x, j) => compile(x, `${spath}.retention.keep_tags[${j}]`)!,
            ),
          }
        : {}),
    };
  });
  const registry = resolveRegistryType(c.registry_type, c.api_url, c.hub_url !== undefined);
  const verifyKeys = c.verify?.keys.flatMap((text, i): VerifyKey[] => {
    const at = `${cpath}.verify.keys[${i}]`;
    const parsed = parseVerifyKey(text, at);
    if ('key' in parsed) return [parsed.key];
    errors.push(`${at}: ${parsed.error}`);
    return [];
  });
  return {
    name: p.name,
    namespace: c.namespace,
    registryType: registry.type,
    ...(registry.note ? { registryTypeNote: registry.note } : {}),
    apiUrl: normaliseApiUrl(c.api_url ?? DEFAULT_API_URLS[registry.type]!),
    hubUrl: (c.hub_url ?? DEFAULT_HUB_URL).replace(/\/+$/, ''),
    ...(c.github_api_url ? { githubApiUrl: c.github_api_url.replace(/\/+$/, '') } : {}),
    ...(c.ecr_api_url ? { ecrApiUrl: c.ecr_api_url.replace(/\/+$/, '') } : {}),
    ...(c.region ? { region: c.region } : {}),
    credentials: {
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(c.token !== undefined ? { token: c.token } : {}),
    },
    timeoutMs: Math.round(c.timeout * 1000),
    discoverVulnerabilities: c.discover_vulnerabilities,
    readManifests: c.read_manifests,
    ...(c.supply_chain !== undefined ? { supplyChain: c.supply_chain } : {}),
    selectors,
    ...(c.concurrency !== undefined ? { concurrency: c.concurrency } : {}),
    maxPages: c.max_pages,
    ...(verifyKeys ? { verifyKeys } : {}),
  };
}

/** A selector's `require:` as settings: rules set to false are left out, as not required. */
function requirements(r: NonNullable<DockerConfig['selectors'][number]['require']>): Requirements {
  return {
    ...(r.signed ? { signed: true } : {}),
    ...(r.verified ? { verified: true } : {}),
    ...(r.sbom ? { sbom: true } : {}),
    ...(r.provenance ? { provenance: true } : {}),
    ...(r.platforms ? { platforms: r.platforms } : {}),
    ...(r.max_critical !== undefined ? { maxCritical: r.max_critical } : {}),
  };
}

/** A selector's `retention:` as settings, its keep_tags compiled by `compile`. */
function retentionRules(
  r: NonNullable<DockerConfig['selectors'][number]['retention']>,
  compile: (source: string, index: number) => Pattern,
): RetentionRules {
  return {
    ...(r.keep_newest !== undefined ? { keepNewest: r.keep_newest } : {}),
    keepTags: (r.keep_tags ?? []).map(compile),
    ...(r.older_than ? { olderThan: r.older_than } : {}),
    ...(r.untagged_older_than ? { untaggedOlderThan: r.untagged_older_than } : {}),
    protectInUse: r.protect_in_use,
    ...(r.ecr_lifecycle_policy !== undefined ? { ecrLifecyclePolicy: r.ecr_lifecycle_policy } : {}),
  };
}

const API_URL_EXAMPLES: Partial<Record<RegistryType, string>> = {
  ecr: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com (or https://public.ecr.aws)',
  acr: 'https://myregistry.azurecr.io',
  harbor: 'https://harbor.example.com',
  nexus: 'https://nexus.example.com/repository/docker-hosted',
  artifactory: 'https://example.jfrog.io/artifactory/api/docker/docker-local',
};

/** Docker Hub's registry answers at registry-1.docker.io; docker.io and index.docker.io are its aliases. */
function normaliseApiUrl(url: string): string {
  const host = new URL(url).hostname;
  if (host === 'docker.io' || host === 'index.docker.io') return 'https://registry-1.docker.io';
  return url.replace(/\/+$/, '');
}

const SECRET_KEYS = new Set(['password', 'token', 'opaque_token']);

/** Credentials are registered as soon as they are read, before anything can print them. */
function registerSecrets(node: unknown, secrets: Secrets): void {
  if (Array.isArray(node)) for (const item of node) registerSecrets(item, secrets);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (SECRET_KEYS.has(k) && typeof v === 'string') secrets.add(v);
      else registerSecrets(v, secrets);
    }
  }
}

/** Checks across fields, made on the raw document so they are reported with the schema's problems. */
function crossFieldProblems(doc: unknown): string[] {
  const out: string[] = [];
  const record = (v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const top = record(doc);
  const discovery = record(top?.discovery);
  const lists: Array<[string, unknown]> = [
    ['providers', top?.providers],
    ['discovery.providers', discovery?.providers],
    ['discovery.molecules', discovery?.molecules],
  ];
  for (const [listPath, list] of lists) {
    if (!Array.isArray(list)) continue;
    const names = new Set<unknown>();
    list.forEach((item, i) => {
      const p = record(item);
      const path = `${listPath}[${i}]`;
      if (typeof p?.name === 'string') {
        if (names.has(p.name))
          out.push(`${path}.name: "${p.name}" is used by another provider; provider names must be unique`);
        names.add(p.name);
      }
      const c = record(p?.config);
      const type =
        c?.registry_type ??
        resolveRegistryType(
          undefined,
          typeof c?.api_url === 'string' ? c.api_url : undefined,
          c?.hub_url !== undefined,
        ).type;
      if (
        c &&
        c.api_url === undefined &&
        typeof type === 'string' &&
        REGISTRY_TYPES.includes(type as RegistryType) &&
        !DEFAULT_API_URLS[type as RegistryType]
      ) {
        out.push(
          `${path}.config.api_url: required for registry_type ${type}; set the registry's URL, e.g. ${API_URL_EXAMPLES[type as RegistryType] ?? 'https://registry.example.com'}`,
        );
      }
      if (c && c.password !== undefined && c.username === undefined) {
        out.push(
          `${path}.config.password: given without username; add username (or use token for a bearer token)`,
        );
      }
      if (c && c.username !== undefined && c.password === undefined && c.token === undefined) {
        out.push(
          `${path}.config.username: given without password or token; add password (or token), or remove username to use Docker's config.json (docker login) or no credentials`,
        );
      }
      if (Array.isArray(c?.selectors) && c.verify === undefined) {
        c.selectors.forEach((s: unknown, j: number) => {
          if (record(record(s)?.require)?.verified === true)
            out.push(
              `${path}.config.selectors[${j}].require.verified: needs keys to verify with; add "verify:" (cosign public keys) to this provider's config, or require signed instead`,
            );
        });
      }
      if (c && c.read_manifests === false && type !== 'harbor') {
        out.push(
          `${path}.config.read_manifests: false needs a registry whose listing describes each image (registry_type harbor); ${String(type)} has none, so remove read_manifests or set it to true`,
        );
      }
      // Credentials inside a URL are never sent (requests go to the URL's origin), yet the URL is
      // copied into graph.json, the summary and Devgraph (spec.url, registry_url): refuse it.
      for (const key of ['api_url', 'hub_url', 'github_api_url', 'ecr_api_url']) {
        const url = c?.[key];
        if (typeof url === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url)) {
          out.push(
            `${path}.config.${key}: must not contain a username or password (value not shown); put them in username and password`,
          );
        }
      }
    });
  }
  return out;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

const SECRET_FIELD = /^(password|token|opaque_token)$/;

function describe(value: unknown, path: readonly PropertyKey[]): string {
  if (SECRET_FIELD.test(String(path[path.length - 1])))
    return `a ${value === null ? 'null' : typeof value} (value not shown)`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return `number ${String(value)}`;
  return `${typeof value} ${quote(value)}`;
}

/** A value for a message: JSON-quoted, and cut short, so a megabyte string is not echoed whole. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 60)}…" (${text.length} characters)` : text;
}

const NUMERIC_TEXT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?\s*$/i;

/** What would fix a value of the wrong type. */
function typeHint(expected: string, value: unknown, path: readonly PropertyKey[]): string {
  if (value === null) return '; give it a value, or remove the key to take the default';
  if (expected === 'number' || expected === 'int') {
    if (typeof value === 'string' && NUMERIC_TEXT.test(value)) return '; write the number without quotes';
    if (typeof value === 'number')
      return Number.isFinite(value) ? '; round it to a whole number' : '; write a finite number';
    return '; write a plain number, without units';
  }
  if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean'))
    return path.includes('include_tags')
      ? '; put it in quotes so YAML reads it as text (1.10 unquoted is the number 1.1)'
      : '; put it in quotes so YAML reads it as text';
  if (expected === 'boolean') return '; write true or false';
  if (expected === 'array') return '; write a list: [a, b], or one "- item" per line';
  if (expected === 'object')
    return path.length === 0
      ? '; the file must be a mapping with a "providers:" list (see README "Configuration")'
      : '; write it as "key: value" lines indented under it';
  return '';
}

const EXPECTED: Record<string, string> = { array: 'a list', object: 'a mapping', int: 'a whole number' };

/** What to add for a required key that is absent (every other key has a default). */
const MISSING_FIX: Record<string, string> = {
  type: 'add "type: docker" (Devgraph\'s own files say "type: docker.molecules.devgraph.ai"; both work)',
  name: 'add "name: <a name for this registry>"; it becomes status.discovery_source of every entity',
};

function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    const where = formatPath(issue.path);
    // reportInput gives the value; an absent key has none, which Zod's wording would print as "undefined".
    if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value'))
      return `${where}: missing; ${MISSING_FIX[String(issue.path[issue.path.length - 1])] ?? 'add it'}`;
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => {
          const hint = didYouMean(key, knownKeysAt(issue.path));
          const at = formatPath([...issue.path, key]);
          return `${at}: unknown key${hint ? `; did you mean ${hint}?` : `; known keys here: ${knownKeysAt(issue.path).join(', ')}`}`;
        });
      case 'invalid_type':
        return `${where}: expected ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}, got ${describe(issue.input, issue.path)}${typeHint(issue.expected, issue.input, issue.path)}`;
      case 'invalid_value': {
        const hint =
          typeof issue.input === 'string'
            ? didYouMean(
                issue.input,
                issue.values.map((v) => String(v)),
              )
            : undefined;
        return `${where}: ${quote(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`;
      }
      // Zod's own wording ("Too big: expected number to be <=256") for limits without a message of ours.
      case 'too_big':
        if (!issue.message.startsWith('Too big')) return `${where}: ${issue.message}`;
        return `${where}: ${describe(issue.input, issue.path)} is too large; use at most ${issue.inclusive ? issue.maximum : `less than ${issue.maximum}`}`;
      case 'too_small':
        if (!issue.message.startsWith('Too small')) return `${where}: ${issue.message}`;
        if (issue.origin === 'string' && issue.minimum === 1)
          return `${where}: must not be empty; give a value or remove the entry`;
        return `${where}: ${describe(issue.input, issue.path)} is too small; use at least ${issue.inclusive ? issue.minimum : `more than ${issue.minimum}`}`;
      default:
        return `${where}: ${issue.message}`;
    }
  });
}

const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces',
  BAD_ALIAS: 'define the &anchor before using it as *alias, or quote a value that starts with *',
  MISSING_CHAR: 'close the quote or bracket, or quote a value that holds ": " or " #"',
};

/** A YAML syntax error as line, column, what is wrong and what would fix it. */
function yamlProblem(error: YAMLError, text: string, origin: string): string {
  const at = error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^[\w.-]+(?=\s*:)/.exec(text.slice(error.pos[0], error.pos[0] + 200))?.[0];
    return `${origin}: not valid YAML${at}: the key${key ? ` "${key}"` : ''} appears twice in the same mapping; keep one`;
  }
  if (error.code === 'MULTIPLE_DOCS')
    return `${origin}: not valid YAML${at}: the file holds more than one YAML document; keep one: remove the second "---" and what follows, or merge them`;
  const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const fix =
    YAML_HINTS[error.code] ??
    'check the indentation and quoting on that line and the one before it (a value holding ": " or starting with [, {, *, & or ! needs quotes)';
  return `${origin}: not valid YAML${at}: ${what}; ${fix}`;
}
