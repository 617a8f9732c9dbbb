// `npm run bundle`: dist/ (the action) and dist/cli (the CLI), bundled by ncc. The two bundles are
// independent, so they build at once: one after the other took over a minute on 2 cores.
// check-dist.mjs builds the same way into a temporary directory and compares.
// The script is not called `build`: npm installs every devDependency of a git dependency that has
// a build (or prepare, install, prepack) script before packing it, which `npx github:…` would pay
// on every fresh machine although dist/ is committed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Builds both bundles into `out` (default dist); rejects with ncc's output when one fails. */
export async function build(out = 'dist') {
  const ncc = (entry, dir, extra = []) =>
    run('npx', ['ncc', 'build', entry, '-o', dir, '--target', 'es2022', ...extra], {
      maxBuffer: 64 * 1024 * 1024,
    });
  return Promise.all([
    ncc('src/index.ts', out, ['--license', 'licenses.txt']),
    ncc('src/cli.ts', join(out, 'cli')),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    for (const { stdout, stderr } of await build()) process.stderr.write(`${stderr}${stdout}`);
  } catch (err) {
    process.stderr.write(
      `${err.stdout ?? ''}${err.stderr ?? ''}${err.stdout || err.stderr ? '' : String(err)}\n`,
    );
    process.exit(1);
  }
}
