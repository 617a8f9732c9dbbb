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

const requireFlag = (description: string) => z.boolean().optional().meta({ description });

/** `require:` of a selector: what each image it picks must show, else a policy violation. */
export const RequireSchema = z
  .strictObject({
    signed: requireFlag('`true`: every image needs a signature (cosign, Notation) stored next to it'),
    verified: requireFlag(
      "`true`: every image needs a signature by one of the provider's `verify.keys` (needs `verify:`)",
    ),
    sbom: requireFlag('`true`: every image needs an SBOM attached'),
    provenance: requireFlag('`true`: every image needs a provenance attestation'),
    platforms: z
      .array(
        z
          .string()
          .regex(
            /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/,
            'must be os/architecture[/variant] in lowercase, such as linux/amd64 or linux/arm64/v8',
          ),
      )
      .min(1, 'must name at least one platform, such as [linux/amd64]; or remove the key')
      .meta({
        description:
          'platforms every image must be built for, as `os/architecture[/variant]`: `[linux/amd64, linux/arm64]`',
      }),
    max_critical: z
      .number()
      .int()
      .min(0, 'must be 0 (no critical vulnerability) or a positive whole number')
      .meta({ description: 'most critical vulnerabilities an image may have (a whole number; `0`: none)' }),
  })
  .partial()
  .refine((r) => Object.values(r).some((v) => v !== undefined && v !== false), {
    message:
      'requires nothing; add signed, verified, sbom, provenance (true), platforms or max_critical, or remove require',
    // A misspelt rule is reported as such, not again as an empty require.
    when: (payload) => payload.issues.length === 0,
  })
  .meta({
    description:
      'policy every image the selector picks must meet, else a policy violation; see [Policy: `require:`](supply-chain.md#policy-require)',
  });

/** A duration as written in the file; its JSON Schema is in json-schema.ts, as no Zod type says it. */
export const DurationSchema = z.unknown().transform((value, ctx) => {
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
      .optional()
      .meta({
        description:
          'the newest N images (distinct digests; aliases count once) are never deleted; `0` keeps none by count (unlike `max_tags`, where `0` is all)',
      }),
    keep_tags: z.array(pattern).optional().meta({
      description:
        'regexes, matched as selector patterns are; a tag matching one is never deleted, nor the digest it is on',
    }),
    older_than: DurationSchema.optional().meta({
      description:
        'only images older than this are deleted: a whole number then `h`, `d` or `w` (`12h`, `30d`, `4w`)',
    }),
    untagged_older_than: DurationSchema.optional().meta({
      description:
        'untagged manifests older than this are deleted, where the registry lists them (ECR, GHCR, Harbor, ACR); same form as `older_than`',
    }),
    protect_in_use: z
      .boolean()
      .default(true)
      .meta({ description: 'digests in use (the in-use input, Devgraph) are never deleted' }),
    /** Checked where it is evaluated (an ECR lifecycle policy document, as AWS defines it). */
    ecr_lifecycle_policy: z
      .unknown()
      .optional()
      .meta({ description: 'an ECR lifecycle policy document, evaluated as AWS does' }),
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
  )
  .meta({
    description:
      "what a retention plan would delete in the selector's repositories; needs at least one of `keep_newest`, `older_than`, `untagged_older_than`, `ecr_lifecycle_policy`; see [Retention rules](retention.md#retention-rules)",
  });

export const SelectorSchema = z
  .strictObject({
    namespace_pattern: pattern
      .default('.*')
      .meta({ description: 'regex on the first path segment of the repository name' }),
    repository_pattern: pattern.default('.*').meta({ description: 'regex on the rest of the name' }),
    include_tags: z
      .array(z.string().min(1))
      .optional()
      .meta({ description: 'exact tag names; when set, only these' }),
    exclude_tags: z
      .array(pattern)
      .optional()
      .meta({ description: 'regexes; a tag matching one is left out' }),
    max_tags: z
      .number()
      .int()
      .min(0, 'must be 0 (all tags) or a positive whole number')
      .default(10)
      .meta({ description: 'the newest N tags; `0` = all' }),
    require: RequireSchema.optional(),
    retention: RetentionSchema.optional(),
  })
  .meta({
    description: 'which repositories and tags; see [Patterns and selectors](#patterns-and-selectors)',
  });

export const DockerConfigSchema = z.strictObject({
  namespace: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
      'must be a Devgraph namespace: lowercase letters, digits and "-"',
    )
    .default('default')
    .meta({ description: 'Devgraph namespace of the entities' }),
  /** Unset: docker-hub without api_url (Devgraph's default), else what api_url's host implies (registry-hosts.ts). */
  registry_type: z.enum(REGISTRY_TYPES).optional().meta({
    description: 'which registry this provider reads ([registries](registries/README.md))',
    docDefault: 'see [Which registry type](#which-registry-type)',
  }),
  /** Registry base URL; defaults per registry_type where the vendor has one host (DEFAULT_API_URLS). */
  api_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://registry.example.com' })
    .optional()
    .meta({
      description: "the registry's base URL (http or https); required for the types without a default",
      docDefault:
        'per type: `https://registry-1.docker.io`, `https://ghcr.io`, `https://quay.io`, `https://gcr.io`',
    }),
  /** Docker Hub's API (repository and tag listing); override for mirrors and tests. */
  hub_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional()
    .meta({ description: "Docker Hub's API", docDefault: '`https://hub.docker.com`' }),
  /** GitHub's REST API for GHCR package listing; default GITHUB_API_URL, else https://api.github.com (GHES). */
  github_api_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional()
    .meta({
      description: "GitHub's REST API for GHCR (GitHub Enterprise Server: `https://HOST/api/v3`)",
      docDefault: '`$GITHUB_API_URL`, else `https://api.github.com`',
    }),
  /** AWS ECR API endpoint (VPC endpoints, tests); default: the SDK's endpoint for the region. */
  ecr_api_url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional()
    .meta({ description: 'ECR API endpoint (VPC endpoints)', docDefault: "the AWS SDK's endpoint" }),
  /** AWS region for ECR; default: the region in api_url's host. */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1')
    .optional()
    .meta({ description: 'AWS region for ECR', docDefault: "the region in `api_url`'s host" }),
  username: z
    .string()
    .min(1, EMPTY_CREDENTIAL)
    .optional()
    .meta({ description: 'user name, with `password`; see [Credentials](#credentials)' }),
  password: z
    .string()
    .min(1, EMPTY_CREDENTIAL)
    .optional()
    .meta({ description: 'password, with `username`; write `${VAR}` to read it from the environment' }),
  token: z
    .string()
    .min(1, EMPTY_CREDENTIAL)
    .optional()
    .meta({ description: 'sent as a bearer token; write `${VAR}` to read it from the environment' }),
  timeout: z
    .number()
    .positive('must be a number of seconds greater than 0')
    .default(30)
    .meta({ description: 'seconds per request' }),
  discover_vulnerabilities: z.boolean().default(false).meta({
    description:
      'scanner counts where the vendor has a scanner API, else from a report attached to the image ([supply chain](supply-chain.md#vulnerabilities-from-attestations))',
  }),
  /**
   * false: take each image's platform, created time, labels and size from the vendor's listing
   * instead of reading its manifest and config (Harbor only; no layer or config digests then).
   */
  read_manifests: z.boolean().default(true).meta({
    description:
      "`false`: image facts from the vendor's listing, no manifest reads ([Harbor](registries/harbor.md) only)",
  }),
  /**
   * Look for each selected image's signatures, attestations and SBOMs. Unset: on, except on Docker
   * Hub, where every accessory manifest read counts as a pull.
   */
  supply_chain: z.boolean().optional().meta({
    description:
      "look for each selected image's signatures, attestations and SBOMs ([Supply chain](supply-chain.md#where-we-look)); on Docker Hub every accessory manifest read counts as a pull",
    docDefault: 'on; off on Docker Hub and with `read_manifests: false`',
  }),
  selectors: z
    .array(SelectorSchema)
    .min(1, 'needs at least one selector; use [{}] to select everything')
    .prefault([{}])
    .meta({
      description:
        'which repositories and tags; the first selector that matches a repository applies to it; `[{}]` selects everything',
    }),
  concurrency: z.number().int().min(1).max(256).optional().meta({
    description:
      "requests in flight per registry host (the Action's `concurrency` input and `--concurrency` override it)",
    docDefault: '`16`',
  }),
  /** A listing cut here gets an incomplete receipt. */
  max_pages: z
    .number()
    .int()
    .min(1)
    .default(1000)
    .meta({ description: 'pages followed per listing; a listing cut here is marked incomplete' }),
  verify: z
    .strictObject({
      keys: z
        .array(
          z.string().superRefine((text, ctx) => {
            const parsed = parseVerifyKey(text, '');
            if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
          }),
        )
        .min(1, 'needs at least one PEM public key; remove verify to skip signature checks')
        .meta({
          description:
            'cosign public keys (PEM text, or `${VAR}`); a signature by one of them makes an image `verified` ([Verifying signatures](supply-chain.md#verifying-signatures))',
        }),
    })
    .optional()
    .meta({ description: 'public keys whose signatures make an image `verified`' }),
});

