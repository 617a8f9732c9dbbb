// Puts Node 24 in node_modules/.cache/node24, where test/e2e/node24-bundle.test.ts runs the
// committed bundles on it: action.yml declares node24, while the machine running the tests may have
// another Node. npm's registry carries Node's own release builds as node-<platform>-<arch>
// packages, so this needs nothing beyond what `npm ci` reaches. Does nothing when it is there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'node_modules', '.cache', 'node24');
const node = join(target, 'bin', 'node');

const version = () => {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};

if (version()?.startsWith('v24.')) {
  console.log(`Node ${version()} is in ${target}`);
} else {
  const pkg = `node-${process.platform}-${process.arch}@24`;
  const work = mkdtempSync(join(tmpdir(), 'node24-'));
  try {
    const tarball = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', work], {
      cwd: work,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop();
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['xzf', join(work, tarball), '-C', target, '--strip-components=1']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(node) || !version()?.startsWith('v24.')) {
    console.error(`fetch-node24: ${pkg} did not give a Node 24 at ${node}`);
    process.exit(1);
  }
  console.log(`Node ${version()} fetched into ${target}`);
}
