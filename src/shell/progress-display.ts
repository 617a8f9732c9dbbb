// Where a discovery's progress is shown: on a terminal one line redrawn in place under the log,
// elsewhere (a pipe, a CI log, the Actions log) a plain line now and then, and for a short run
// nothing. The text is src/output/progress.ts's; this owns the clock, the timer and the stream.

import { ConfigError } from '../errors.js';
import { type ProgressCounts, ProgressSchedule, progressLine, progressReport } from '../output/progress.js';

export interface ProgressShow {
  /** Shows the progress `read` gives until `stop` is called. */
  show(read: () => ProgressCounts): { stop(): void };
}

export interface ProgressDisplay extends ProgressShow {
  /** Log text (whole lines): on a terminal written above the progress line, which is redrawn. */
  write(text: string): void;
}

/** What a display needs of a stream: process.stderr, or a test's stand-in. */
export interface DisplayStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface DisplayTiming {
  /** The clock, in milliseconds. */
  now?: () => number;
  /** Between plain lines, and before the first (a run shorter than this prints none). */
  intervalMs?: number;
}

/** Between plain lines unless DEVGRAPH_PROGRESS_INTERVAL_MS says otherwise. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 15_000;
/** A terminal line appears after this, so a run that is over in a moment shows none. */
const TERMINAL_FIRST_AFTER_MS = 1000;
/** How often a terminal line is redrawn: often enough that the elapsed time and the ETA move. */
const TERMINAL_REDRAW_MS = 250;
/** Erase from the cursor to the end of the line. */
const CLEAR_TO_END = '\x1b[K';

/** A terminal gets the line redrawn in place; anything else, plain lines. */
export function progressDisplay(
  stream: DisplayStream,
  env: Record<string, string | undefined>,
  timing: DisplayTiming = {},
): ProgressDisplay {
  if (stream.isTTY && env.TERM !== 'dumb') return terminalDisplay(stream, timing);
  const periodic = periodicProgress((line) => stream.write(`${line}\n`), timing);
  return { write: (text) => stream.write(text), show: periodic.show };
}

/**
 * One line at the bottom of the terminal, redrawn in place; log lines go above it (the line is
 * erased, the log text written, the line drawn again), so neither tears the other.
 */
export function terminalDisplay(stream: DisplayStream, timing: DisplayTiming = {}): ProgressDisplay {
  const now = timing.now ?? (() => performance.now());
  let line: string | undefined;
  let redraw: (() => void) | undefined;
  return {
    write(text) {
      if (line === undefined) {
        stream.write(text);
        return;
      }
      stream.write(`\r${CLEAR_TO_END}${text}`);
      line = undefined;
      redraw?.();
    },
    show(read) {
      const start = now();
      // Due a little before each tick, so a tick that comes a hair early is not skipped.
      const schedule = new ProgressSchedule(start, TERMINAL_FIRST_AFTER_MS, TERMINAL_REDRAW_MS / 2);
      let shown = false;
      const draw = () => {
        // Read each time: the window may have been resized. One short of it, as writing the last
        // column wraps on some terminals; 80 where the terminal says 0 (a pty nobody sized).
        line = progressLine(
          { ...read(), elapsedMs: now() - start },
          Math.max(20, (stream.columns || 80) - 1),
        );
        stream.write(`\r${line}${CLEAR_TO_END}`);
      };
      redraw = () => {
        if (shown) draw();
      };
      const timer = setInterval(() => {
        if (schedule.due(now())) {
          shown = true;
          draw();
        }
      }, TERMINAL_REDRAW_MS);
      timer.unref();
      return {
        stop() {
          clearInterval(timer);
          redraw = undefined;
          if (line !== undefined) stream.write(`\r${CLEAR_TO_END}`);
          line = undefined;
        },
      };
    },
  };
}

/**
 * A plain line every `intervalMs` (never more often) through `emit`, the first one interval after
 * the start: log lines need no care, as nothing is redrawn.
 */
export function periodicProgress(emit: (line: string) => void, timing: DisplayTiming = {}): ProgressShow {
  const now = timing.now ?? (() => performance.now());
  const every = timing.intervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  return {
    show(read) {
      const start = now();
      const schedule = new ProgressSchedule(start, every, every);
      // The timer only wakes the check; the schedule decides, so a late tick never doubles a line.
      const timer = setInterval(
        () => {
          const at = now();
          if (schedule.due(at)) emit(progressReport({ ...read(), elapsedMs: at - start }));
        },
        Math.min(every, 1000),
      );
      timer.unref();
      return { stop: () => clearInterval(timer) };
    },
  };
}

/**
 * DEVGRAPH_PROGRESS_INTERVAL_MS: milliseconds between plain progress lines (tests set it short),
 * else DEFAULT_PROGRESS_INTERVAL_MS.
 */
export function progressIntervalMs(env: Record<string, string | undefined>): number {
  const raw = env.DEVGRAPH_PROGRESS_INTERVAL_MS;
  if (raw === undefined || raw === '') return DEFAULT_PROGRESS_INTERVAL_MS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new ConfigError([
      `DEVGRAPH_PROGRESS_INTERVAL_MS: must be a whole number of milliseconds, 1 or more, got ${JSON.stringify(raw)}; unset it for a line every ${DEFAULT_PROGRESS_INTERVAL_MS / 1000} s`,
    ]);
  return Number(raw);
}
