// The Action run in this process, as a runner would start it: inputs as INPUT_* variables, outputs
// into a GITHUB_OUTPUT file, the log from stdout; everything stubbed is restored after.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vi } from 'vitest';

export interface ActionRun {
  /** What the Action printed (workflow commands included). */
  log: string;
  /** The GITHUB_OUTPUT file's text. */
  outputs: string;
  exitCode: number | undefined;
}

let runs = 0;

/**
 * One run of src/shell/action-main.ts with `inputs` and the variables `env` adds; `dir` holds the
 * outputs file and is RUNNER_TEMP.
 */
export async function runActionInProcess(
  dir: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  const outputFile = join(dir, `output-${++runs}`);
  await writeFile(outputFile, '');
  vi.stubEnv('GITHUB_OUTPUT', outputFile);
  vi.stubEnv('RUNNER_TEMP', dir);
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  for (const [k, v] of Object.entries(inputs)) vi.stubEnv(`INPUT_${k.toUpperCase()}`, v);
  let log = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    log += String(chunk);
    return true;
  });
  const { run } = await import('../../src/shell/action-main.js');
  process.exitCode = undefined;
  try {
    await run({ ...process.env });
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  }
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { log, outputs: await readFile(outputFile, 'utf8'), exitCode };
}
