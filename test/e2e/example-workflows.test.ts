// The workflows users copy (examples/workflows) must only use inputs and outputs the action has,
// and the action step of each must run: here against the demo registry, with the registry config
// swapped for one that points at it. The workflow snippets in README.md and docs/ must also only
// use inputs and outputs the action has.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { codeBlocks, documentationFiles } from '../support/documentation.js';

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

interface Job {
  strategy?: { matrix?: Record<string, unknown[]> };
  steps: Step[];
}

const isAction = (s: Step) => !!s.uses?.startsWith('devgraph-ai/devgraph-docker-action@');

/** The workflow's jobs in file order (which is also their `needs` order in these examples). */
function workflowJobs(file: string): { text: string; jobs: Job[] } {
  const text = readFileSync(join(root, 'examples', 'workflows', file), 'utf8');
  const doc = parse(text) as { jobs: Record<string, Job> };
  return { text, jobs: Object.values(doc.jobs) };
}

/** One value set per matrix run (single-key matrices are all these examples use). */
function matrixRuns(job: Job): Array<Record<string, string>> {
  const entries = Object.entries(job.strategy?.matrix ?? {});
  if (entries.length === 0) return [{}];
  expect(entries).toHaveLength(1);
  const [key, values] = entries[0]!;
  return values.map((v) => ({ [key]: String(v) }));
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
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
  it('there are four: after push, scheduled inventory, PR check, sharded inventory', () => {
    expect(files.sort()).toEqual([
      'after-push.yml',
      'pr-check.yml',
      'scheduled-inventory.yml',
      'sharded-inventory.yml',
    ]);
  });

  for (const file of files) {
    it(`${file} uses only the action's inputs and outputs, and its action steps run`, async () => {
      const { text, jobs } = workflowJobs(file);
      expect(jobs.flatMap((j) => j.steps).filter(isAction).length).toBeGreaterThan(0);
      for (const m of text.matchAll(/steps\.inventory\.outputs\.([\w-]+)/g))
        expect(Object.keys(action.outputs)).toContain(m[1]);
      // What shard jobs upload and a merge job downloads: artifacts stand in as directories here.
      const artifacts = join(dir, file, 'artifacts');

      for (const [jobIndex, job] of jobs.entries()) {
        const step = job.steps.find(isAction);
        if (!step) continue;
        expect(job.steps.filter(isAction)).toHaveLength(1);
        for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
        const used = [...JSON.stringify(job).matchAll(/steps\.inventory\.outputs\.([\w-]+)/g)].map(
          (m) => m[1]!,
        );
        for (const matrix of matrixRuns(job)) {
          // The step's own inputs, with the registry config pointed at the demo registry and the
          // secrets-backed ones (Devgraph, PR comment) left out: those have their own fakes and tests.
          const inputs: Record<string, string> = { cache: 'false' };
          for (const [k, v] of Object.entries(step.with ?? {})) {
            if (/^(config|config-file|devgraph-token|devgraph-environment|comment-on-pr)$/.test(k)) continue;
            inputs[k] = String(v).replace(
              /\$\{\{\s*matrix\.(\w+)\s*\}\}/g,
              (_, name: string) => matrix[name]!,
            );
          }
          if (step.with?.config || step.with?.['config-file'])
            inputs.config = `providers:\n  - name: demo\n    type: docker\n    config: { registry_type: private, api_url: "${registry.url}" }\n`;
          inputs['state-dir'] = join(dir, file, `state-${jobIndex}-${Object.values(matrix).join('-')}`);
          if (inputs.shard) {
            const [i, n] = inputs.shard.split('/');
            inputs['output-dir'] = join(
              artifacts,
              `${step.with?.['artifact-name'] || 'devgraph-graph'}-shard-${i}-of-${n}`,
            );
          }
          if (inputs['merge-graphs']) {
            // The merge reads where download-artifact put every shard artifact.
            const download = job.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
            expect(download?.with?.path).toBe(inputs['merge-graphs']);
            const names = readdirSync(artifacts);
            expect(names.length).toBeGreaterThan(1);
            for (const name of names) expect(name).toMatch(globToRegExp(download!.with!.pattern!));
            inputs['merge-graphs'] = artifacts;
          }
          const { exitCode, outputs } = await runActionInProcess(dir, inputs);
          expect(exitCode).toBeUndefined();
          for (const name of used) {
            // artifact-url is set only inside a workflow run (no artifact service here).
            if (name !== 'artifact-url') expect(outputs).toContain(`${name}<<`);
          }
          expect(outputs).toMatch(/complete<<\S+\ntrue\n/);
        }
      }
    });
  }
});

