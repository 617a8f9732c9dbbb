import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Secrets } from '../secrets.js';
import { didYouMean } from './did-you-mean.js';
import { interpolate } from './interpolate.js';
import { compilePattern } from './pattern.js';
import {
  ConfigFileSchema,
  DEFAULT_API_URLS,
  type DockerConfig,
  knownKeysAt,
  type ProviderConfig,
  REGISTRY_TYPES,
  type RegistryType,
} from './schema.js';
import type { ProviderSettings, Settings } from './settings.js';

export interface LoadOptions {
  env: Record<string, string | undefined>;
  secrets: Secrets;
  /** Where the text came from, for messages ("config input", a file path). */
  origin: string;
}

/** Parses, interpolates and validates a config document; every problem is reported at once. */
export function loadConfig(text: string, opts: LoadOptions): Settings {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `${opts.origin}: not valid YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const raw: unknown = doc.toJS();
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
  const all = [...problems.map((p) => p.message), ...schemaProblems, ...crossFieldProblems(value)];
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
    };
  });
  return {
    name: p.name,
    namespace: c.namespace,
    registryType: c.registry_type,
    apiUrl: normaliseApiUrl(c.api_url ?? DEFAULT_API_URLS[c.registry_type]!),
    hubUrl: c.hub_url.replace(/\/+$/, ''),
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
    selectors,
    ...(c.concurrency !== undefined ? { concurrency: c.concurrency } : {}),
    maxPages: c.max_pages,
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
      const type = c?.registry_type ?? 'docker-hub';
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
  return `${typeof value} ${JSON.stringify(value)}`;
}

function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys
          .map((key) => {
            const hint = didYouMean(key, knownKeysAt(issue.path));
            const at = formatPath([...issue.path, key]);
            return `${at}: unknown key${hint ? `; did you mean ${hint}?` : `; known keys here: ${knownKeysAt(issue.path).join(', ')}`}`;
          })
          .join('\n');
      case 'invalid_type':
        return `${where}: expected ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : `a ${issue.expected}`}, got ${describe(issue.input, issue.path)}`;
      case 'invalid_value':
        return `${where}: ${JSON.stringify(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      default:
        return `${where}: ${issue.message}`;
    }
  });
}
