// The config file's shape: a superset of Devgraph's docker molecule config (reference/devgraph.md
// §6). Defaults match Devgraph's so a file that works there means the same thing here, but for one:
// an api_url without registry_type is read as the registry its host names, not as Docker Hub
// (registry-hosts.ts), since Docker Hub's API cannot list another host's repositories.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { compilePattern } from './pattern.js';
import { parseVerifyKey } from './verify-keys.js';

export const REGISTRY_TYPES = [
  'docker-hub',
  'ecr',
  'gcr',
  'acr',
  'ghcr',
  'private',
  'harbor',
  'quay',
  'nexus',
  'artifactory',
] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

export const PROVIDER_TYPES = ['docker', 'docker.molecules.devgraph.ai'] as const;

const pattern = z
  .string()
  .min(1, 'must not be empty; use ".*" to match everything')
  .superRefine((source, ctx) => {
    const compiled = compilePattern(source);
    if ('error' in compiled) ctx.addIssue({ code: 'custom', message: compiled.error });
  });

// An empty credential would be sent as one; without the key the provider uses Docker's
// config.json or goes anonymous, which is what an empty value usually meant.
const EMPTY_CREDENTIAL =
  "must not be empty; set it, or remove the key to use Docker's config.json (docker login) or no credentials";

const requireFlag = z.boolean().optional();

/** `require:` of a selector: what each image it picks must show, else a policy violation. */
export const RequireSchema = z
  .strictObject({
    signed: requireFlag,
    verified: requireFlag,
    sbom: requireFlag,
    provenance: requireFlag,
    platforms: z
      .array(
        z
          .string()
          .regex(
            /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/,
            'must be os/architecture[/variant] in lowercase, such as linux/amd64 or linux/arm64/v8',
          ),
      )
      .min(1, 'must name at least one platform, such as [linux/amd64]; or remove the key'),
    max_critical: z.number().int().min(0, 'must be 0 (no critical vulnerability) or a positive whole number'),
  })
  .partial()
  .refine((r) => Object.values(r).some((v) => v !== undefined && v !== false), {
    message:
      'requires nothing; add signed, verified, sbom, provenance (true), platforms or max_critical, or remove require',
    // A misspelt rule is reported as such, not again as an empty require.
    when: (payload) => payload.issues.length === 0,
  });

const duration = z.unknown().transform((value, ctx) => {
  const parsed = parseDuration(value);
  if ('duration' in parsed) return parsed.duration;
  ctx.addIssue({ code: 'custom', message: parsed.error, input: value });
  return z.NEVER;
});

/** `retention:` of a selector: which of its repositories' manifests a plan would delete (docs/retention.md). */
export const RetentionSchema = z
  .strictObject({
    keep_newest: z
      .number()
      .int()
      .min(0, 'must be 0 or a positive whole number: how many of the newest images to keep')
      .optional(),
    keep_tags: z.array(pattern).optional(),
    older_than: duration.optional(),
    untagged_older_than: duration.optional(),
    protect_in_use: z.boolean().default(true),
    /** Checked where it is evaluated (an ECR lifecycle policy document, as AWS defines it). */
    ecr_lifecycle_policy: z.unknown().optional(),
  })
  .refine(
    (r) =>
      r.keep_newest !== undefined ||
      r.older_than !== undefined ||
      r.untagged_older_than !== undefined ||
      r.ecr_lifecycle_policy !== undefined,
    {
      message:
        'deletes nothing; add keep_newest, older_than, untagged_older_than or ecr_lifecycle_policy, or remove retention',
      // A misspelt rule is reported as such, not again as an empty retention.
      when: (payload) => payload.issues.length === 0,
    },
  );

export const SelectorSchema = z.strictObject({
  namespace_pattern: pattern.default('.*'),
  repository_pattern: pattern.default('.*'),
  include_tags: z.array(z.string().min(1)).optional(),
  exclude_tags: z.array(pattern).optional(),
  max_tags: z.number().int().min(0, 'must be 0 (all tags) or a positive whole number').default(10),
  require: RequireSchema.optional(),
  retention: RetentionSchema.optional(),
});

