// The three workflows users copy, run as a repository would run them over three days: a first
// inventory, a re-run over an unchanged registry, and a run after a release tag was moved. Each
// workflow's action step runs with its own inputs; what it talks to is faked faithfully: the
// registry (demo registry), Devgraph (a fake that validates every request against the OpenAPI
// document) and the GitHub API (a fake of the issue-comments endpoints). The registry config is
// pointed at the demo registry and the secrets the workflow names are the fakes' tokens.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { type DevgraphFake, startDevgraphFake } from '../support/fakes/devgraph-fake.js';
import { type GitHubCommentsFake, startGitHubCommentsFake } from '../support/fakes/github-comments-fake.js';

const root = join(import.meta.dirname, '..', '..');
const DEVGRAPH_TOKEN = 'dg-workflow-token-4e1f';
const DEVGRAPH_ENVIRONMENT = '0b6f3c1e-2d4a-4f5b-8c6d-7e8f9a0b1c2d';
const GITHUB_TOKEN = 'ghs_workflowToken000000000000000000000';
const OWNER = 'acme-org';
const REPO = 'platform';
const PULL = 42;

interface Step {
  uses?: string;
  with?: Record<string, string>;
}

/** The action step's inputs, with `${{ secrets.* }}` / `${{ vars.* }}` as a repository would set them. */
function actionInputs(file: string, registryUrl: string, devgraphUrl: string): Record<string, string> {
  const doc = parse(readFileSync(join(root, 'examples', 'workflows', file), 'utf8')) as {
    jobs: Record<string, { steps: Step[] }>;
  };
  const step = Object.values(doc.jobs)
    .flatMap((j) => j.steps)
    .find((s) => s.uses?.startsWith('devgraph-ai/devgraph-docker-action@'))!;
  const inputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.with ?? {})) {
    inputs[k] = String(v)
      .replace(/\$\{\{\s*secrets\.DEVGRAPH_TOKEN\s*\}\}/, DEVGRAPH_TOKEN)
      .replace(/\$\{\{\s*vars\.DEVGRAPH_ENVIRONMENT\s*\}\}/, DEVGRAPH_ENVIRONMENT);
  }
  delete inputs['config-file'];
  inputs.config = `providers:\n  - name: demo\n    type: docker\n    config: { registry_type: private, api_url: "${registryUrl}", selectors: [{ max_tags: 0 }] }\n`;
  // The API a workflow reaches at https://api.devgraph.ai is the fake here.
  if (inputs['devgraph-token']) inputs['devgraph-url'] = devgraphUrl;
  return inputs;
}

let dir: string;
let registry: DemoRegistry;
let devgraph: DevgraphFake;
let github: GitHubCommentsFake;
const original = sampleRepositories();
const payments = original.find((r) => r.name === 'acme/payments-api')!;
const v130 = payments.tags['v1.3.0']!;
const v140 = payments.tags['v1.4.0']!;

/** The registry after a release: v1.3.0 re-pointed at v1.4.0's image. */
function movedContent(): RepositoryContent[] {
  const repos = sampleRepositories().map((r) => ({ ...r, tags: { ...r.tags } }));
  repos.find((r) => r.name === 'acme/payments-api')!.tags['v1.3.0'] = v140;
  return repos;
}

async function serve(repos: RepositoryContent[]): Promise<void> {
  const port = registry ? Number(new URL(registry.url).port) : 0;
  await registry?.close();
  registry = await startDemoRegistry(repos, { port });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-workflows-e2e-'));
  devgraph = await startDevgraphFake({ token: DEVGRAPH_TOKEN, environment: DEVGRAPH_ENVIRONMENT });
  github = await startGitHubCommentsFake({ owner: OWNER, repo: REPO, pulls: [PULL], token: GITHUB_TOKEN });
  await writeFile(join(dir, 'event.json'), JSON.stringify({ pull_request: { number: PULL } }));
});
afterAll(async () => {
  await registry?.close();
  await devgraph.close();
  await github.close();
  await rm(dir, { recursive: true, force: true });
});

/** One run of the step, as the runner would start it; the state directory is the workflow's own. */
async function runStep(file: string) {
  const r = await runActionInProcess(
    dir,
    {
      // The state directory stays on disk between days, as the Actions cache would bring it back.
      cache: 'false',
      'github-token': GITHUB_TOKEN,
      ...actionInputs(file, registry.url, devgraph.url),
      'state-dir': join(dir, `${file}-state`),
    },
    {
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_API_URL: github.url,
      GITHUB_EVENT_NAME: file === 'pr-check.yml' ? 'pull_request' : 'push',
      GITHUB_EVENT_PATH: join(dir, 'event.json'),
    },
    { jobSummary: true },
  );
  const outputs = r.values;
  // summary.md, as written for this run.
  const summary = outputs['summary-path'] ? await readFile(outputs['summary-path'], 'utf8') : '';
  return { outputs, exitCode: r.exitCode, log: r.log, summary };
}

