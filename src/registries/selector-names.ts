// Vendors whose APIs list repositories per namespace (Docker Hub, Quay, Harbor projects, GHCR
// owners) cannot enumerate every namespace, so the selectors have to name them. How a selector
// "names" a namespace must be read the same way by every such adapter, or one config would select
// different namespaces on different registries; hence one module.
import type { Selector } from '../config/settings.js';

const LITERAL_NAMESPACE = /^\^?([a-z0-9][a-z0-9._-]*)\$?$/i;

/** The namespace a selector names, or undefined when its pattern is a real regex. */
export function literalNamespace(pattern: string): string | undefined {
  const m = LITERAL_NAMESPACE.exec(pattern);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * The namespaces the selectors name, sorted and without repeats. When a namespace_pattern is a
 * real regex: `refuse(pattern)` is thrown if given (the vendor cannot list without names),
 * otherwise the answer is undefined (the vendor lists namespaces and filters them instead).
 */
export function literalNamespaces(
  selectors: readonly Selector[],
  refuse: (pattern: string) => Error,
): string[];
export function literalNamespaces(selectors: readonly Selector[]): string[] | undefined;
export function literalNamespaces(
  selectors: readonly Selector[],
  refuse?: (pattern: string) => Error,
): string[] | undefined {
  const names = new Set<string>();
  for (const s of selectors) {
    const ns = literalNamespace(s.namespacePattern.source);
    if (!ns) {
      if (refuse) throw refuse(s.namespacePattern.source);
      return undefined;
    }
    names.add(ns);
  }
  return [...names].sort();
}
