// The four Docker entity definitions Devgraph needs before it accepts our entities. The spec
// schemas follow Devgraph's docker molecule models (reference/devgraph.md §3) in the shape
// pydantic's `model_json_schema` gives them, plus the optional fields this action adds, so a
// Devgraph-hosted docker provider and this action register compatible definitions.
import type { DockerKind } from '../model/graph.js';

export const ENTITY_GROUP = 'entities.devgraph.ai';
export const ENTITY_VERSION = 'v1';

export interface EntityDefinition {
  group: string;
  kind: DockerKind;
  list_kind: string;
  plural: string;
  singular: string;
  name: string;
  description: string;
  spec: Record<string, unknown>;
}

export const PLURALS: Record<DockerKind, string> = {
  DockerRegistry: 'dockerregistries',
  DockerRepository: 'dockerrepositories',
  DockerImage: 'dockerimages',
  DockerManifest: 'dockermanifests',
};

type Json = Record<string, unknown>;

const str = (title: string): Json => ({ type: 'string', title });
const optional = (title: string, schema: Json): Json => ({
  anyOf: [schema, { type: 'null' }],
  default: null,
  title,
});
const optStr = (title: string): Json => optional(title, { type: 'string' });
const optInt = (title: string): Json => optional(title, { type: 'integer' });
const optBool = (title: string): Json => optional(title, { type: 'boolean' });
const stringList = (title: string): Json => optional(title, { type: 'array', items: { type: 'string' } });

function objectSchema(title: string, properties: Record<string, Json>, required: string[]): Json {
  return { type: 'object', title, properties, required };
}

const vulnerabilityCounts: Json = {
  type: 'object',
  properties: Object.fromEntries(
    ['total', 'critical', 'high', 'medium', 'low', 'informational', 'unknown', 'fixable'].map((k) => [
      k,
      { type: 'integer' },
    ]),
  ),
  additionalProperties: true,
};

/** DockerRegistry / DockerRepository `storage` (docs/retention.md "Storage"). */
const storage: Json = optional('Storage', {
  type: 'object',
  properties: {
    ...Object.fromEntries(
      ['total_bytes', 'unique_bytes', 'shared_bytes', 'untagged_bytes'].map((k) => [k, { type: 'integer' }]),
    ),
    partial: { type: 'boolean' },
  },
  additionalProperties: true,
});

const SPECS: Record<DockerKind, Json> = {
  DockerRegistry: objectSchema(
    'DockerRegistrySpec',
    {
      name: str('Name'),
      registry_type: str('Registry Type'),
      url: str('Url'),
      description: optStr('Description'),
      version: optStr('Version'),
      public: { type: 'boolean', title: 'Public', default: true },
      storage,
    },
    ['name', 'registry_type', 'url'],
  ),
  DockerRepository: objectSchema(
    'DockerRepositorySpec',
    {
      name: str('Name'),
      full_name: str('Full Name'),
      namespace: optStr('Namespace'),
      description: optStr('Description'),
      official: { type: 'boolean', title: 'Official', default: false },
      automated: { type: 'boolean', title: 'Automated', default: false },
      star_count: optInt('Star Count'),
      pull_count: optInt('Pull Count'),
      last_updated: optStr('Last Updated'),
      registry_url: str('Registry Url'),
      source_repository: optStr('Source Repository'),
      storage,
    },
    ['name', 'full_name', 'registry_url'],
  ),
  DockerImage: objectSchema(
    'DockerImageSpec',
    {
      repository: str('Repository'),
      tag: str('Tag'),
      digest: optStr('Digest'),
      size: optInt('Size'),
      architecture: optStr('Architecture'),
      os: optStr('Os'),
      created: optStr('Created'),
      last_updated: optStr('Last Updated'),
      labels: {
        type: 'object',
        title: 'Labels',
        additionalProperties: { type: 'string' },
        default: {},
      },
      layers: optInt('Layers'),
      vulnerabilities: optional('Vulnerabilities', vulnerabilityCounts),
      registry_url: str('Registry Url'),
      // Added by this action (README "Entities"):
      media_type: optStr('Media Type'),
      platforms: stringList('Platforms'),
      signed: optBool('Signed'),
      sbom: optBool('Sbom'),
      provenance: optBool('Provenance'),
      verified: optBool('Verified'),
      artifact: optBool('Artifact'),
    },
    ['repository', 'tag', 'registry_url'],
  ),
  DockerManifest: objectSchema(
    'DockerManifestSpec',
    {
      repository: str('Repository'),
      digest: str('Digest'),
      media_type: str('Media Type'),
      schema_version: { type: 'integer', title: 'Schema Version' },
      architecture: optStr('Architecture'),
      os: optStr('Os'),
      size: optInt('Size'),
      config_digest: optStr('Config Digest'),
      layer_digests: { type: 'array', items: { type: 'string' }, title: 'Layer Digests', default: [] },
      created: optStr('Created'),
      registry_url: str('Registry Url'),
      // Added by this action:
      variant: optStr('Variant'),
      platforms: stringList('Platforms'),
      role: optional('Role', {
        type: 'string',
        enum: ['index', 'image', 'signature', 'attestation', 'sbom', 'artifact'],
      }),
      artifact_type: optStr('Artifact Type'),
      predicate_types: stringList('Predicate Types'),
      subject: optStr('Subject'),
      verification: optional('Verification', { type: 'string', enum: ['verified', 'bad', 'unknown-key'] }),
    },
    ['repository', 'digest', 'media_type', 'schema_version', 'registry_url'],
  ),
};

const DESCRIPTIONS: Record<DockerKind, string> = {
  DockerRegistry: 'A container registry',
  DockerRepository: 'A repository in a container registry',
  DockerImage: 'A tagged container image',
  DockerManifest:
    'An image manifest, an index, or an accessory of one (signature, attestation, SBOM), by digest',
};

export const DOCKER_KINDS: readonly DockerKind[] = [
  'DockerRegistry',
  'DockerRepository',
  'DockerImage',
  'DockerManifest',
];

export function entityDefinitions(): EntityDefinition[] {
  return DOCKER_KINDS.map((kind) => ({
    group: ENTITY_GROUP,
    kind,
    list_kind: `${kind}List`,
    plural: PLURALS[kind],
    singular: kind.toLowerCase(),
    name: ENTITY_VERSION,
    description: DESCRIPTIONS[kind],
    spec: SPECS[kind],
  }));
}
