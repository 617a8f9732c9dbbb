// How many requests one host gets at once, adjusted from what its answers say. AIMD, as TCP
// congestion control: start at the configured (or default) limit, halve on 429/503, cut by a
// quarter when answers slow down (recent latency well above the host's usual: requests queueing
// at the registry), and give one slot back per window of good answers. The limit never rises
// above the ceiling (the configured `concurrency` or the default) nor above the budget a
// rate-limit header says is left. Pure: the caller reports each request's start and answer and
// applies `limit`; no timers, no I/O.

export interface AdaptiveLimitOptions {
  /** The configured or default per-host concurrency: where the limit starts and the most it gets. */
  ceiling: number;
  /** Factor applied on 429 / 503: the registry said "too many". */
  overloadFactor?: number;
  /** Factor applied when answers slow down: queueing, not yet refusal, so a gentler cut. */
  slowdownFactor?: number;
  /** Latency counts as grown when recent > `tolerance × usual + slackMs`. */
  latencyTolerance?: number;
  /** Absolute slack, so that jitter on a fast link (1 ms → 3 ms on loopback) is not a slowdown. */
  latencySlackMs?: number;
  /** Answers of one kind needed after a change before their latency may cut the limit again. */
  minSamples?: number;
}

export interface Answer {
  /** HTTP status; undefined when the request failed without one (reset, refused, timeout). */
  status?: number;
  /** A timeout: the answer took too long, which says "slower" as clearly as a slow answer. */
  timedOut?: boolean;
  /** Time from sending to the end of the body, in ms. */
  latencyMs: number;
  /** Lowercase response headers, for rate-limit budgets. */
  headers?: Readonly<Record<string, string>>;
  /** What was asked (manifest, blob, tags…): bodies differ in size, so latency is compared per kind. */
  kind?: string;
}

/**
 * Two moving averages of one kind's latency: the usual (slow) and the recent (fast). Compared with
 * each other rather than with the fastest answer seen, so a registry whose answers are always
 * mixed (CDN hits at 10 ms, origin at 100 ms) is not taken for one that is slowing down.
 */
interface LatencyStats {
  usual: number;
  recent: number;
  /** Answers since the last cut (recent) and in all (usual). */
  samples: number;
  total: number;
}

const USUAL_WEIGHT = 0.01;
const RECENT_WEIGHT = 0.1;

/**
 * The budget a rate-limit header says is left: Docker Hub's `ratelimit-remaining: 76;w=21600`,
 * GitHub's and Hub API's `x-ratelimit-remaining: 4999`, the IETF draft's combined
 * `ratelimit: limit=100, remaining=50, reset=30`. Undefined when none is sent.
 */
export function remainingBudget(headers: Readonly<Record<string, string>>): number | undefined {
  const values: number[] = [];
  for (const name of ['ratelimit-remaining', 'x-ratelimit-remaining']) {
    const m = /^\s*(\d+)/.exec(headers[name] ?? '');
    if (m) values.push(Number(m[1]));
  }
  const combined = /(?:^|[,;\s])remaining\s*=\s*(\d+)/i.exec(headers.ratelimit ?? '');
  if (combined) values.push(Number(combined[1]));
  return values.length ? Math.min(...values) : undefined;
}

export class AdaptiveLimit {
  private ceiling: number;
  /** The congestion window; fractional after a cut (16 × 0.75 × 0.75 = 9), floored when applied. */
  private window: number;
  /** Good answers since the window last grew. */
  private credit = 0;
  /** What the last rate-limit header left; caps the limit while it is below the ceiling. */
  private budget: number | undefined;
  private sent = 0;
  /** Answers to requests sent up to this ticket predate the last cut and cannot cut again. */
  private cutAt = 0;
  private readonly latency = new Map<string, LatencyStats>();
  private readonly overloadFactor: number;
  private readonly slowdownFactor: number;
  private readonly tolerance: number;
  private readonly slackMs: number;
  private readonly minSamples: number;
  /** How often the limit was cut, and why (tests, diagnostics). */
  readonly cuts = { overload: 0, slowdown: 0 };

  constructor(options: AdaptiveLimitOptions) {
    this.ceiling = Math.max(1, Math.floor(options.ceiling));
    this.window = this.ceiling;
    this.overloadFactor = options.overloadFactor ?? 0.5;
    this.slowdownFactor = options.slowdownFactor ?? 0.75;
    this.tolerance = options.latencyTolerance ?? 1.5;
    this.slackMs = options.latencySlackMs ?? 10;
    this.minSamples = options.minSamples ?? 10;
  }

  /** Requests allowed in flight now. */
  get limit(): number {
    const capped = Math.min(Math.floor(this.window), this.ceiling, this.budget ?? Number.POSITIVE_INFINITY);
    return Math.max(1, capped);
  }

  /** A new configured limit starts the host afresh at it. */
  setCeiling(ceiling: number): void {
    this.ceiling = Math.max(1, Math.floor(ceiling));
    this.window = this.ceiling;
    this.cutAt = this.sent;
  }

  /** Call as a request is sent; hand the ticket back with its answer. */
  start(): number {
    return ++this.sent;
  }

  /** Feeds one answer in; returns the limit to apply. */
  answered(ticket: number, answer: Answer): number {
    if (answer.headers) {
      const left = remainingBudget(answer.headers);
      if (left !== undefined) this.budget = left;
    }
    const kind = answer.kind ?? '';
    if (answer.status === 429 || answer.status === 503) {
      this.cut(ticket, this.overloadFactor, 'overload');
    } else if (answer.timedOut) {
      this.cut(ticket, this.slowdownFactor, 'slowdown');
    } else if (answer.status !== undefined && answer.status < 500) {
      if (this.slowedDown(kind, answer.latencyMs)) this.cut(ticket, this.slowdownFactor, 'slowdown');
      // One slot per window of good answers, the additive half of AIMD; answers to requests sent
      // before the last cut describe the old window and earn nothing.
      else if (ticket > this.cutAt && this.window < this.ceiling && ++this.credit >= this.limit) {
        this.window = Math.min(this.ceiling, Math.floor(this.window) + 1);
        this.credit = 0;
      }
    }
    return this.limit;
  }

  private slowedDown(kind: string, ms: number): boolean {
    const s = this.latency.get(kind);
    if (!s) {
      this.latency.set(kind, { usual: ms, recent: ms, samples: 1, total: 1 });
      return false;
    }
    s.usual += USUAL_WEIGHT * (ms - s.usual);
    s.recent = s.samples === 0 ? ms : s.recent + RECENT_WEIGHT * (ms - s.recent);
    s.samples++;
    s.total++;
    return (
      s.samples >= this.minSamples &&
      s.total >= this.minSamples &&
      s.recent > this.tolerance * s.usual + this.slackMs
    );
  }

  private cut(ticket: number, factor: number, why: keyof AdaptiveLimit['cuts']): void {
    // Once per window: the other answers already on their way were sent at the old rate.
    if (ticket <= this.cutAt) return;
    this.window = Math.max(1, Math.min(this.window, this.limit) * factor);
    this.cutAt = this.sent;
    this.credit = 0;
    this.cuts[why]++;
    // Latency measured before the cut says nothing about the new window.
    for (const s of this.latency.values()) s.samples = 0;
  }
}
