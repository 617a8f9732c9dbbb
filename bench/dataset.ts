// The benchmark's registry content: 20 repositories × 25 tags = 500 tags, built deterministically
// (fixed seeds, fixed `created` dates) with the demo image builder. A mix like the integration
// tests: single-arch OCI and Docker v2 images (some labelled), OCI indexes and Docker manifest
// lists (amd64 + arm64, some with BuildKit attestations), CI-style repositories with two tags per
// image, alias tags (`latest`, `major.minor`) and a couple of cosign signature tags.
import {
  type BuiltImage,
  buildImage,
  buildIndex,
  buildSignature,
  type Content,
  content,
  type Format,
  type Platform,
  RepositoryBuilder,
  type RepositoryContent,
  signatureTag,
} from '../src/demo/image-builder.js';

export const TAGS_PER_REPOSITORY = 25;

const AMD64: Platform = { architecture: 'amd64', os: 'linux' };
const ARM64: Platform = { architecture: 'arm64', os: 'linux', variant: 'v8' };
const LAYERS = { layerCount: 2, layerSize: 512 };

export interface Dataset {
  repositories: RepositoryContent[];
  /** Every tag in the registry (signature tags included). */
  tags: number;
  /** Tags that should become images (all but the cosign accessory tags). */
  imageTags: number;
  signatureTags: number;
  /** Distinct manifests and blobs pushed (for the seeding line). */
  manifests: number;
  blobs: number;
}

/** Hands out strictly increasing `created` times, 7 hours apart, in build order. */
class Clock {
  private n = 0;
  private readonly start = Date.parse('2023-01-02T03:04:05Z');
  next(): string {
    this.n++;
    return new Date(this.start + this.n * 7 * 3_600_000).toISOString().replace('.000Z', 'Z');
  }
}

/** Version number `v` (0-based) of a release series: 1.0.0, 1.0.1, … 1.2.3, 2.0.0, … */
function version(v: number): { full: string; minor: string } {
  const major = 1 + Math.floor(v / 12);
  const minor = Math.floor((v % 12) / 4);
  const patch = v % 4;
  return { full: `${major}.${minor}.${patch}`, minor: `${major}.${minor}` };
}

function labelsFor(repo: string, ver: string): Record<string, string> {
  return {
    'org.opencontainers.image.source': `https://github.com/${repo}`,
    'org.opencontainers.image.version': ver,
    'org.opencontainers.image.revision': shortRev(`${repo}@${ver}`),
    'org.opencontainers.image.title': repo.split('/').pop()!,
  };
}

/** A stable fake git revision (7 hex digits) for a string. */
function shortRev(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0').slice(0, 7);
}

/**
 * All images of one repository (per platform) share the same two small layers; each version has
 * its own config (`created`, labels, history) and so its own manifest digest. The engine never
 * reads layers, only the manifest's descriptors, so this changes nothing it does, while the
 * seeding uploads a third of the blobs (it is CPU-bound: registry and client share the host).
 */
class SharedLayers {
  private readonly layers = new Map<string, Content[]>();
  constructor(private readonly repo: string) {}

  private for(format: Format, platform: Platform): Content[] {
    const key = `${format}/${platform.architecture}`;
    let layers = this.layers.get(key);
    if (!layers) {
      layers = buildImage({
        format,
        platform,
        created: '2022-12-01T00:00:00Z',
        seed: `${this.repo}/layers`,
        ...LAYERS,
      }).layers;
      this.layers.set(key, layers);
    }
    return layers;
  }

  /** `image` with the repository's shared layers in place of its own (config and manifest rebuilt). */
  rebase(image: BuiltImage, format: Format): BuiltImage {
    const layers = this.for(format, image.platform);
    const configDoc = JSON.parse(image.config.bytes.toString('utf8')) as { rootfs: { diff_ids: string[] } };
    configDoc.rootfs.diff_ids = layers.map((l) => l.digest);
    const config = content(image.config.mediaType, JSON.stringify(configDoc));
    const manifestDoc = JSON.parse(image.manifest.bytes.toString('utf8')) as Record<string, unknown>;
    manifestDoc.config = { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length };
    manifestDoc.layers = layers.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.bytes.length,
    }));
    const manifest = content(image.manifest.mediaType, JSON.stringify(manifestDoc, null, 2));
    return { manifest, config, layers, platform: image.platform };
  }
}

interface SingleArchSpec {
  name: string;
  format: Format;
  labelled: boolean;
  /** Tag prefix: `v1.2.3` or `1.2.3`. */
  prefix: string;
  signed: boolean;
}

interface MultiArchSpec {
  name: string;
  format: Format;
  attest: boolean;
  signed: boolean;
}

const SINGLE_ARCH: SingleArchSpec[] = [
  'acme/billing-api',
  'acme/checkout',
  'acme/notifications',
  'acme/search-indexer',
  'acme/web',
  'platform/base/debian',
  'platform/base/python',
  'platform/ingress',
  'platform/log-shipper',
  'data/etl-runner',
  'data/warehouse-sync',
  'tools/migrate',
  'tools/backup',
  'ml/feature-store',
].map((name, i) => ({
  name,
  format: i % 2 === 0 ? 'oci' : 'docker',
  labelled: i % 3 !== 2,
  prefix: i % 4 === 1 ? 'v' : '',
  signed: i === 3,
}));

