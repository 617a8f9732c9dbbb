// `${VAR}` and `${VAR:-default}` in string values, from the environment. Devgraph's docs promise
// this but its code never did it (reference/devgraph.md §6); we do, and an unset variable without a
// default is an error rather than an empty credential.
import { parse as parseYamlScalar } from 'yaml';

// The last alternative catches what looks like an expression but is not one (`${MY-VAR}`,
// `${VAR:default}`, GitHub's `${{ secrets.X }}`): left as text it would become a credential
// such as the literal "${MY-VAR}" without a word of warning.
const EXPRESSION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$\{|\$\{[^}]*\}*/g;
/**
 * A credential that is all `$REGISTRY_PASSWORD`: shell syntax, not replaced here, and no real
 * password looks like that, so it is a mistake rather than a value to send.
 */
export const BARE = /^\$([A-Z_][A-Z0-9_]*)$/;
// These three and BARE are also read by json-schema.ts, so the JSON Schema accepts what they accept.
export const CREDENTIAL_KEYS = /(^|\.)(username|password|token|opaque_token)$/;
export const TYPED_KEYS = /(^|\.)(timeout|max_tags|max_pages|concurrency|every|discover_vulnerabilities)$/;
export const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

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
      // fromEntries defines own properties: assigning a `__proto__` key would instead replace the
      // copy's prototype, and the key would vanish from validation.
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [k, walk(v, path ? `${path}.${k}` : k)]),
      );
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
  const bare = CREDENTIAL_KEYS.test(path) ? BARE.exec(text) : null;
  if (bare) {
    problems.push({
      path: path || '(root)',
      message: `${path || '(root)'}: "${text}" is taken literally; write \${${bare[1]}} to read the environment variable ${bare[1]}`,
    });
    return text;
  }
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
  return text.replace(EXPRESSION, (match, name: string | undefined, fallback: string | undefined) => {
    if (name !== undefined) return lookup(name, fallback);
    if (match === '$${') return '${';
    const where = path || '(root)';
    // In a credential the text may be part of a real password: it is not echoed.
    const shown = CREDENTIAL_KEYS.test(path) ? '' : ` ${match}`;
    problems.push({
      path: where,
      message: match.startsWith('${{')
        ? `${where}: the GitHub Actions expression${shown} is not evaluated in a config file; pass the value to the step in env: and write \${NAME} here (or give the config in the action's config input, where expressions are evaluated)`
        : `${where}: the variable reference${shown} is not valid; write \${NAME} or \${NAME:-default} with a name of letters, digits and _ (or $\${ for a literal \${)`,
    });
    return match;
  });
}
