// What retention planning and storage accounting read of one repository: its tags, and every
// manifest discovery reached (tagged images, index children, accessories), each with the blobs it
// references. Plain values, built from discovery's records or read back from a graph file, so the
// planner and the storage figures are pure functions of it.
import type { ManifestRole } from '../model/discovery.js';

export interface Blob {
  digest: string;
  /** Bytes as the registry stores them (compressed layers). */
  size: number;
}

export interface InventoryManifest {
  digest: string;
  role: ManifestRole;
  /** The manifest document's own bytes. */
  size: number;
  /** Config and layers, as the manifest's descriptors give them; none for an index. */
  blobs: Blob[];
  /** An index's platform and attestation manifests. */
  children: string[];
  /** What an accessory refers to (its subject, and any other digest it was found under). */
  subjects: string[];
  /** Push time where the registry gives one, else the image's created time (RFC 3339). */
  pushedAt?: string;
  created?: string;
}

export interface InventoryTag {
  tag: string;
  digest: string;
  pushedAt?: string;
  created?: string;
}

export interface RepositoryInventory {
  provider: string;
  registry: string;
  repository: string;
  /** The repository's receipt was complete: every tag listed, every selected tag read. */
  complete: boolean;
  /** Some listed tags were not read (max_tags): storage figures cover only what was. */
  partial: boolean;
  /** Every tag read, accessory tags included (they hold accessories, not images). */
  tags: InventoryTag[];
  /**
   * How many tags the registry listed, read or not (the receipt's tags_listed). More than `tags`
   * holds means some were never read (max_tags, include_tags, exclude_tags): retention then makes
   * no plan, since an unread tag may sit on a digest it would delete.
   */
  tagsListed?: number;
  manifests: Map<string, InventoryManifest>;
  /** Untagged manifests, where the registry lists them (ECR, GHCR versions, Harbor, ACR). */
  untagged?: InventoryManifest[];
}

/**
 * The inventory less the manifests `gone` names (what a retention apply deleted) and the tags on
 * them: what the repository holds after the apply, for its storage figures.
 */
export function withoutManifests(
  inventory: RepositoryInventory,
  gone: (digest: string) => boolean,
): RepositoryInventory {
  return {
    ...inventory,
    tags: inventory.tags.filter((t) => !gone(t.digest)),
    manifests: new Map([...inventory.manifests].filter(([digest]) => !gone(digest))),
    ...(inventory.untagged ? { untagged: inventory.untagged.filter((m) => !gone(m.digest)) } : {}),
  };
}