const MULTI_ARCH: MultiArchSpec[] = [
  { name: 'library/nginx', format: 'oci', attest: true, signed: true },
  { name: 'library/redis', format: 'oci', attest: true, signed: false },
  { name: 'platform/base/node', format: 'oci', attest: false, signed: false },
  { name: 'platform/gateway', format: 'docker', attest: false, signed: false },
];

const CI_STYLE = [
  { name: 'acme/worker', format: 'oci' as Format },
  { name: 'acme/scheduler', format: 'docker' as Format },
];

/**
 * Versions first (oldest to newest), then `major.minor` and `latest` pointing at the newest, then
 * the signature of the newest when the repository is signed; always 25 tags.
 */
function singleArch(spec: SingleArchSpec, clock: Clock): RepositoryBuilder {
  const b = new RepositoryBuilder(spec.name);
  const shared = new SharedLayers(spec.name);
  const count = TAGS_PER_REPOSITORY - 2 - (spec.signed ? 1 : 0);
  let newest: BuiltImage | undefined;
  let newestMinor = '';
  for (let v = 0; v < count; v++) {
    const ver = version(v);
    const built = buildImage({
      format: spec.format,
      created: clock.next(),
      seed: `${spec.name}:${ver.full}`,
      ...(spec.labelled ? { labels: labelsFor(spec.name, ver.full) } : {}),
      ...LAYERS,
    });
    const image = shared.rebase(built, spec.format);
    b.addImage(image, `${spec.prefix}${ver.full}`);
    newest = image;
    newestMinor = `${spec.prefix}${ver.minor}`;
  }
  b.tag(newestMinor, newest!.manifest.digest).tag('latest', newest!.manifest.digest);
  if (spec.signed) {
    const sig = buildSignature(newest!.manifest.digest, `${spec.name}-sig`);
    b.addImage(sig, signatureTag(newest!.manifest.digest));
  }
  return b;
}

function multiArch(spec: MultiArchSpec, clock: Clock): RepositoryBuilder {
  const b = new RepositoryBuilder(spec.name);
  const shared = new SharedLayers(spec.name);
  const count = TAGS_PER_REPOSITORY - 2 - (spec.signed ? 1 : 0);
  let newestDigest = '';
  let newestMinor = '';
  for (let v = 0; v < count; v++) {
    const ver = version(v);
    const created = clock.next();
    const labels = labelsFor(spec.name, ver.full);
    const images = [AMD64, ARM64].map((platform) =>
      shared.rebase(
        buildImage({
          format: spec.format,
          platform,
          created,
          labels,
          seed: `${spec.name}:${ver.full}`,
          ...LAYERS,
        }),
        spec.format,
      ),
    );
    const index = buildIndex({ format: spec.format, images, attest: spec.attest });
    b.addIndex(index, ver.full);
    newestDigest = index.manifest.digest;
    newestMinor = ver.minor;
  }
  b.tag(newestMinor, newestDigest).tag('latest', newestDigest);
  if (spec.signed) {
    b.addImage(buildSignature(newestDigest, `${spec.name}-sig`), signatureTag(newestDigest));
  }
  return b;
}

/** Every image tagged twice, `1.0.N` and `sha-<rev>`, plus `latest`: 12 × 2 + 1 = 25 tags. */
function ciStyle(spec: { name: string; format: Format }, clock: Clock): RepositoryBuilder {
  const b = new RepositoryBuilder(spec.name);
  const shared = new SharedLayers(spec.name);
  const count = (TAGS_PER_REPOSITORY - 1) / 2;
  let newest = '';
  for (let n = 0; n < count; n++) {
    const ver = `1.0.${n}`;
    const rev = shortRev(`${spec.name}#${n}`);
    const built = buildImage({
      format: spec.format,
      created: clock.next(),
      seed: `${spec.name}:${rev}`,
      labels: { 'org.opencontainers.image.revision': rev, 'org.opencontainers.image.version': ver },
      ...LAYERS,
    });
    const image = shared.rebase(built, spec.format);
    b.addImage(image, ver, `sha-${rev}`);
    newest = image.manifest.digest;
  }
  b.tag('latest', newest);
  return b;
}

export function buildDataset(): Dataset {
  const clock = new Clock();
  const builders = [
    ...SINGLE_ARCH.map((s) => singleArch(s, clock)),
    ...MULTI_ARCH.map((s) => multiArch(s, clock)),
    ...CI_STYLE.map((s) => ciStyle(s, clock)),
  ];
  const repositories = builders.map((b) => b.build());
  let tags = 0;
  let signatureTags = 0;
  const blobs = new Set<string>();
  const manifests = new Set<string>();
  for (const repo of repositories) {
    const names = Object.keys(repo.tags);
    if (names.length !== TAGS_PER_REPOSITORY)
      throw new Error(`dataset: ${repo.name} has ${names.length} tags, expected ${TAGS_PER_REPOSITORY}`);
    tags += names.length;
    signatureTags += names.filter((t) => /^sha256-[a-f0-9]{64}\.sig$/.test(t)).length;
    for (const b of repo.blobs) blobs.add(`${repo.name}@${b.digest}`);
    for (const m of repo.manifests) manifests.add(`${repo.name}@${m.digest}`);
  }
  return {
    repositories,
    tags,
    imageTags: tags - signatureTags,
    signatureTags,
    manifests: manifests.size,
    blobs: blobs.size,
  };
}
