// "Newest" for max_tags. Registries list tags lexically, which is not age: 1.10 sorts before 1.9
// and `latest` after both. We order by the image's creation time, then by semantic version,
// then by name, so the result is total and the same on every run.

export interface Dated {
  tag: string;
  /** RFC 3339 creation time of the image, if known. */
  created?: string;
}

/**
 * A usable creation time in ms, or undefined. Reproducible builds stamp the epoch (or a
 * near-epoch SOURCE_DATE_EPOCH) into `created`; such a value says nothing about age.
 */
export function createdMs(created: string | undefined): number | undefined {
  if (!created) return undefined;
  const ms = Date.parse(created);
  if (Number.isNaN(ms) || ms <= 86_400_000) return undefined;
  return ms;
}

const SEMVER = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseSemver(tag: string): { nums: [number, number, number]; pre?: string } | undefined {
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], ...(m[4] ? { pre: m[4] } : {}) };
}

/** Positive when a is newer than b (semver precedence; a release outranks its pre-releases). */
function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i]! - y.nums[i]!;
  if (x.pre === y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  return comparePrerelease(x.pre, y.pre);
}

function comparePrerelease(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Newest first: creation time, then semantic version, then name (descending). */
export function compareNewestFirst(a: Dated, b: Dated): number {
  const ta = createdMs(a.created);
  const tb = createdMs(b.created);
  if (ta !== undefined || tb !== undefined) {
    if (ta === undefined) return 1;
    if (tb === undefined) return -1;
    if (ta !== tb) return tb - ta;
  }
  const s = compareSemver(b.tag, a.tag);
  if (s !== 0) return s;
  return a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0;
}

/** The newest `max` entries (0 keeps all), newest first. */
export function newest<T extends Dated>(items: readonly T[], max: number): T[] {
  const sorted = [...items].sort(compareNewestFirst);
  return max > 0 ? sorted.slice(0, max) : sorted;
}
