// The manifests a repository holds with no tag on them and no index above them: old builds whose
// tag moved on, images pushed by digest. A vendor that lists untagged manifests (GHCR's package
// versions, Harbor's artifacts, ACR's manifests) reports them from the same content its /v2 side
// serves, with the facts a tag of theirs would have: push time, size, platforms.
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { type TagFact, tagFacts } from './content-facts.js';

/** What a vendor knows of an untagged manifest: a TagFact without the tag. */
export type UntaggedFact = Omit<TagFact, 'tag'>;

interface Doc {
  manifests?: Array<{ digest: string }>;
  subject?: unknown;
}

/**
 * Every manifest no tag points at that is neither an index's child (a platform or attestation
 * manifest, which vendors report with their index) nor a referrer (which each vendor reports in
 * its own way), in digest order.
 */
export function untaggedFacts(repo: RepositoryContent): UntaggedFact[] {
  const tagged = new Set(Object.values(repo.tags));
  const docs = repo.manifests.map((m) => ({ m, doc: JSON.parse(m.bytes.toString('utf8')) as Doc }));
  const children = new Set(docs.flatMap(({ doc }) => (doc.manifests ?? []).map((c) => c.digest)));
  return docs
    .filter(({ m, doc }) => !tagged.has(m.digest) && !children.has(m.digest) && !doc.subject)
    .map(({ m }) => m.digest)
    .sort()
    .map((digest) => {
      // The facts of a tag on this digest, computed the one way every fake computes them.
      const { tag: _, ...fact } = tagFacts({ ...repo, tags: { untagged: digest } })[0]!;
      return fact;
    });
}
