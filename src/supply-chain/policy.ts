// `require:` applied to a finished graph: each DockerImage against the rules of the selector that
// picked it. It reads only the graph's spec fields, so a merged or downloaded graph is judged the
// same as the graph of a run, and it takes the images one at a time: a graph of any size is never
// held whole.
import { selectorFor } from '../config/select.js';
import type { ProviderSettings, Requirements } from '../config/settings.js';
import { asSource, type GraphSource } from '../graph/graph-source.js';
import { DISCOVERY_SOURCE, type Entity, type Graph } from '../model/graph.js';

export type PolicyRule = 'signed' | 'verified' | 'sbom' | 'provenance' | 'platforms' | 'max_critical';

export interface PolicyViolation {
  provider: string;
  repository: string;
  tag: string;
  digest: string;
  rule: PolicyRule;
  /** What was found instead, or why it could not be checked. */
  detail: string;
}

export interface PolicyReport {
  /** Images some `require:` applied to. */
  checked: number;
  /** Images with at least one violation. */
  failed: number;
  /** In graph order, each image's in the order of PolicyRule. */
  violations: PolicyViolation[];
}

/** Whether any selector of `providers` has a `require:`: only then is there a policy to report on. */
export function hasPolicy(providers: readonly Pick<ProviderSettings, 'selectors'>[]): boolean {
  return providers.some((p) => p.selectors.some((s) => s.require));
}

/**
 * Every image of `graph` against its selector's `require:`; undefined when no selector has one.
 * An image's provider is its discovery-source annotation; a provider absent from `providers` (a
 * merge given another config) and a repository no selector matches have no policy.
 */
export function evaluatePolicy(
  graph: Graph | GraphSource,
  providers: readonly Pick<ProviderSettings, 'name' | 'selectors'>[],
): PolicyReport | undefined {
  if (!hasPolicy(providers)) return undefined;
  const selectors = new Map(providers.map((p) => [p.name, p.selectors]));
  const report: PolicyReport = { checked: 0, failed: 0, violations: [] };
  // A repository's images mostly come one after another in graph order: its selector is looked up
  // once per run of them.
  let last: { provider: string; repository: string; require: Requirements | undefined } | undefined;
  for (const image of asSource(graph).entities(['DockerImage'])) {
    const provider = image.metadata.annotations?.[DISCOVERY_SOURCE];
    const repository = image.spec.repository;
    if (provider === undefined || typeof repository !== 'string') continue;
    if (last?.provider !== provider || last.repository !== repository) {
      const selector = selectorFor(repository, selectors.get(provider) ?? []);
      last = { provider, repository, require: selector?.require };
    }
    const { require } = last;
    if (!require) continue;
    report.checked++;
    const found = imageViolations(image.spec, require);
    if (found.length === 0) continue;
    report.failed++;
    const where = { provider, repository, tag: String(image.spec.tag), digest: String(image.spec.digest) };
    for (const { rule, detail } of found) report.violations.push({ ...where, rule, detail });
  }
  return report;
}

type Finding = Pick<PolicyViolation, 'rule' | 'detail'>;

/** What each trust flag's false means; its absence means what refers to the image could not all be read. */
const FLAGS: Array<[Extract<PolicyRule, keyof Requirements>, string]> = [
  ['signed', 'no signature refers to the image or to every platform manifest of it'],
  ['verified', 'no signature by a configured verify key refers to the image'],
  ['sbom', 'no SBOM refers to the image or to every platform manifest of it'],
  ['provenance', 'no provenance attestation refers to the image or to every platform manifest of it'],
];

/** The rules of `require` one image's spec breaks, in the order of PolicyRule. */
export function imageViolations(spec: Entity['spec'], require: Requirements): Finding[] {
  const out: Finding[] = [];
  for (const [rule, missing] of FLAGS) {
    if (!require[rule] || spec[rule] === true) continue;
    out.push({
      rule,
      detail:
        spec[rule] === false
          ? missing
          : "could not be checked: what refers to the image could not all be read (the run's notes say why)",
    });
  }
  if (require.platforms) {
    const has = Array.isArray(spec.platforms) ? spec.platforms.map(String) : undefined;
    if (!has)
      out.push({ rule: 'platforms', detail: "could not be checked: the image's platforms are unknown" });
    else {
      const lacking = require.platforms.filter((p) => !has.some((h) => platformMeets(h, p)));
      if (lacking.length > 0)
        out.push({
          rule: 'platforms',
          detail: `lacks ${lacking.join(', ')} (has ${has.length > 0 ? has.join(', ') : 'none'})`,
        });
    }
  }
  if (require.maxCritical !== undefined) {
    const counts = spec.vulnerabilities as Record<string, unknown> | undefined;
    if (!counts || typeof counts !== 'object')
      out.push({
        rule: 'max_critical',
        detail: 'no vulnerability counts: no scanner result or vulnerability report was found for the image',
      });
    else {
      // A scan that found no critical vulnerability may leave the key out.
      const critical = typeof counts.critical === 'number' ? counts.critical : 0;
      if (critical > require.maxCritical)
        out.push({
          rule: 'max_critical',
          detail: `${critical} critical vulnerabilities, over the ${require.maxCritical} allowed (counts from ${vulnerabilitySource(counts)})`,
        });
    }
  }
  return out;
}

/** Where an image's vulnerability counts came from, in words. */
export function vulnerabilitySource(counts: Record<string, unknown>): string {
  return typeof counts.source === 'string' && counts.source ? counts.source : "the registry's scanner";
}

/** `linux/arm64` is met by `linux/arm64/v8`; `linux/arm/v7` only by itself. */
function platformMeets(has: string, required: string): boolean {
  return has === required || has.startsWith(`${required}/`);
}