/** Every step object in a parsed snippet (a step list, a job, or a whole workflow). */
function stepsIn(node: unknown): Step[] {
  if (Array.isArray(node)) return node.flatMap(stepsIn);
  if (!node || typeof node !== 'object') return [];
  const here = typeof (node as Step).uses === 'string' ? [node as Step] : [];
  return [...here, ...Object.values(node).flatMap(stepsIn)];
}

describe('workflow snippets in README.md and docs/', () => {
  const snippets = documentationFiles()
    .flatMap(codeBlocks)
    .filter(
      (b) =>
        (b.lang === 'yaml' || b.lang === 'yml') && b.text.includes('devgraph-ai/devgraph-docker-action@'),
    );

  it('there are some, in the README too', () => {
    expect(snippets.length).toBeGreaterThan(5);
    expect(snippets.some((b) => b.path === 'README.md')).toBe(true);
  });

  for (const block of snippets) {
    it(`${block.path}:${block.line} uses only the action's inputs and outputs`, () => {
      const steps = stepsIn(parse(block.text)).filter(isAction);
      expect(steps.length).toBeGreaterThan(0);
      for (const step of steps) {
        for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
        if (!step.id) continue;
        for (const m of block.text.matchAll(new RegExp(`steps\\.${step.id}\\.outputs\\.([\\w-]+)`, 'g')))
          expect(Object.keys(action.outputs)).toContain(m[1]);
      }
    });
  }
});

// An expression inside `run` is pasted into the script's text before the shell reads it, so the
// quotes in a JSON output end the shell's string and mangle it; outputs go in by `env:` instead.
describe('workflow scripts take outputs by env', () => {
  const workflowFiles = [
    ...files.map((f) => join('examples', 'workflows', f)),
    ...readdirSync(join(root, '.github', 'workflows'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join('.github', 'workflows', f)),
  ];
  const scriptSteps = (file: string) => {
    const doc = parse(readFileSync(join(root, file), 'utf8')) as {
      jobs: Record<string, { steps: Array<Step & { run?: string; env?: Record<string, string> }> }>;
    };
    return Object.values(doc.jobs).flatMap((j) => j.steps.filter((s) => s.run !== undefined));
  };

  for (const file of workflowFiles) {
    it(`${file}: no expression inside a run script`, () => {
      for (const step of scriptSteps(file)) expect(step.run, step.run).not.toContain('${{');
    });
  }

  // Values with the characters that broke the old echo lines: quotes, spaces, & and $.
  const tricky = 'it\'s "v1" & $HOME';
  const SAMPLE: Record<string, string> = {
    'new-tags': JSON.stringify([{ provider: 'p', repository: 'acme/api', tag: tricky, digest: 'sha256:aa' }]),
    'moved-tags': JSON.stringify([
      { provider: 'p', repository: 'acme/api', tag: tricky, from: 'sha256:aa', to: 'sha256:bb' },
    ]),
    complete: 'true',
    images: '3',
    'artifact-url': 'https://github.com/o/r/actions/runs/1/artifacts/2?a=1&b="2"',
  };

  it('the example scripts print JSON outputs intact', async () => {
    const run = promisify(execFile);
    let ran = 0;
    for (const file of files) {
      for (const step of scriptSteps(join('examples', 'workflows', file))) {
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(step.env ?? {})) {
          env[k] = String(v)
            .replace(
              /\$\{\{\s*steps\.inventory\.outputs\.([\w-]+)\s*\}\}/g,
              (_, name: string) => SAMPLE[name]!,
            )
            .replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, '1');
        }
        const { stdout } = await run('bash', ['--norc', '--noprofile', '-e', '-c', step.run!], {
          env: { PATH: process.env.PATH, ...env },
        });
        const usesTags = Object.values(step.env ?? {}).some((v) =>
          /outputs\.(new|moved)-tags/.test(String(v)),
        );
        expect(stdout, `${file}: ${step.run}`).toContain(usesTags ? tricky : 'complete=true');
        if (/outputs\.artifact-url/.test(JSON.stringify(step.env)))
          expect(stdout).toContain(SAMPLE['artifact-url']);
        ran++;
      }
    }
    expect(ran).toBeGreaterThanOrEqual(5);
  });
});
