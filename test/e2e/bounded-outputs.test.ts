// The Action's JSON array outputs on a change too big for them: a registry that gained hundreds of
// unsigned tags under `require: signed: true`. Through the real action path (INPUT_* variables,
// @actions/core's output file, the artifact service's fake): each output is a valid prefix under
// the budget that a next step can take in `env:`, a warning and a job-summary line say what was
// cut, and changes.json and policy-violations.json hold every item, in the artifact too.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { buildImage, RepositoryBuilder, type RepositoryContent } from '../../src/demo/image-builder.js';
import { OUTPUT_BUDGET } from '../../src/output/bounded-json.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { withConfig } from '../support/config-text.js';
import { type ActionsResultsFake, startActionsResultsFake } from '../support/fakes/actions-results-fake.js';

const REPOSITORY = 'acme/payments-api';
/** Tags long enough (registries allow 128 characters) that a few hundred pass the budget. */
const TAGS = Array.from(
  { length: 700 },
  (_, i) => `release-${String(i).padStart(4, '0')}-${'x'.repeat(100)}`,
);

const image = buildImage({ created: '2026-01-01T00:00:00Z', seed: 'bounded-outputs' });
function content(tags: string[]): RepositoryContent[] {
  return [new RepositoryBuilder(REPOSITORY).addImage(image, 'first', ...tags).build()];
}

let dir: string;
let registry: DemoRegistry | undefined;
let service: ActionsResultsFake;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-bounded-'));
  service = await startActionsResultsFake();
});
afterAll(async () => {
  await registry?.close();
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

/** The registry restarted on the same port with other content: the graphs name it by its URL. */
async function serve(repos: RepositoryContent[]): Promise<string> {
  const port = registry ? Number(new URL(registry.url).port) : 0;
  await registry?.close();
  registry = await startDemoRegistry(repos, { port });
  return registry.url;
}

const config = (url: string) =>
  withConfig(
    'registry_type: private',
    `api_url: ${url}`,
    'timeout: 5',
    'selectors:',
    '  - max_tags: 0',
    '    require: { signed: true }',
  );

/** GITHUB_OUTPUT's `name<<delimiter` blocks, as @actions/core writes them. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!;
  return outputs;
}

/** What starting a program with `value` in one environment variable does: undefined when it starts. */
function execWith(value: string): string | undefined {
  const started = spawnSync('/bin/true', { env: { NEW_TAGS: value } });
  return (started.error as NodeJS.ErrnoException | undefined)?.code;
}

describe('JSON outputs too big for a workflow', () => {
  it('are cut to a valid prefix under the budget, said once in the log and the summary, and kept whole in changes.json and policy-violations.json', async () => {
    const summaryFile = join(dir, 'step-summary.md');
    // @actions/core keeps the first GITHUB_STEP_SUMMARY it sees: both runs write to this one.
    await writeFile(summaryFile, '');
    const env = { GITHUB_STEP_SUMMARY: summaryFile };
    const before = join(dir, 'before');
    const first = await runActionInProcess(
      dir,
      { config: config(await serve(content([]))), 'output-dir': before, cache: 'false' },
      env,
    );
    expect(first.exitCode).toBeUndefined();
    expect(first.log).not.toContain('output holds the first');

    await writeFile(summaryFile, '');
    const out = join(dir, 'after');
    const r = await runActionInProcess(
      dir,
      {
        config: config(await serve(content(TAGS))),
        'output-dir': out,
        cache: 'false',
        'previous-graph': join(before, 'graph.json'),
      },
      { ...env, ...service.env, GITHUB_REPOSITORY: 'acme/app', GITHUB_RUN_ID: '7' },
    );
    expect(r.exitCode).toBeUndefined();
    const outputs = parseOutputs(r.outputs);

    // Every item in the files.
    const changes = JSON.parse(await readFile(join(out, 'changes.json'), 'utf8'));
    expect(changes.new_tags.map((t: { tag: string }) => t.tag).sort()).toEqual([...TAGS].sort());
    expect(changes).toMatchObject({ moved_tags: [], removed_tags: [] });
    const violations = JSON.parse(await readFile(join(out, 'policy-violations.json'), 'utf8'));
    expect(violations).toHaveLength(TAGS.length + 1);
    expect(new Set(violations.map((v: { rule: string }) => v.rule))).toEqual(new Set(['signed']));

    // Each output: valid JSON, the start of its file's list, under the budget in both measures.
    const cut = [
      ['new-tags', changes.new_tags, 'changes.json'],
      ['policy-violations', violations, 'policy-violations.json'],
    ] as const;
    for (const [name, whole, file] of cut) {
      const value = outputs[name]!;
      const shown = JSON.parse(value) as unknown[];
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.length).toBeLessThan(whole.length);
      expect(shown).toEqual(whole.slice(0, shown.length));
      expect(Buffer.byteLength(value, 'utf8')).toBeLessThanOrEqual(OUTPUT_BUDGET.utf8);
      expect(2 * value.length).toBeLessThanOrEqual(OUTPUT_BUDGET.utf16);
      const note = `The ${name} output holds the first ${shown.length} of ${whole.length} items (each JSON output is kept under 96 KiB so that it fits an environment variable and GitHub's limit on outputs); ${file} beside graph.json holds all ${whole.length}.`;
      expect(r.log.split(`::warning::${note}\n`)).toHaveLength(2);
      expect(await readFile(summaryFile, 'utf8')).toContain(`\n${note}\n`);
      // What the budget is for: the output starts a program from env:, the whole list would not.
      expect(execWith(value)).toBeUndefined();
      expect(execWith(JSON.stringify(whole))).toBe('E2BIG');
    }
    expect(outputs['moved-tags']).toBe('[]');
    expect(outputs.changed).toBe('true');
    // Every output of the step together, as GitHub sizes them, well under its 1 MB a job.
    const utf16 = Object.entries(outputs).reduce((n, [k, v]) => n + 2 * (k.length + v.length), 0);
    expect(utf16).toBeLessThan(1_000_000);

    // The artifact keeps changes.json with the other files.
    expect(r.log).toContain(
      'Artifact "devgraph-graph" uploaded (graph.json, summary.md, report.html, policy-violations.json, changes.json)',
    );
    const zip = service.blobs.get(service.artifacts.at(-1)!.blob)!;
    expect(zip.includes(Buffer.from('changes.json'))).toBe(true);
  });
});