export const DockerConfigSchema = z.strictObject({
  namespace: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
      'must be a Devgraph namespace: lowercase letters, digits and "-"',
    )
    .default('default'),
  /** Unset: docker-hub without api_url (Devgraph's default), else what api_url's host implies (registry-hosts.ts). */
  registry_type: z.enum(REGISTRY_TYPES).optional(),
  /** Registry base URL; defaults per registry_type where the vendor has one host (DEFAULT_API_URLS). */
  api_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://registry.example.com' })
    .optional(),
  /** Docker Hub's API (repository and tag listing); override for mirrors and tests. */
  hub_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** GitHub's REST API for GHCR package listing; default GITHUB_API_URL, else https://api.github.com (GHES). */
  github_api_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** AWS ECR API endpoint (VPC endpoints, tests); default: the SDK's endpoint for the region. */
  ecr_api_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** AWS region for ECR; default: the region in api_url's host. */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1')
    .optional(),
  username: z.string().min(1, EMPTY_CREDENTIAL).optional(),
  password: z.string().min(1, EMPTY_CREDENTIAL).optional(),
  token: z.string().min(1, EMPTY_CREDENTIAL).optional(),
  timeout: z.number().positive('must be a number of seconds greater than 0').default(30),
  discover_vulnerabilities: z.boolean().default(false),
  /**
   * false: take each image's platform, created time, labels and size from the vendor's listing
   * instead of reading its manifest and config (Harbor only; no layer or config digests then).
   */
  read_manifests: z.boolean().default(true),
  /**
   * Look for each selected image's signatures, attestations and SBOMs. Unset: on, except on Docker
   * Hub, where every accessory manifest read counts as a pull.
   */
  supply_chain: z.boolean().optional(),
  selectors: z
    .array(SelectorSchema)
    .min(1, 'needs at least one selector; use [{}] to select everything')
    .prefault([{}]),
  /** Requests in flight at once per registry host. */
  concurrency: z.number().int().min(1).max(256).optional(),
  /** Upper bound on pages followed for one listing; a listing cut here gets an incomplete receipt. */
  max_pages: z.number().int().min(1).default(1000),
  /** Public keys whose signatures make an image `verified` (docs/supply-chain.md). */
  verify: z
    .strictObject({
      keys: z
        .array(
          z.string().superRefine((text, ctx) => {
            const parsed = parseVerifyKey(text, '');
            if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
          }),
        )
        .min(1, 'needs at least one PEM public key; remove verify to skip signature checks'),
    })
    .optional(),
});

export const ProviderSchema = z.strictObject({
  name: z.string().min(1, 'must name the provider; it becomes status.discovery_source of every entity'),
  type: z.enum(PROVIDER_TYPES),
  every: z.number().positive().optional(),
  config: DockerConfigSchema.prefault({}),
});

export const ProvidersSchema = z.array(ProviderSchema).min(1, 'needs at least one provider');

export const ConfigFileSchema = z.strictObject({
  providers: ProvidersSchema.optional(),
  discovery: z
    .strictObject({
      api_base_url: z.string().optional(),
      environment: z.string().optional(),
      opaque_token: z.string().optional(),
      providers: ProvidersSchema.optional(),
      molecules: ProvidersSchema.optional(),
    })
    .optional(),
});

export const DEFAULT_HUB_URL = 'https://hub.docker.com';

/** The registry host a registry_type implies when api_url is not given; others must set api_url. */
export const DEFAULT_API_URLS: Partial<Record<RegistryType, string>> = {
  'docker-hub': 'https://registry-1.docker.io',
  ghcr: 'https://ghcr.io',
  quay: 'https://quay.io',
  gcr: 'https://gcr.io',
};

export type ProviderConfig = z.infer<typeof ProviderSchema>;
export type DockerConfig = z.infer<typeof DockerConfigSchema>;

/** Keys each level of the file accepts, for "did you mean" suggestions. */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (path.length === 0) return Object.keys(ConfigFileSchema.shape);
  if (path.length === 1 && last === 'discovery')
    return ['api_base_url', 'environment', 'opaque_token', 'providers', 'molecules'];
  if (last === 'config') return Object.keys(DockerConfigSchema.shape);
  if (last === 'verify') return ['keys'];
  if (typeof last === 'number' && parent === 'selectors') return Object.keys(SelectorSchema.shape);
  if (last === 'require') return Object.keys(RequireSchema.shape);
  if (last === 'retention') return Object.keys(RetentionSchema.shape);
  if (typeof last === 'number' && (parent === 'providers' || parent === 'molecules'))
    return Object.keys(ProviderSchema.shape);
  return [];
}