const MOVED = { provider: 'demo', repository: 'acme/payments-api', tag: 'v1.3.0', from: v130, to: v140 };

describe('the three workflows, end to end against fakes', () => {
  it('scheduled inventory: uploads the graph, writes nothing on an unchanged day, updates one image after a move', async () => {
    await serve(original);
    const file = 'scheduled-inventory.yml';
    const day1 = await runStep(file);
    expect(day1.exitCode).toBeUndefined();
    expect(day1.outputs['devgraph-uploaded']).toBe('true');
    expect(day1.outputs.changed).toBe('false');
    expect(devgraph.entities.size).toBe(
      Number(day1.outputs.registries) +
        Number(day1.outputs.repositories) +
        Number(day1.outputs.images) +
        Number(day1.outputs.manifests),
    );
    expect(day1.log).toMatch(/Devgraph upload to 127\.0\.0\.1:\d+ \(environment /);

    const writes = devgraph.writes().length;
    const day2 = await runStep(file);
    expect(day2.outputs).toMatchObject({
      changed: 'false',
      'new-tags': '[]',
      'moved-tags': '[]',
      'removed-tags': '[]',
    });
    expect(devgraph.writes().length).toBe(writes);
    expect(day2.summary).toContain('Changes: none since the inventory of');

    await serve(movedContent());
    const day3 = await runStep(file);
    expect(day3.exitCode).toBeUndefined();
    expect(JSON.parse(day3.outputs['moved-tags']!)).toEqual([MOVED]);
    expect(day3.summary).toContain('1 moved tag');
    const image = [...devgraph.entities.values()].find(
      (e) =>
        e.kind === 'DockerImage' && e.spec?.repository === 'acme/payments-api' && e.spec.tag === 'v1.3.0',
    );
    expect(image?.spec?.digest).toBe(v140);
    for (const r of [day1, day2, day3])
      expect(`${r.log}${r.summary}`.replaceAll(`::add-mask::${DEVGRAPH_TOKEN}`, '')).not.toContain(
        DEVGRAPH_TOKEN,
      );
  });

  it('PR check: one sticky comment, no changes on an unchanged day, and the guard fails naming both digests', async () => {
    await serve(original);
    const file = 'pr-check.yml';
    const day1 = await runStep(file);
    expect(day1.exitCode).toBeUndefined();
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]!.body).toContain('first inventory');

    const day2 = await runStep(file);
    expect(day2.exitCode).toBeUndefined();
    expect(day2.outputs.changed).toBe('false');
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]!.body).toContain('none since the inventory of');

    await serve(movedContent());
    const day3 = await runStep(file);
    expect(day3.exitCode).toBe(1);
    expect(day3.log).toContain(`demo acme/payments-api:v1.3.0 moved from ${v130} to ${v140}`);
    expect(JSON.parse(day3.outputs['moved-tags']!)).toEqual([MOVED]);
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]!.body).toContain('**Moved tags**');
    expect(github.comments[0]!.body).toContain('acme/payments-api:v1.3.0');
    expect(`${day3.log}`.replaceAll(`::add-mask::${GITHUB_TOKEN}`, '')).not.toContain(GITHUB_TOKEN);
  });

  it('after push: reports what the push added, then nothing, then the moved tag', async () => {
    await serve(original.filter((r) => r.name !== 'acme/payments-api'));
    const file = 'after-push.yml';
    const day1 = await runStep(file);
    expect(day1.exitCode).toBeUndefined();
    expect(day1.outputs['new-tags']).toBe('[]');

    // The push: a repository appears with its tags.
    await serve(original);
    const day2 = await runStep(file);
    const added = JSON.parse(day2.outputs['new-tags']!) as Array<{
      repository: string;
      tag: string;
      digest: string;
    }>;
    expect(added.map((t) => t.tag).sort()).toEqual(
      Object.keys(payments.tags)
        .filter((t) => !t.endsWith('.sig'))
        .sort(),
    );
    expect(
      added.every((t) => t.repository === 'acme/payments-api' && t.digest === payments.tags[t.tag]),
    ).toBe(true);
    expect(day2.outputs.changed).toBe('true');

    const day3 = await runStep(file);
    expect(day3.outputs).toMatchObject({ changed: 'false', 'new-tags': '[]', 'moved-tags': '[]' });

    await serve(movedContent());
    const day4 = await runStep(file);
    expect(JSON.parse(day4.outputs['moved-tags']!)).toEqual([MOVED]);
  });
});
