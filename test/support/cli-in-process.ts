// The CLI run in this process, as a terminal would start it, with what it prints kept.

import { vi } from 'vitest';
import { main } from '../../src/shell/cli-main.js';
import { captureStdio, type Stdio } from './stdio.js';

export interface CliRun extends Stdio {
  code: number;
}

/**
 * One run of src/shell/cli-main.ts with `args` and `env` as its whole environment; `tty` makes
 * stdout a terminal (or not) for the run.
 */
export async function runCliInProcess(
  args: string[],
  env: Record<string, string | undefined> = {},
  options: { tty?: boolean } = {},
): Promise<CliRun> {
  const io = captureStdio();
  const wasTty = process.stdout.isTTY;
  if (options.tty !== undefined) process.stdout.isTTY = options.tty;
  try {
    const code = await main(args, env);
    return { code, ...io };
  } finally {
    process.stdout.isTTY = wasTty;
    vi.restoreAllMocks();
  }
}
