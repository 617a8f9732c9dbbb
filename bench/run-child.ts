// Runs bench/discover-child.ts (or another child script, bench/publish-child.ts) in a process of
// its own (its peak RSS is then the engine's alone) and hands back the last line it printed.
// Shared by the small bench and the scale bench. The
// child runs as ncc bundles it, the way dist/ is built, so its RSS is what the shipped action's
// would be; under tsx, TypeScript compiled in the process added about 30 MB to every figure.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

let active: ChildProcess | undefined;

const bundles = new Map<string, Promise<string>>();

/** A bench child script bundled by ncc into a temporary directory, once per bench process. */
function bundledChild(script: string): Promise<string> {
  let bundle = bundles.get(script);
  bundle ??= (async () => {
    const out = mkdtempSync(join(tmpdir(), 'devgraph-bench-child-'));
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    const ncc = join(here, '..', 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
    await promisify(execFile)(
      process.execPath,
      [ncc, 'build', join(here, script), '-o', out, '--target', 'es2022', '--quiet'],
      { cwd: join(here, '..'), maxBuffer: 64 << 20 },
    );
    return join(out, 'index.js');
  })();
  bundles.set(script, bundle);
  return bundle;
}

/** Kills the child still running, if any: for a bench interrupted by a signal. */
export function killActiveChild(): void {
  if (active && active.exitCode === null) active.kill('SIGKILL');
}

export async function runChild(
  args: string[],
  timeoutMs: number,
  child = 'discover-child.ts',
): Promise<{ line: string; processMs: number }> {
  const script = await bundledChild(child);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
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
        reject(new Error(`${child} exited with ${signal ?? `code ${code}`}:\n${stderr.trim()}`));
        return;
      }
      resolve({ line: stdout.trim().split('\n').pop() ?? '', processMs: performance.now() - started });
    });
  });
}
