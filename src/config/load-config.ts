import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Secrets } from '../secrets.js';
import { didYouMean } from './did-you-mean.js';
import { interpolate } from './interpolate.js';
import { compilePattern } from './pattern.js';
import { ConfigFileSchema, type DockerConfig, knownKeysAt, type ProviderConfig } from './schema.js';
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
  if (problems.length > 0) throw new ConfigError(problems);

  const parsed = ConfigFileSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues));
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
  const names = new Set<string>();
  const settings: ProviderSettings[] = [];
  providers!.forEach((p, i) => {
    const path = `${listPath}[${i}]`;
    if (names.has(p.name))
      errors.push(`${path}.name: "${p.name}" is used by another provider; provider names must be unique`);
    names.add(p.name);
    const built = buildProvider(p, path, errors);
    if (built) settings.push(built);
    opts.secrets.add(p.config.password);
    opts.secrets.add(p.config.token);
  });
  opts.secrets.add(file.discovery?.opaque_token);
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
  if (c.password !== undefined && c.username === undefined) {
    errors.push(`${cpath}.password: given without username; add username (or use token for a bearer token)`);
  }
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
    apiUrl: c.api_url.replace(/\/+$/, ''),
    hubUrl: c.hub_url.replace(/\/+$/, ''),
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

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

function describe(value: unknown): string {
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
        return `${where}: expected ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : `a ${issue.expected}`}, got ${describe(issue.input)}`;
      case 'invalid_value':
        return `${where}: ${JSON.stringify(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      default:
        return `${where}: ${issue.message}`;
    }
  });
}
