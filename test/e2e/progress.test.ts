// The CLI's progress against the real registry: with stderr piped (as in CI) plain lines at the
// interval asked for, on stderr only, and the graph, the summary and stdout the same as a run too
// short for any; on a real terminal (a pseudo-terminal from script(1), util-linux) one line redrawn
// in place that leaves the log whole. The display's rules: src/shell/progress-display.test.ts.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingProxy } from '../../bench/proxy.js';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { seededRepositories } from '../support/seed-data.js';

const root = resolve(import.meta.dirname, '../..');
// Without the repository of 1,100 tags: its discovery alone takes longer than the rest of the test.
const REPOSITORIES = seededRepositories({ includeManyTags: false });

let registry: RunningRegistry;
let dir: string;
beforeAll(async () => {
  registry = await startRegistry({ auth: 'open' });
  await pushRepositories(registry, REPOSITORIES);
  dir = await mkdtemp(join(tmpdir(), 'dg-progress-'));
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, SOURCE_DATE_EPOCH: '1767225600' };

async function configFor(url: string): Promise<string> {
  const config = join(dir, `config-${new URL(url).port}.yml`);
  await writeFile(
    config,
    `providers:\n  - name: local\n    type: docker\n    config:\n      registry_type: private\n      api_url: ${url}\n`,
  );
  return config;
}

/** Run from the source, as the e2e tests of the shells do: dist/ is rebuilt once per change set. */
function cliArgs(config: string, out: string): string[] {
  return ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'discover', '--config', config, '--out', out];
}

async function discover(out: string, env: Record<string, string>) {
  const args = cliArgs(await configFor(registry.url), out);
  return promisify(execFile)(process.execPath, args, { cwd: root, env: { ...ENV, ...env } });
}

/**
 * What a terminal shows once `output` is written to it: a carriage return moves to the start of
 * the line, ESC [K erases to its end, a newline starts the next line.
 */
function screen(output: string): string[] {
  const lines: string[][] = [[]];
  let col = 0;
  for (let i = 0; i < output.length; i++) {
    const line = lines[lines.length - 1]!;
    if (output.startsWith('\x1b[K', i)) {
      line.length = col;
      i += 2;
    } else if (output[i] === '\r') col = 0;
    else if (output[i] === '\n') {
      lines.push([]);
      col = 0;
    } else line[col++] = output[i]!;
  }
  return lines.map((l) => l.join(''));
}

describe('progress with stderr piped', () => {
  it('plain lines at the interval on stderr only; graph, summary and stdout unchanged; none for a short run', async () => {
    const out = join(dir, 'with-progress');
    const withProgress = await discover(out, { DEVGRAPH_PROGRESS_INTERVAL_MS: '5' });
    const quiet = join(dir, 'default');
    const short = await discover(quiet, {});

    const lines = withProgress.stderr.split('\n').filter((l) => l.startsWith('progress '));
    expect(lines.length, withProgress.stderr).toBeGreaterThan(0);
    const shape =
      /^progress after \d+s: (?:(\d+) of (\d+) repositories done|(\d+) repositories done \(registries still to list\)), [\d,]+ requests(?: \([\d.,]+\/s\))?(?:, about .+ left)?$/;
    let done = 0;
    for (const line of lines) {
      const m = shape.exec(line);
      expect(m, line).not.toBeNull();
      const now = Number(m![1] ?? m![3]);
      expect(now).toBeGreaterThanOrEqual(done);
      done = now;
      if (m![2] !== undefined) expect(Number(m![2])).toBe(REPOSITORIES.length);
    }
    // A pipe gets whole lines: nothing redrawn, no terminal codes.
    expect(withProgress.stderr).not.toMatch(/[\r\x1b]/);

    // A run shorter than the default interval shows none.
    expect(short.stderr).not.toContain('progress ');
    expect(withProgress.stdout).toBe(short.stdout);
    expect(withProgress.stdout).not.toContain('progress ');
    for (const file of ['graph.json', 'summary.md'])
      expect(await readFile(join(out, file), 'utf8')).toBe(await readFile(join(quiet, file), 'utf8'));
    // The log is the same but for the progress lines (its repository lines come in the order they finish).
    const log = (stderr: string) =>
      stderr
        .split('\n')
        .filter((l) => !l.startsWith('progress ') && !l.startsWith('wrote '))
        .sort();
    expect(log(withProgress.stderr)).toEqual(log(short.stderr));
  });
});

describe('progress on a terminal', () => {
  it('one line redrawn in place, fitted to the window, cleared at the end; the log stays whole', async () => {
    // Each request waits, so the run outlasts the second before the line first shows.
    const slow = await startCountingProxy(registry.url, 300);
    try {
      const out = join(dir, 'terminal');
      const node = [process.execPath, ...cliArgs(await configFor(slow.url), out)]
        .map((a) => `'${a}'`)
        .join(' ');
      // stdout to a file: the pseudo-terminal then carries stderr alone. A window 60 columns wide.
      const command = `stty cols 60 && ${node} > '${join(dir, 'terminal.stdout')}'`;
      const { stdout: tty } = await promisify(execFile)('script', ['-qfec', command, '/dev/null'], {
        cwd: root,
        env: ENV,
      });
      const output = tty.replaceAll('\r\n', '\n');
      const drawn = [...output.matchAll(/\r([^\r\n\x1b]*)\x1b\[K/g)].map((m) => m[1]!).filter(Boolean);
      expect(drawn.length, JSON.stringify(output)).toBeGreaterThan(1);
      for (const line of drawn) {
        expect(line).toMatch(/^\d+\/(\d+|\?) repositories( · |$)/);
        expect(line.length).toBeLessThanOrEqual(59);
      }
      // Once the catalog is listed the total is known; the requests fit in 60 columns.
      const known = new RegExp(`^\\d+/${REPOSITORIES.length} repositories · \\d+ requests · `);
      expect(drawn.some((l) => known.test(l))).toBe(true);
      // What is left on the screen is the log alone, each line whole, as a pipe would have had it.
      const shown = screen(output).filter(Boolean);
      expect(shown.some((l) => /repositories( · |$)/.test(l))).toBe(false);
      expect(shown.filter((l) => l.startsWith('local: '))).toHaveLength(REPOSITORIES.length + 2);
      expect(shown.at(-1)).toMatch(/^wrote .*graph\.json, .*summary\.md and .*report\.html$/);
      // stdout had the summary only.
      expect(await readFile(join(dir, 'terminal.stdout'), 'utf8')).toBe(
        await readFile(join(out, 'summary.md'), 'utf8'),
      );
    } finally {
      await slow.stop();
    }
  });
});
