// "A vendor's fast path and the plain OCI path must agree": the graph either way must be the same
// except for the registry's identity and the facts only a vendor API knows (push times, scanner
// counts, repository description and popularity, and the bytes of untagged manifests, which only a
// vendor listing names). This strips exactly those, nothing else.
import type { Graph } from '../../src/model/graph.js';

/** Spec fields only a vendor API can fill, per kind. */
export const VENDOR_ONLY_FIELDS: Readonly<Record<string, readonly string[]>> = {
  DockerRepository: ['description', 'star_count', 'pull_count', 'official', 'automated', 'last_updated'],
  DockerImage: ['last_updated', 'vulnerabilities'],
  DockerManifest: [],
};

/** Entities other than the registry, with vendor-only fields removed, as stable JSON. */
export function comparableGraph(g: Graph): string {
  return JSON.stringify(
    g.entities
      .filter((e) => e.kind !== 'DockerRegistry')
      .map((e) => {
        const spec = { ...e.spec };
        for (const f of VENDOR_ONLY_FIELDS[e.kind] ?? []) delete spec[f];
        delete spec.registry_url;
        if (spec.storage && typeof spec.storage === 'object') {
          const { untagged_bytes: _vendorOnly, ...storage } = spec.storage as Record<string, unknown>;
          spec.storage = storage;
        }
        return { kind: e.kind, name: e.metadata.name, spec };
      }),
    null,
    1,
  );
}
