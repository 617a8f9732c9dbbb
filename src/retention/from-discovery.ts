// A repository as discovery left it, made the inventory retention planning and storage accounting
// read. Nothing is fetched: every size comes from the descriptors of the manifests already read.
import {
  type ManifestRecord,
  type RepositoryResult,
  roleOf,
  type UntaggedManifest,
} from '../model/discovery.js';
import { isIndexType } from '../oci/media-types.js';
import type { Blob, InventoryManifest, InventoryTag, RepositoryInventory } from './inventory.js';

/**
 * The inventory of one discovered repository.
 *
 * `complete` is the receipt's. `partial` says the storage figures cannot cover the repository: the
 * receipt is incomplete, some listed tags other than accessory tags were not read (max_tags,
 * exclude_tags), or a manifest's bytes are unknown (one a vendor listing described instead of it
 * being read, a schema 1 manifest, an index child that was not read). `untagged` is set where the
 * vendor listing names untagged manifests (RepositoryResult.untagged); one discovery did not read
 * is counted by the size the vendor gives, as one piece, since its layers were never listed.
 */
export function inventoryOf(
  provider: string,
  registry: string,
  result: RepositoryResult,
): RepositoryInventory {
  const { receipt } = result;
  const pushedAt = newestPushOf(result);
  const tags: InventoryTag[] = result.images.map((image) => {
    const created = result.manifests.get(image.digest)?.created;
    return {
      tag: image.tag,
      digest: image.digest,
      ...(image.pushedAt ? { pushedAt: image.pushedAt } : {}),
      ...(created ? { created } : {}),
    };
  });
  // Accessory tags hold signatures, attestations and referrer indexes, not images: listed so that
  // what deleting their subject takes along can be named.
  for (const { tag, digest } of result.accessoryTags ?? []) tags.push({ tag, digest });
  let sizesUnknown = false;
  const manifests = new Map<string, InventoryManifest>();
  for (const m of result.manifests.values()) {
    const children = [...(m.children ?? []), ...(m.attestationChildren ?? []).map((a) => a.digest)];
    if (!sizesKnown(m) || children.some((c) => !result.manifests.has(c))) sizesUnknown = true;
    const pushed = pushedAt.get(m.digest);
    manifests.set(m.digest, {
      digest: m.digest,
      role: roleOf(m),
      size: m.documentSize ?? 0,
      blobs: blobsOf(m),
      children,
      subjects: m.subject ? [m.subject, ...(m.alsoRefersTo ?? [])] : [],
      ...(pushed ? { pushedAt: pushed } : {}),
      ...(m.created ? { created: m.created } : {}),
    });
  }
  const unread = receipt.tags_selected < receipt.tags_listed - (receipt.accessory_tags ?? 0);
  return {
    provider,
    registry,
    repository: result.name,
    complete: receipt.complete,
    partial: !receipt.complete || unread || sizesUnknown,
    tagsListed: receipt.tags_listed,
    tags,
    manifests,
    ...(result.untagged ? { untagged: result.untagged.map((u) => untaggedOf(u, manifests)) } : {}),
  };
}

/** An untagged manifest as the planner reads it: the record discovery made, else the listing's facts. */
function untaggedOf(u: UntaggedManifest, read: Map<string, InventoryManifest>): InventoryManifest {
  const known = read.get(u.digest);
  if (known) return u.pushedAt && !known.pushedAt ? { ...known, pushedAt: u.pushedAt } : known;
  return {
    digest: u.digest,
    role: isIndexType(u.mediaType) || u.children?.length ? 'index' : 'image',
    size: u.size ?? 0,
    blobs: [],
    children: u.children ?? [],
    subjects: [],
    ...(u.pushedAt ? { pushedAt: u.pushedAt } : {}),
  };
}

/**
 * Each tagged digest's newest push time. Where a registry dates tags rather than digests (Docker
 * Hub), a digest pushed again under a new tag is as young as that push: retention must not find
 * it older than the newest tag that brought it.
 */
function newestPushOf(result: RepositoryResult): Map<string, string> {
  const newest = new Map<string, string>();
  for (const { digest, pushedAt } of result.images) {
    if (!pushedAt) continue;
    const known = newest.get(digest);
    if (!known || Date.parse(pushedAt) > Date.parse(known)) newest.set(digest, pushedAt);
  }
  return newest;
}

/** Whether the record states the bytes of the document and of every blob it references. */
function sizesKnown(m: ManifestRecord): boolean {
  if (m.documentSize === undefined) return false;
  if (m.configDigest !== undefined && m.configSize === undefined) return false;
  const layers = m.layerDigests?.length ?? 0;
  return layers === 0 || m.layerSizes?.length === layers;
}

/** Config, then layers; a size the record does not state is 0 (and the inventory partial). */
function blobsOf(m: ManifestRecord): Blob[] {
  const blobs: Blob[] = [];
  if (m.configDigest) blobs.push({ digest: m.configDigest, size: m.configSize ?? 0 });
  const layers = m.layerDigests ?? [];
  for (let i = 0; i < layers.length; i++) blobs.push({ digest: layers[i]!, size: m.layerSizes?.[i] ?? 0 });
  return blobs;
}
