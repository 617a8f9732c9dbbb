// Runs bench/discover-child.ts in a process of its own (its peak RSS is then the engine's alone)
// and hands back the last line it printed. Shared by the small bench and the scale bench.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

let active: ChildProcess | undefined;

/** Kills the child still running, if any: for a bench interrupted by a signal. */
export function killActiveChild(): void {
  if (active && active.exitCode === null) active.kill('SIGKILL');
}

export function runChild(args: string[], timeoutMs: number): Promise<{ line: string; processMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'discover-child.ts'), ...args], {
      cwd: join(here, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    active = child;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      active = undefined;
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      active = undefined;
      if (code !== 0) {
        reject(new Error(`discovery child exited with ${signal ?? `code ${code}`}:\n${stderr.trim()}`));
        return;
      }
      resolve({ line: stdout.trim().split('\n').pop() ?? '', processMs: performance.now() - started });
    });
  });
}
