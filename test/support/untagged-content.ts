// One repository for untagged_older_than against each vendor's fake: what its listing names
// without a tag, old and young, beside a tagged multi-arch image whose platform manifests are
// untagged too. Retention counts ages from the clock, so the content is dated back from it.
import {
  type BuiltImage,
  buildImage,
  buildIndex,
  RepositoryBuilder,
  type RepositoryContent,
} from '../../src/demo/image-builder.js';
import { discoverText } from './discover-text.js';

const DAY_MS = 24 * 3_600_000;

/** RFC 3339 (whole seconds) of `days` before `now`. */
function daysBefore(now: number, days: number): string {
  return new Date(now - days * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const AMD64 = { architecture: 'amd64', os: 'linux' };
const ARM64 = { architecture: 'arm64', os: 'linux', variant: 'v8' };

function multiArch(version: string, created: string, attest: boolean) {
  const images = [AMD64, ARM64].map((platform) =>
    buildImage({ platform, created, seed: `untagged-${version}`, layerCount: 1, layerSize: 256 }),
  );
  return buildIndex({ images, attest });
}

const single = (version: string, created: string): BuiltImage =>
  buildImage({ created, seed: `untagged-${version}`, layerCount: 2, layerSize: 300 });

export interface UntaggedContent {
  content: RepositoryContent;
  /** Tagged `v2`, 90 days old: its platform and attestation manifests are old and untagged. */
  kept: ReturnType<typeof multiArch>;
  /** A single-platform build whose tag moved on, 61 days old. */
  oldImage: BuiltImage;
  /** A multi-arch build whose tag moved on, 30 days old, with its two platform manifests. */
  oldIndex: ReturnType<typeof multiArch>;
  /** Pushed by digest two days ago: too young for untagged_older_than 7d. */
  youngImage: BuiltImage;
  /** The single image tagged `v3` and `latest`, 20 days old. */
  tagged: BuiltImage;
  /** Digests a plan with untagged_older_than 7d deletes: the old image, the old index and its platforms. */
  oldDigests: string[];
}

/** The content, dated back from `now` (ms): its digests change with the clock. */
export function untaggedRepository(name: string, now = Date.now()): UntaggedContent {
  const kept = multiArch('2.0.0', daysBefore(now, 90), true);
  const oldImage = single('1.0.0', daysBefore(now, 61));
  const oldIndex = multiArch('1.5.0', daysBefore(now, 30), false);
  const youngImage = single('3.1.0-rc', daysBefore(now, 2));
  const tagged = single('3.0.0', daysBefore(now, 20));
  const content = new RepositoryBuilder(name)
    .addIndex(kept, 'v2')
    .addImage(oldImage)
    .addIndex(oldIndex)
    .addImage(youngImage)
    .addImage(tagged, 'v3', 'latest')
    .build();
  return {
    content,
    kept,
    oldImage,
    oldIndex,
    youngImage,
    tagged,
    oldDigests: [
      oldImage.manifest.digest,
      oldIndex.manifest.digest,
      ...oldIndex.children.map((c) => c.manifest.digest),
    ].sort(),
  };
}

/**
 * One run of discovery over a config's text, as the shells run it, planning retention and, with
 * `apply`, deleting what the plan lists.
 */
export function runRetention(configText: string, apply = false) {
  return discoverText(configText, apply ? { applyRetention: {} } : {});
}
