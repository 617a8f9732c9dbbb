// The Action run in this process, as a runner would start it: inputs as INPUT_* variables, outputs
// into a GITHUB_OUTPUT file, the log from stdout; everything stubbed is restored after.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { vi } from 'vitest';
import { captureStdio } from './stdio.js';

export interface ActionRun {
  /** What the Action printed (workflow commands included). */
  log: string;
  /** What it wrote to stderr (a runner shows it in the log too; kept apart to look for leaks). */
  stderr: string;
  /** The GITHUB_OUTPUT file's text. */
  outputs: string;
  /** The same outputs by name. */
  values: Record<string, string>;
  /** The job summary's text: '' unless the run was asked for one. */
  jobSummary: string;
  exitCode: number | undefined;
}

export interface ActionRunOptions {
  /** Give the run a GITHUB_STEP_SUMMARY file, as a runner does, and return what it wrote there. */
  jobSummary?: boolean;
}

let runs = 0;
// @actions/core keeps the first GITHUB_STEP_SUMMARY path it is given for the life of the module,
// so every run of a test file shares that first file: emptied before each run, read after it.
let summaryFile: string | undefined;

/** The `name<<delimiter` blocks of a GITHUB_OUTPUT file, by name. */
export function outputValues(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) values[m[1]!] = m[3]!;
  return values;
}

/**
 * One run of src/shell/action-main.ts with `inputs` and the variables `env` adds (which may
 * replace RUNNER_TEMP); `dir` holds the outputs file and is RUNNER_TEMP.
 */
export async function runActionInProcess(
  dir: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  options: ActionRunOptions = {},
): Promise<ActionRun> {
  const outputFile = join(dir, `output-${++runs}`);
  await writeFile(outputFile, '');
  vi.stubEnv('GITHUB_OUTPUT', outputFile);
  vi.stubEnv('RUNNER_TEMP', dir);
  if (options.jobSummary) {
    summaryFile ??= join(dir, 'job-summary.md');
    await mkdir(dirname(summaryFile), { recursive: true });
    await writeFile(summaryFile, '');
    vi.stubEnv('GITHUB_STEP_SUMMARY', summaryFile);
  }
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  for (const [k, v] of Object.entries(inputs)) vi.stubEnv(`INPUT_${k.toUpperCase()}`, v);
  const io = captureStdio();
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
  const outputs = await readFile(outputFile, 'utf8');
  const jobSummary = options.jobSummary && summaryFile ? await readFile(summaryFile, 'utf8') : '';
  return { log: io.stdout, stderr: io.stderr, outputs, values: outputValues(outputs), jobSummary, exitCode };
}
