// The workflows users copy (examples/workflows) must only use inputs and outputs the action has,
// and the action step of each must run: here against the demo registry, with the registry config
// swapped for one that points at it.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { run } from '../../src/shell/action-main.js';

const root = join(import.meta.dirname, '..', '..');
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
};
const files = readdirSync(join(root, 'examples', 'workflows')).filter((f) => f.endsWith('.yml'));

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, string>;
}

function actionSteps(file: string): { text: string; steps: Step[] } {
  const text = readFileSync(join(root, 'examples', 'workflows', file), 'utf8');
  const doc = parse(text) as { jobs: Record<string, { steps: Step[] }> };
  const steps = Object.values(doc.jobs)
    .flatMap((j) => j.steps)
    .filter((s) => s.uses?.startsWith('devgraph-ai/devgraph-docker-action@'));
  return { text, steps };
}

let registry: DemoRegistry;
let dir: string;
beforeAll(async () => {
  registry = await startDemoRegistry(sampleRepositories());
  dir = await mkdtemp(join(tmpdir(), 'workflows-'));
});
afterAll(async () => {
  await registry.close();
  await rm(dir, { recursive: true, force: true });
});

describe('example workflows', () => {
  it('there are three: after push, scheduled inventory, PR check', () => {
    expect(files.sort()).toEqual(['after-push.yml', 'pr-check.yml', 'scheduled-inventory.yml']);
  });

  for (const file of files) {
    it(`${file} uses only the action's inputs and outputs, and its action step runs`, async () => {
      const { text, steps } = actionSteps(file);
      expect(steps).toHaveLength(1);
      const step = steps[0]!;
      for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
      for (const m of text.matchAll(/steps\.inventory\.outputs\.([\w-]+)/g))
        expect(Object.keys(action.outputs)).toContain(m[1]);

      // The step's own inputs, with the registry config pointed at the demo registry and the
      // secrets-backed ones (Devgraph, PR comment) left out: those have their own fakes and tests.
      const inputs: Record<string, string> = { cache: 'false' };
      for (const [k, v] of Object.entries(step.with ?? {})) {
        if (/^(config|config-file|devgraph-token|devgraph-environment|comment-on-pr)$/.test(k)) continue;
        inputs[k] = String(v);
      }
      inputs.config = `providers:\n  - name: demo\n    type: docker\n    config: { registry_type: private, api_url: "${registry.url}" }\n`;
      inputs['state-dir'] = join(dir, file);
      const outputFile = join(dir, `${file}.out`);
      await writeFile(outputFile, '');
      const env: Record<string, string> = { GITHUB_OUTPUT: outputFile, RUNNER_TEMP: dir };
      for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
      for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      process.exitCode = undefined;
      try {
        await run({ ...process.env });
      } finally {
        vi.restoreAllMocks();
        vi.unstubAllEnvs();
      }
      expect(process.exitCode).toBeUndefined();
      const outputs = await readFile(outputFile, 'utf8');
      for (const m of text.matchAll(/steps\.inventory\.outputs\.([\w-]+)/g)) {
        // artifact-url is set only inside a workflow run (no artifact service here).
        if (m[1] !== 'artifact-url') expect(outputs).toContain(`${m[1]}<<`);
      }
      expect(outputs).toMatch(/complete<<\S+\ntrue\n/);
    });
  }
});
