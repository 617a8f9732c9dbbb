// A discovery's progress: RunProgress counts it as the run goes, and the rest turns the figures
// into text, the line a terminal redraws in place and the plain line a log (CI, the Actions log)
// gets now and then. The shells own the clock, the timer and the stream (shell/progress-display.ts).

/** What a discovery has done so far (RunProgress counts it). */
export interface ProgressCounts {
  /** Repositories whose discovery has finished. */
  done: number;
  /** Repositories selected over every registry; undefined while a registry is still to be listed. */
  total: number | undefined;
  /** Requests sent so far, every kind and every registry. */
  requests: number;
}

/**
 * A run's progress so far: runDiscovery counts into it, and shows it with `show` (the shell's
 * progress display, which reads the counts on its own clock) while discovery runs. The total is
 * known once every registry is listed.
 */
export class RunProgress {
  private registries: number | undefined;
  private listed = 0;
  private selected = 0;
  private done = 0;
  private requests: () => number = () => 0;
  private shown: { stop(): void } | undefined;

  constructor(private readonly show?: (read: () => ProgressCounts) => { stop(): void }) {}

  counts(): ProgressCounts {
    const total = this.registries !== undefined && this.listed >= this.registries ? this.selected : undefined;
    return { done: this.done, total, requests: this.requests() };
  }

  // The rest is runDiscovery's side.
  started(registries: number, requests: () => number): void {
    this.registries = registries;
    this.requests = requests;
    this.shown = this.show?.(() => this.counts());
  }

  ended(): void {
    this.shown?.stop();
    this.shown = undefined;
  }

  registryListed(selected: number): void {
    this.listed++;
    this.selected += selected;
  }

  repositoryDone(): void {
    this.done++;
  }
}

/** The counts and the time they took. */
export interface ProgressFigures extends ProgressCounts {
  /** Since discovery started. */
  elapsedMs: number;
}

/**
 * The time the rest should take at the pace so far, or undefined when there is nothing to go on:
 * the total is not known yet, no repository has finished, or all have. Repositories differ in
 * size, so it assumes the rest take as long on average as the finished ones did.
 */
export function etaMs(f: ProgressFigures): number | undefined {
  if (f.total === undefined || f.done === 0 || f.done >= f.total || f.elapsedMs <= 0) return undefined;
  return ((f.total - f.done) * f.elapsedMs) / f.done;
}

/** Requests a second, averaged since the start; undefined in the first second (too few to say). */
export function requestRate(f: ProgressFigures): number | undefined {
  return f.elapsedMs < 1000 ? undefined : f.requests / (f.elapsedMs / 1000);
}

/** "42s", "5m 07s", "2h 05m": whole seconds, the two largest units. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function rate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : count(Math.round(perSecond));
}

/**
 * The line a terminal redraws in place, at most `width` characters so it never wraps (a wrapped
 * line can no longer be redrawn with a carriage return). The least useful parts go first when it
 * does not fit: the rate, then the requests, then the ETA.
 */
export function progressLine(f: ProgressFigures, width: number): string {
  const repositories = `${count(f.done)}/${f.total === undefined ? '?' : count(f.total)} repositories`;
  const perSecond = requestRate(f);
  const eta = etaMs(f);
  // In the order shown; `keep` ranks what stays when the line is too long (higher stays longer).
  const parts = [
    { text: repositories, keep: 3 },
    { text: `${count(f.requests)} requests`, keep: 1 },
    ...(perSecond === undefined ? [] : [{ text: `${rate(perSecond)}/s`, keep: 0 }]),
    {
      text: eta === undefined ? `${formatDuration(f.elapsedMs)} elapsed` : `ETA ${formatDuration(eta)}`,
      keep: 2,
    },
  ];
  const join = () => parts.map((p) => p.text).join(' · ');
  while (join().length > width && parts.length > 1) {
    const least = parts.reduce((a, b) => (b.keep < a.keep ? b : a));
    parts.splice(parts.indexOf(least), 1);
  }
  const line = join();
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

/** The plain line a log gets every so often: whole sentences, no redrawing. */
export function progressReport(f: ProgressFigures): string {
  const repositories =
    f.total === undefined
      ? `${count(f.done)} repositories done (registries still to list)`
      : `${count(f.done)} of ${count(f.total)} repositories done`;
  const perSecond = requestRate(f);
  const requests = `${count(f.requests)} requests${perSecond === undefined ? '' : ` (${rate(perSecond)}/s)`}`;
  const eta = etaMs(f);
  return `progress after ${formatDuration(f.elapsedMs)}: ${repositories}, ${requests}${eta === undefined ? '' : `, about ${formatDuration(eta)} left`}`;
}

/**
 * When a progress line is due: not before `firstAfterMs` from the start (a short run shows none),
 * then at most once every `everyMs`. Times are the caller's clock, in milliseconds.
 */
export class ProgressSchedule {
  private last: number | undefined;

  constructor(
    private readonly start: number,
    private readonly firstAfterMs: number,
    private readonly everyMs: number,
  ) {}

  /** True when a line is due at `now`, and counts it as shown. */
  due(now: number): boolean {
    if (now - this.start < this.firstAfterMs) return false;
    if (this.last !== undefined && now - this.last < this.everyMs) return false;
    this.last = now;
    return true;
  }
}
