// A deterministic dataset for integration tests: fixed seeds and `created` timestamps, so every
// digest below is stable across runs and machines and tests can assert exact values.
import {
  type BuiltImage,
  buildImage,
  buildIndex,
  buildSignature,
  content,
  RepositoryBuilder,
  type RepositoryContent,
  signatureTag,
} from '../../src/demo/image-builder.js';
import { MediaType } from '../../src/oci/media-types.js';

const AMD64 = { architecture: 'amd64', os: 'linux' };
const ARM64 = { architecture: 'arm64', os: 'linux', variant: 'v8' };

// --- library/nginx: OCI indexes, one with BuildKit attestations, three alias tags ---------------

function nginxIndex(version: string, created: string, attest: boolean) {
  const labels = { 'org.opencontainers.image.version': version, maintainer: 'NGINX Docker Maintainers' };
  const images = [AMD64, ARM64].map((platform) =>
    buildImage({ platform, created, labels, seed: `nginx-${version}` }),
  );
  return buildIndex({ images, attest });
}

const nginx1253 = nginxIndex('1.25.3', '2023-10-24T22:44:45Z', true);
const nginx1240 = nginxIndex('1.24.0', '2023-04-11T18:02:11Z', false);

export const NGINX = {
  name: 'library/nginx',
  /** OCI index (amd64 + arm64/v8 + two attestation manifests); tags 1.25.3, 1.25, latest. */
  v1_25_3: nginx1253,
  /** Older OCI index (amd64 + arm64/v8, no attestations); tag 1.24.0. */
  v1_24_0: nginx1240,
  repo: new RepositoryBuilder('library/nginx')
    .addIndex(nginx1240, '1.24.0')
    .addIndex(nginx1253, '1.25.3', '1.25', 'latest')
    .build(),
};

// --- acme/api: Docker v2 schema 2 manifests and a Docker manifest list --------------------------

function apiImage(version: string, created: string, platform = AMD64): BuiltImage {
  return buildImage({
    format: 'docker',
    platform,
    created,
    seed: `acme-api-${version}`,
    labels: {
      'org.opencontainers.image.source': 'https://github.com/acme/api',
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.revision': `rev-${version}`,
      'org.opencontainers.image.title': 'acme api',
    },
  });
}

const api100 = apiImage('1.0.0', '2024-01-10T09:00:00Z');
const api110 = apiImage('1.1.0', '2024-02-20T09:00:00Z');
const api200rc1 = apiImage('2.0.0-rc.1', '2024-03-30T09:00:00Z');
const apiMulti = buildIndex({
  format: 'docker',
  images: [
    apiImage('multi', '2024-04-01T09:00:00Z', AMD64),
    apiImage('multi', '2024-04-01T09:00:00Z', ARM64),
  ],
});

export const ACME_API = {
  name: 'acme/api',
  v1_0_0: api100,
  v1_1_0: api110,
  v2_0_0_rc_1: api200rc1,
  /** Docker manifest list (amd64 + arm64/v8), tag `multi`. */
  multi: apiMulti,
  repo: new RepositoryBuilder('acme/api')
    .addImage(api100, 'v1.0.0')
    .addImage(api110, 'v1.1.0')
    .addImage(api200rc1, 'v2.0.0-rc.1')
    .addIndex(apiMulti, 'multi')
    .build(),
};

// --- org/team/app: nested name, single-arch OCI image, cosign signature tag ---------------------

const appMain = buildImage({
  created: '2024-05-05T12:30:00Z',
  seed: 'org-team-app-abc1234',
  labels: {
    'org.opencontainers.image.revision': 'abc1234',
    'org.opencontainers.image.source': 'https://github.com/org/app',
  },
});
const appSignature = buildSignature(appMain.manifest.digest, 'org-team-app-sig');

