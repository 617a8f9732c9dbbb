// The config file's JSON Schema, for editors (yaml-language-server) and any standard validator,
// made from the Zod schema so the two cannot disagree. It describes the file as written, before
// `${VAR}` interpolation: wherever interpolation can turn a string into a valid value, the schema
// accepts that string. Rules the Zod schema checks in code (refinements, the loader's cross-field
// checks) are restated here where JSON Schema can say them; the rest are listed in
// test/e2e/config-schema.test.ts. `npm run docs` writes the file and the key table of
// docs/configuration.md from here.
import { z } from 'zod';
import { BARE, CREDENTIAL_KEYS, TYPED_KEYS, WHOLE } from './interpolate.js';
import {
  ConfigFileSchema,
  DEFAULT_API_URLS,
  DockerConfigSchema,
  DurationSchema,
  REGISTRY_TYPES,
  RequireSchema,
  RetentionSchema,
} from './schema.js';

/** Where the schema is committed, relative to the repository. */
export const SCHEMA_FILE = 'schema/devgraph-docker.schema.json';

/**
 * What the example configs' `# yaml-language-server: $schema=` line names: a copy of an example
 * lives in another repository, where only an absolute URL resolves (docs/configuration.md).
 */
export const SCHEMA_URL = `https://raw.githubusercontent.com/devgraph-ai/devgraph-docker-action/main/${SCHEMA_FILE}`;

type Json = Record<string, unknown>;

// Tokens of a string as interpolate.ts scans it, one kind per position: a valid reference, the
// `$${` escape, a `$` that starts neither, any other character. A string made of these alone has no
// malformed `${`; one with a reference among them can become any value once interpolated.
const REFERENCE = WHOLE.source.slice(1, -1);
const TOKEN = `(?:[^$]|\\$(?![{$])|\\$(?=\\$)(?!\\$\\{)|\\$\\$\\{|${REFERENCE})`;
const NO_BAD_REFERENCE = `^${TOKEN}*$`;
const HAS_REFERENCE = `^${TOKEN}*${REFERENCE}${TOKEN}*$`;

/** Any value interpolation may yet make valid; its check waits for the environment. */
const INTERPOLATED: Json = {
  type: 'string',
  pattern: HAS_REFERENCE,
  description: 'a value read from the environment: ${NAME} or ${NAME:-default}',
};

/** `h`, `d` or `w` after a whole number of at most six digits that is not 0 (duration.ts). */
const DURATION: Json = {
  type: 'string',
  pattern: '^(?=\\d{1,6}[hdw]$)0*[1-9]\\d*[hdw]$',
  description: 'a whole number then h (hours), d (days) or w (weeks), such as 12h, 30d or 4w',
};

/** A URL with a user or password in it: refused (load-config.ts crossFieldProblems). */
const URL_WITH_USERINFO = '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@';

/** What a config's registry_type may be written as, when the value must be `type`. */
const registryTypeIs = (type: string): Json => ({
  anyOf: [{ const: type }, { $ref: '#/definitions/interpolated' }],
});

/** Types whose registry has no single host, so api_url is required (schema.ts DEFAULT_API_URLS). */
const TYPES_NEEDING_API_URL = REGISTRY_TYPES.filter((t) => !DEFAULT_API_URLS[t]);

/** `if`/`then`: JSON Schema's conditional, a plain object that is never awaited. */
function when(condition: Json, consequence: Json): Json {
  // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword, not a promise
  return { if: condition, then: consequence };
}

/** The loader's checks across the keys of one provider's config, as JSON Schema can say them. */
const CONFIG_RULES: Json[] = [
  when(
    { required: ['registry_type'], properties: { registry_type: { enum: TYPES_NEEDING_API_URL } } },
    { required: ['api_url'] },
  ),
  when({ required: ['password'] }, { required: ['username'] }),
  when({ required: ['username'] }, { anyOf: [{ required: ['password'] }, { required: ['token'] }] }),
  when(
    { required: ['read_manifests'], properties: { read_manifests: { const: false } } },
    { required: ['registry_type'], properties: { registry_type: registryTypeIs('harbor') } },
  ),
  when(
    {
      required: ['selectors'],
      properties: {
        selectors: {
          contains: {
            required: ['require'],
            properties: { require: { required: ['verified'], properties: { verified: { const: true } } } },
          },
        },
      },
    },
    { required: ['verify'] },
  ),
];

/** RequireSchema's refinement: at least one rule that asks for something. */
const REQUIRES_SOMETHING: Json[] = [
  ...['signed', 'verified', 'sbom', 'provenance'].map((k) => ({
    required: [k],
    properties: { [k]: { const: true } },
  })),
  { required: ['platforms'] },
  { required: ['max_critical'] },
];

/** RetentionSchema's refinement: at least one rule that can delete. */
const DELETES_SOMETHING: Json[] = [
  'keep_newest',
  'older_than',
  'untagged_older_than',
  'ecr_lifecycle_policy',
].map((k) => ({ required: [k] }));

/** The loader's "no providers" and "given in both" checks: exactly one list. */
const ONE_PROVIDER_LIST: Json[] = [
  { required: ['providers'] },
  ...['providers', 'molecules'].map((k) => ({
    required: ['discovery'],
    properties: { discovery: { required: [k] } },
  })),
];

