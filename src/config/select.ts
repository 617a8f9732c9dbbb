import type { Selector } from './settings.js';

/**
 * Splits a repository name the way Devgraph does: the namespace is the first path segment and
 * the name is the rest (`org/team/app` → `org`, `team/app`; `redis` → ``, `redis`).
 */
export function splitRepository(full: string): { namespace: string; name: string } {
  const slash = full.indexOf('/');
  return slash < 0
    ? { namespace: '', name: full }
    : { namespace: full.slice(0, slash), name: full.slice(slash + 1) };
}

/** The first selector that matches a repository; its tag rules apply to that repository. */
export function selectorFor(repository: string, selectors: readonly Selector[]): Selector | undefined {
  const { namespace, name } = splitRepository(repository);
  return selectors.find((s) => s.namespacePattern.test(namespace) && s.repositoryPattern.test(name));
}

const ACCESSORY = /^(sha256-[a-f0-9]{64})(?:\.(sig|att|sbom))?$/;

/**
 * A tag that holds an accessory of another manifest, and the digest it belongs to: cosign's legacy
 * `sha256-<hex>.sig|.att|.sbom`, or `sha256-<hex>` (kind `fallback`), the OCI referrers tag schema's
 * index of referrers on registries without the referrers API.
 */
export function accessoryOf(
  tag: string,
): { subject: string; kind: 'sig' | 'att' | 'sbom' | 'fallback' } | undefined {
  const m = ACCESSORY.exec(tag);
  return m
    ? { subject: m[1]!.replace('-', ':'), kind: (m[2] as 'sig' | 'att' | 'sbom' | undefined) ?? 'fallback' }
    : undefined;
}

/**
 * Tags that may become images: `include_tags` (exact) narrows, `exclude_tags` removes, and
 * accessory tags are kept out unless named in `include_tags`: they describe an image, they are not
 * one.
 */
export function candidateTags(tags: readonly string[], selector: Selector): string[] {
  return tags.filter((tag) => {
    if (selector.includeTags && !selector.includeTags.has(tag)) return false;
    if (selector.excludeTags.some((p) => p.test(tag))) return false;
    if (!selector.includeTags && accessoryOf(tag)) return false;
    return true;
  });
}
