// The npm registry this project is built against serves only the platform packages for the
// machine it runs on, so `npm install` writes a lockfile without the other platforms' optional
// native packages (rollup, esbuild, biome), and npm 11's `npm ci` then rejects the lockfile as
// out of sync. This adds the missing entries, marked optional with the os/cpu their names
// declare, so `npm ci` skips them on every other platform exactly as it would with a complete
// lockfile. Run it after any `npm install` that changes package-lock.json.
import { readFileSync, writeFileSync } from 'node:fs';

const OS = [
  'android',
  'darwin',
  'freebsd',
  'linux',
  'win32',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'openharmony',
];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    const nested = path ? `${path}/node_modules/${name}` : at;
    if (packages[at] || packages[nested]) continue;
    const parts = name.split('/').pop().split('-');
    const os = OS.filter((o) => parts.includes(o));
    const cpu = CPU.filter((c) => parts.includes(c));
    const entry = { version, ...(meta.dev ? { dev: true } : {}), optional: true };
    if (os.length) entry.os = os;
    if (cpu.length) entry.cpu = cpu;
    if (parts.includes('musl')) entry.libc = ['musl'];
    else if (parts.includes('gnu') || parts.includes('gnueabihf')) entry.libc = ['glibc'];
    packages[at] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