/** Zod's schema as JSON Schema, with the rules Zod checks in code added, before interpolation. */
function fromZod(): Json {
  return z.toJSONSchema(ConfigFileSchema, {
    target: 'draft-07',
    io: 'input',
    // ecr_lifecycle_policy: any value; it is checked where it is evaluated.
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const json = jsonSchema as Json;
      if (zodSchema === DurationSchema) Object.assign(json, DURATION);
      if (zodSchema === RequireSchema) json.anyOf = REQUIRES_SOMETHING;
      if (zodSchema === RetentionSchema) json.anyOf = DELETES_SOMETHING;
      if (zodSchema === DockerConfigSchema) json.allOf = CONFIG_RULES;
      if (zodSchema === ConfigFileSchema) json.oneOf = ONE_PROVIDER_LIST;
      const def = zodSchema._zod.def as { type: string; format?: string; protocol?: RegExp };
      if (def.type === 'string' && def.format === 'url') {
        const protocol = def.protocol;
        if (protocol?.source !== '^https?$') throw new Error('a URL in the config that is not http(s)');
        json.pattern = '^[Hh][Tt][Tt][Pp][Ss]?://';
      }
    },
  }) as Json;
}

/** Markdown links as plain text, with the page they lead to: editors show descriptions as text. */
function plainLinks(markdown: string): string {
  return markdown.replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, text: string, target: string) => {
    const page = target.startsWith('#') ? `configuration.md${target}` : target;
    return `${text} (docs/${page})`;
  });
}

/** Constraints that make a string more than any text; such a string is wrapped, not patterned. */
const STRING_CONSTRAINTS = ['enum', 'const', 'pattern', 'format'];

/**
 * One property's schema as the file may write it: a constrained string may instead be a string
 * with a reference in it, a number or boolean of a typed key may be one whole reference, and any
 * string must be free of malformed references.
 */
function asWritten(key: string | undefined, node: Json): Json {
  const { description, default: fallback, title, docDefault, ...rest } = node;
  const about: Json = {
    ...(title !== undefined ? { title } : {}),
    ...(description !== undefined
      ? {
          description: plainLinks(
            `${description}${docDefault !== undefined && fallback === undefined ? `. Default: ${docDefault}` : ''}`,
          ).replace(/`/g, ''),
        }
      : {}),
    ...(fallback !== undefined ? { default: fallback } : {}),
  };
  let value: Json = rest;
  if (rest.type === 'string') {
    value = STRING_CONSTRAINTS.some((c) => c in rest)
      ? { anyOf: [rest, { $ref: '#/definitions/interpolated' }] }
      : { ...rest, pattern: NO_BAD_REFERENCE };
  } else if (
    key !== undefined &&
    TYPED_KEYS.test(key) &&
    (rest.type === 'number' || rest.type === 'integer' || rest.type === 'boolean')
  ) {
    value = {
      anyOf: [rest, { type: 'string', pattern: WHOLE.source, description: INTERPOLATED.description }],
    };
  }
  if (key !== undefined && CREDENTIAL_KEYS.test(key)) value = { ...value, not: { pattern: BARE.source } };
  if (rest.format === 'uri') value = { ...value, not: { pattern: URL_WITH_USERINFO } };
  return { ...about, ...value };
}

/** Keywords whose value is a schema or a list of schemas (besides properties and definitions). */
const SUBSCHEMAS = new Set(['items', 'not', 'if', 'then', 'contains', 'anyOf', 'allOf', 'oneOf']);

/** Applies `asWritten` to every schema in `node`, depth first. */
function walk(node: unknown, key?: string): unknown {
  if (Array.isArray(node)) return node.map((item) => walk(item));
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' || k === 'definitions')
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([name, s]) => [name, walk(s, name)]));
    else out[k] = SUBSCHEMAS.has(k) ? walk(v) : v;
  }
  return asWritten(key, out);
}

/** The committed JSON Schema (draft-07, which editors support best). */
export function configJsonSchema(): Json {
  const schema = walk(fromZod()) as Json;
  const definitions = { ...(schema.definitions as Json | undefined), interpolated: INTERPOLATED };
  const { $schema, ...body } = schema;
  return { $schema, $id: SCHEMA_URL, ...body, definitions };
}

/** One row of docs/configuration.md's key table: the key's path, default and meaning, in Markdown. */
export interface ConfigKeyRow {
  key: string;
  default: string;
  description: string;
}

/** Every key of a provider, as docs/configuration.md lists them: from the same metadata as the schema. */
export function configKeyRows(): ConfigKeyRow[] {
  const provider = (fromZod().definitions as Record<string, Json>).provider;
  if (!provider) throw new Error('ProviderSchema has no id "provider" in its metadata');
  const rows: ConfigKeyRow[] = [];
  const visit = (node: Json, prefix: string) => {
    const required = new Set((node.required as string[] | undefined) ?? []);
    for (const [name, child] of Object.entries((node.properties as Record<string, Json>) ?? {})) {
      const key = `${prefix}${name}`;
      rows.push({
        key,
        default: defaultCell(child, required.has(name)),
        description: String(child.description ?? ''),
      });
      const items = child.items as Json | undefined;
      if (child.type === 'object') visit(child, `${key}.`);
      else if (items?.type === 'object') visit(items, `${name}[].`);
    }
  };
  visit(provider, '');
  return rows;
}

function defaultCell(node: Json, required: boolean): string {
  if (required) return '(required)';
  if (node.docDefault !== undefined) return String(node.docDefault);
  if (node.default === undefined) return 'none';
  return `\`${typeof node.default === 'string' ? node.default : JSON.stringify(node.default)}\``;
}
