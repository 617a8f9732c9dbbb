// .ci/run installs missing packages with apt-get, which needs root: as root (CI containers, often
// without sudo) directly, as a user (GitHub-hosted runners) through sudo. Its as_root function is
// run here with `id`, `sudo` and `apt-get` stand-ins on PATH that record how they were called.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', '.ci', 'run');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ci-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A bin directory with `id` answering `uid`, `apt-get` logging, and `sudo` when `withSudo`. */
async function stubs(name: string, uid: number, withSudo: boolean): Promise<{ bin: string; log: string }> {
  const bin = join(dir, name);
  const log = join(dir, `${name}.log`);
  await mkdir(bin);
  const put = async (cmd: string, body: string) => {
    await writeFile(join(bin, cmd), `#!/bin/bash\n${body}\n`);
    await chmod(join(bin, cmd), 0o755);
  };
  await put('id', `case "$1" in -u) echo ${uid};; -un) echo runner;; esac`);
  await put('apt-get', `echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> ${log}`);
  if (withSudo) await put('sudo', `echo "sudo $*" >> ${log}; [ "$1" = -n ] && shift; exec "$@"`);
  await writeFile(log, '');
  return { bin, log };
}

async function asRoot(bin: string): Promise<{ code: number; stderr: string }> {
  // Only the function, so nothing else in .ci/run (npm ci, npm test) runs.
  const fn = (await readFile(script, 'utf8')).match(/^as_root\(\) \{\n[\s\S]*?\n\}\n/m)?.[0];
  expect(fn).toBeDefined();
  try {
    await promisify(execFile)(
      '/bin/bash',
      ['--norc', '--noprofile', '-c', `set -euo pipefail\n${fn}\nas_root apt-get update`],
      {
        env: { PATH: `${bin}:/usr/bin:/bin` },
      },
    );
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('.ci/run as_root', () => {
  it('runs apt-get directly as root, with or without sudo there', async () => {
    for (const withSudo of [false, true]) {
      const { bin, log } = await stubs(`root-${withSudo}`, 0, withSudo);
      expect(await asRoot(bin)).toEqual({ code: 0, stderr: '' });
      expect(await readFile(log, 'utf8')).toBe('apt-get update DEBIAN_FRONTEND=noninteractive\n');
    }
  });

  it('goes through sudo, never prompting, as a user', async () => {
    const { bin, log } = await stubs('user', 1001, true);
    expect(await asRoot(bin)).toEqual({ code: 0, stderr: '' });
    expect(await readFile(log, 'utf8')).toBe(
      'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update\napt-get update DEBIAN_FRONTEND=noninteractive\n',
    );
  });

  it('says what is wrong as a user without sudo', async () => {
    const { bin, log } = await stubs('nosudo', 1001, false);
    const r = await asRoot(bin);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      '.ci/run: apt-get needs root, and this is user runner without sudo; run as root or install sudo\n',
    );
    expect(await readFile(log, 'utf8')).toBe('');
  });
});