export const ORG_TEAM_APP = {
  name: 'org/team/app',
  /** Tags `main` and `sha-abc1234` (same digest). */
  main: appMain,
  /** Cosign signature of `main`, stored under `signatureTag`. */
  signature: appSignature,
  signatureTag: signatureTag(appMain.manifest.digest),
  repo: new RepositoryBuilder('org/team/app')
    .addImage(appMain, 'main', 'sha-abc1234')
    .addImage(appSignature, signatureTag(appMain.manifest.digest))
    .build(),
};

// --- acme/epoch: a reproducible build dated at the Unix epoch next to a normal one ---------------

const epochImage = buildImage({ created: '1970-01-01T00:00:00Z', seed: 'acme-epoch-reproducible' });
const datedImage = buildImage({ created: '2024-06-01T08:00:00Z', seed: 'acme-epoch-dated' });

export const ACME_EPOCH = {
  name: 'acme/epoch',
  /** created 1970-01-01T00:00:00Z; tag `reproducible`. */
  epoch: epochImage,
  /** created 2024-06-01T08:00:00Z; tag `v1.0.0`. */
  dated: datedImage,
  repo: new RepositoryBuilder('acme/epoch')
    .addImage(epochImage, 'reproducible')
    .addImage(datedImage, 'v1.0.0')
    .build(),
};

// --- many/tags: 1,100 tags, each its own image -------------------------------------------------

export const MANY_TAGS_NAME = 'many/tags';
export const MANY_TAGS_COUNT = 1100;
const MANY_TAGS_START = Date.parse('2024-01-01T00:00:00Z');

/** `build-0001` .. `build-1100`. */
export function manyTagName(i: number): string {
  return `build-${String(i).padStart(4, '0')}`;
}

/** `created` of tag number i (1-based): one hour after the previous tag, starting 2024-01-01T01:00:00Z. */
export function manyTagCreated(i: number): string {
  return new Date(MANY_TAGS_START + i * 3_600_000).toISOString().replace('.000Z', 'Z');
}

/**
 * A variant of `base` (an OCI image) with its own config (`created`, `seed` in history) but the
 * very same layer blobs, so a large repository costs one new blob per image instead of several.
 */
export function rebaseImage(base: BuiltImage, created: string, seed: string): BuiltImage {
  const doc = JSON.parse(base.config.bytes.toString('utf8')) as Record<string, unknown>;
  doc.created = created;
  doc.history = [{ created, created_by: `seed ${seed}` }];
  const config = content(base.config.mediaType, JSON.stringify(doc));
  const manifestDoc = JSON.parse(base.manifest.bytes.toString('utf8')) as Record<string, unknown>;
  manifestDoc.config = { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length };
  const manifest = content(MediaType.OciManifest, JSON.stringify(manifestDoc, null, 2));
  return { manifest, config, layers: base.layers, platform: base.platform };
}

let manyTagsCache: { images: BuiltImage[]; repo: RepositoryContent } | undefined;

/**
 * 1,100 tags, each pointing at a DISTINCT image (own config and manifest digest); all images share
 * the same two layer blobs, which keeps the push to ~1,100 small blob uploads. `created` strictly
 * increases with the tag number. Memoised: built once per process.
 */
export function manyTags(): { images: BuiltImage[]; repo: RepositoryContent } {
  if (!manyTagsCache) {
    const base = buildImage({ created: manyTagCreated(0), seed: 'many-base' });
    const builder = new RepositoryBuilder(MANY_TAGS_NAME);
    const images: BuiltImage[] = [];
    for (let i = 1; i <= MANY_TAGS_COUNT; i++) {
      const img = rebaseImage(base, manyTagCreated(i), `many-${i}`);
      images.push(img);
      builder.addImage(img, manyTagName(i));
    }
    manyTagsCache = { images, repo: builder.build() };
  }
  return manyTagsCache;
}

/** The whole dataset; `includeManyTags: false` leaves out the 1,100-tag repository. */
export function seededRepositories(opts: { includeManyTags?: boolean } = {}): RepositoryContent[] {
  const repos = [NGINX.repo, ACME_API.repo, ORG_TEAM_APP.repo, ACME_EPOCH.repo];
  if (opts.includeManyTags ?? true) repos.push(manyTags().repo);
  return repos;
}
