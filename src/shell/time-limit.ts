// A time limit for work we cannot cancel: @actions/cache and @actions/artifact take no abort
// signal, retry on their own and wait minutes on a silent socket. The step stops waiting at the
// limit; the work it gave up on is counted so the Action can end its process instead of letting
// that work hold the step open.

export type Limited<T> = { done: true; value: T } | { done: false };

let abandoned = 0;

/**
 * Waits for `work` at most `ms`; a rejection that comes after the limit is dropped (the caller has
 * already reported the time-out). The timer is cleared the moment either side settles, so it
 * never outlives the wait; it is not unref'd, because work that holds no handle of its own (a
 * promise nothing will settle) would otherwise let the process exit mid-step with the rest of the
 * step undone.
 */
export async function withTimeLimit<T>(work: Promise<T>, ms: number): Promise<Limited<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    const outcome = await Promise.race([work.then((value) => ({ done: true as const, value })), expired]);
    if (!outcome.done) {
      abandoned++;
      work.catch(() => {});
    }
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ends the process once `main` has settled if work was given up on: its sockets and retry timers
 * would otherwise hold the step open for minutes after the result is in. The exit code is the
 * one `main` set (process.exitCode).
 */
export function endWhenSettled(main: Promise<unknown>): void {
  void main.finally(() => {
    if (abandoned > 0) process.exit();
  });
}

/** "30 s", "1.5 s": a limit as the one-line reports say it. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
