// dist/ is what GitHub runs: fail when it differs from a fresh build of src/.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from './build.mjs';

const fresh = mkdtempSync(join(tmpdir(), 'check-dist-'));
try {
  await build(fresh);
  const files = (dir) =>
    readdirSync(dir).flatMap((f) =>
      statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)],
    );
  const want = new Set(files(fresh).map((f) => relative(fresh, f)));
  const have = new Set(files('dist').map((f) => relative('dist', f)));
  const problems = [];
  for (const f of want) {
    if (!have.has(f)) problems.push(`missing dist/${f}`);
    else if (!readFileSync(join(fresh, f)).equals(readFileSync(join('dist', f))))
      problems.push(`dist/${f} differs from a fresh build`);
  }
  for (const f of have) if (!want.has(f)) problems.push(`dist/${f} is not produced by the build`);
  if (problems.length > 0) {
    console.error(`check-dist: ${problems.join('; ')}\nRun "npm run bundle" and commit dist/.`);
    process.exit(1);
  }
  console.log('check-dist: dist/ matches a fresh build');
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
