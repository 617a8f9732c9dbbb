// `${VAR}` and `${VAR:-default}` in string values, from the environment. Devgraph's docs promise
// this but its code never did it (reference/devgraph.md §6); we do, and an unset variable without a
// default is an error rather than an empty credential.
import { parse as parseYamlScalar } from 'yaml';

const EXPRESSION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$\{/g;
const TYPED_KEYS = /(^|\.)(timeout|max_tags|max_pages|concurrency|every|discover_vulnerabilities)$/;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

export interface InterpolationResult {
  value: unknown;
  /** `path` is written like the schema's messages (`providers[0].config.password`). */
  problems: Array<{ path: string; message: string }>;
}

export function interpolate(doc: unknown, env: Record<string, string | undefined>): InterpolationResult {
  const problems: InterpolationResult['problems'] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') return interpolateString(node, path, env, problems);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${path}[${i}]`));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, path ? `${path}.${k}` : k);
      return out;
    }
    return node;
  };
  return { value: walk(doc, ''), problems };
}

function interpolateString(
  text: string,
  path: string,
  env: Record<string, string | undefined>,
  problems: InterpolationResult['problems'],
): unknown {
  const lookup = (name: string, fallback: string | undefined): string => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    problems.push({
      path: path || '(root)',
      message: `${path || '(root)'}: environment variable ${name} is not set; set it, or write \${${name}:-default} to give a default`,
    });
    return '';
  };
  // In a numeric or boolean field, a value that is only one expression takes the type its text
  // has in YAML, so `timeout: ${TIMEOUT:-30}` is the number 30. Everywhere else (tags such as
  // "1.10", credentials) the text stays a string.
  const whole = WHOLE.exec(text);
  if (whole) {
    const raw = lookup(whole[1]!, whole[2]);
    if (!TYPED_KEYS.test(path)) return raw;
    try {
      const typed: unknown = parseYamlScalar(raw);
      return typeof typed === 'number' || typeof typed === 'boolean' ? typed : raw;
    } catch {
      return raw;
    }
  }
  return text.replace(EXPRESSION, (match, name: string | undefined, fallback: string | undefined) =>
    name === undefined ? match.slice(1) : lookup(name, fallback),
  );
}
