// The repositories behind `npm run demo`: a small but realistic registry that shows off what the
// inventory understands (OCI indexes with BuildKit attestations, Docker manifest lists, labelled
// single-arch images, cosign signatures, nested names, reproducible-build timestamps).
//
// Everything here is deterministic: fixed timestamps and seeds, so the demo graph is byte-identical
// from run to run.
import { createHash } from 'node:crypto';
import {
  type BuiltImage,
  buildImage,
  buildIndex,
  buildSignature,
  type Format,
  type Platform,
  RepositoryBuilder,
  type RepositoryContent,
  signatureTag,
} from './image-builder.js';

const AMD64: Platform = { architecture: 'amd64', os: 'linux' };
const ARM64_V8: Platform = { architecture: 'arm64', os: 'linux', variant: 'v8' };
const ARM_V7: Platform = { architecture: 'arm', os: 'linux', variant: 'v7' };

/** A stable, realistic-looking 40-hex git commit id derived from a seed. */
function commit(seed: string): string {
  return createHash('sha1').update(`demo-commit/${seed}`).digest('hex');
}

function multiArch(
  format: Format,
  seed: string,
  created: string,
  platforms: Platform[],
  opts: { attest?: boolean; layerCount?: number; layerSize?: number } = {},
) {
  const images = platforms.map((platform) =>
    buildImage({
      format,
      platform,
      created,
      seed,
      layerCount: opts.layerCount ?? 3,
      layerSize: opts.layerSize ?? 3072,
    }),
  );
  return buildIndex({ format, images, attest: opts.attest });
}

function nginx(): RepositoryContent {
  const platforms = [AMD64, ARM64_V8];
  const build = (version: string, created: string) =>
    multiArch('oci', `nginx-${version}`, created, platforms, { attest: true, layerCount: 3 });
  return new RepositoryBuilder('library/nginx')
    .addIndex(build('1.27.2', '2024-10-02T17:55:35Z'), '1.27.2', '1.27', 'latest')
    .addIndex(build('1.26.1', '2024-06-11T21:04:12Z'), '1.26.1', '1.26', 'stable')
    .addIndex(build('1.25.4', '2024-02-14T18:23:40Z'), '1.25.4')
    .build();
}

function redis(): RepositoryContent {
  const platforms = [AMD64, ARM64_V8, ARM_V7];
  const build = (flavour: string, created: string, layerCount: number) =>
    multiArch('docker', `redis-${flavour}`, created, platforms, { layerCount, layerSize: 2560 });
  return new RepositoryBuilder('library/redis')
    .addIndex(build('7.4.1', '2024-10-03T09:12:44Z', 4), '7.4.1', '7.4', '7', 'latest')
    .addIndex(build('7.4.1-alpine', '2024-10-03T09:31:07Z', 2), '7.4.1-alpine', '7.4-alpine', '7-alpine')
    .addIndex(build('7.2.6', '2024-09-12T04:48:19Z', 4), '7.2.6')
    .build();
}

function paymentsApi(): RepositoryContent {
  const repo = new RepositoryBuilder('acme/payments-api');
  const image = (version: string, revision: string, created: string, seed: string): BuiltImage =>
    buildImage({
      format: 'oci',
      platform: AMD64,
      created,
      seed,
      layerCount: 3,
      layerSize: 4096,
      labels: {
        'org.opencontainers.image.source': 'https://github.com/acme/payments-api',
        'org.opencontainers.image.revision': revision,
        'org.opencontainers.image.version': version,
        'org.opencontainers.image.title': 'payments-api',
        'org.opencontainers.image.vendor': 'ACME Corp',
        'org.opencontainers.image.licenses': 'Apache-2.0',
        'org.opencontainers.image.created': created,
      },
    });
  const releases: Array<[string, string]> = [
    ['1.0.0', '2024-03-04T10:15:00Z'],
    ['1.1.0', '2024-04-22T14:02:31Z'],
    ['1.2.0', '2024-06-10T08:47:12Z'],
    ['1.3.0', '2024-08-19T16:30:05Z'],
    ['1.4.0', '2024-10-28T11:09:54Z'],
  ];
  let latest: BuiltImage | undefined;
  for (const [version, created] of releases) {
    latest = image(version, commit(`payments-api/v${version}`), created, `payments-api-v${version}`);
    repo.addImage(latest, `v${version}`);
  }
  // `main` is one commit ahead of the last release, also pushed under its short-sha tag.
  const headRevision = commit('payments-api/main');
  const head = image('1.4.0-main', headRevision, '2024-11-06T09:41:27Z', 'payments-api-main');
  repo.addImage(head, 'main', `sha-${headRevision.slice(0, 7)}`);
  // The latest release is signed with cosign (signature stored under `sha256-<hex>.sig`).
  const subject = latest!.manifest.digest;
  repo.addImage(buildSignature(subject, 'payments-api-v1.4.0-sig'), signatureTag(subject));
  return repo.build();
}

function ingressController(): RepositoryContent {
  const repo = new RepositoryBuilder('acme/platform/ingress-controller');
  const image = (version: string, created: string) =>
    buildImage({
      format: 'docker',
      platform: AMD64,
      created,
      seed: `ingress-controller-${version}`,
      layerCount: 4,
      layerSize: 2048,
      labels: { 'org.opencontainers.image.version': version, maintainer: 'platform-team@acme.example' },
    });
  repo.addImage(image('2.3.0', '2024-05-16T13:20:45Z'), '2.3.0');
  repo.addImage(image('2.3.1', '2024-07-01T07:58:02Z'), '2.3.1');
  repo.addImage(image('2.4.0', '2024-09-25T15:14:39Z'), '2.4.0', 'latest');
  return repo.build();
}

function webFrontend(): RepositoryContent {
  const platforms = [AMD64, ARM64_V8];
  const build = (version: string, created: string) =>
    multiArch('oci', `web-frontend-${version}`, created, platforms, { layerCount: 2, layerSize: 2048 });
  return new RepositoryBuilder('acme/web-frontend')
    .addIndex(build('2024.10.2', '2024-10-15T12:00:03Z'), '2024.10.2')
    .addIndex(build('2024.11.1', '2024-11-04T12:00:11Z'), '2024.11.1', 'latest')
    .addIndex(build('pr-418', '2024-11-07T18:22:50Z'), 'pr-418')
    .build();
}

function legacyBatch(): RepositoryContent {
  const repo = new RepositoryBuilder('acme/legacy-batch');
  // Reproducible builds (ko, Bazel, Nix, SOURCE_DATE_EPOCH=0) stamp the Unix epoch as `created`.
  const reproducible = buildImage({
    format: 'oci',
    platform: AMD64,
    created: '1970-01-01T00:00:00Z',
    seed: 'legacy-batch-0.9.3',
    layerCount: 2,
    layerSize: 1536,
    labels: { 'org.opencontainers.image.source': 'https://github.com/acme/legacy-batch' },
  });
  const older = buildImage({
    format: 'docker',
    platform: AMD64,
    created: '2021-08-30T22:41:18Z',
    seed: 'legacy-batch-0.9.2',
    layerCount: 2,
    layerSize: 1536,
  });
  repo.addImage(older, '0.9.2');
  repo.addImage(reproducible, '0.9.3', 'latest');
  return repo.build();
}

/** The demo registry's content: six repositories, 34 tags, all deterministic. */
export function sampleRepositories(): RepositoryContent[] {
  return [nginx(), redis(), paymentsApi(), ingressController(), webFrontend(), legacyBatch()];
}