export const ProviderSchema = z
  .strictObject({
    name: z
      .string()
      .min(1, 'must name the provider; it becomes status.discovery_source of every entity')
      .meta({
        description: "the provider's name; becomes `status.discovery_source` of every entity it owns",
      }),
    type: z
      .enum(PROVIDER_TYPES)
      .meta({ description: "`docker`, or `docker.molecules.devgraph.ai` as in Devgraph's own files" }),
    every: z.number().positive().optional().meta({
      description: "accepted for Devgraph compatibility; the workflow's schedule decides when this runs",
    }),
    config: DockerConfigSchema.prefault({}).meta({
      description: 'the registry this provider reads, and how',
    }),
  })
  .meta({ id: 'provider', description: 'one registry to inventory' });

export const ProvidersSchema = z.array(ProviderSchema).min(1, 'needs at least one provider');

export const ConfigFileSchema = z
  .strictObject({
    providers: ProvidersSchema.optional().meta({
      description: "the registries to inventory, one provider each (or Devgraph's `discovery.molecules`)",
    }),
    discovery: z
      .strictObject({
        api_base_url: z.string().optional().meta({ description: 'the Devgraph API URL, for the upload' }),
        environment: z.string().optional().meta({ description: 'the Devgraph environment, for the upload' }),
        opaque_token: z.string().optional().meta({
          description:
            'the Devgraph API token; prefer the `devgraph-token` input or `$DEVGRAPH_TOKEN`, which keep it out of the file',
        }),
        providers: ProvidersSchema.optional().meta({
          description: "providers, in Devgraph's discovery file",
        }),
        molecules: ProvidersSchema.optional().meta({
          description: "providers, in Devgraph's discovery file",
        }),
      })
      .optional()
      .meta({
        description:
          "Devgraph's discovery file: providers under `molecules` or `providers`, and the upload's settings",
      }),
  })
  .meta({
    title: 'devgraph-docker-action configuration',
    description: 'Registries to inventory as a Devgraph entity graph; see [Configuration](configuration.md)',
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
