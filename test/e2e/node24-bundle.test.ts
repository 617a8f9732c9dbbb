// action.yml runs the Action on node24, while this suite runs on whatever Node the machine has.
// Here the committed bundles run on Node 24 itself, started as a runner starts them, against the
// real registry seeded with every supply-chain scheme (signatures checked with the key the config
// gives): they must write the graph the same bundles write on this machine's Node, byte for byte,
// and a state written by one Node must serve the other. Node 24 comes from npm's registry
// (scripts/fetch-node24.mjs, which .ci/run runs); without it these tests are skipped, unless
// DEVGRAPH_REQUIRE_NODE24 says they must run.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainRegistryConfig } from '../support/config-text.js';
import { pushRepository } from '../support/push-content.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { SUPPLY_CHAIN_IMAGES, supplyChainRepository } from '../support/supply-chain-content.js';

const root = resolve(import.meta.dirname, '../..');
const NODE24 = process.versions.node.startsWith('24.')
  ? process.execPath
  : [join(root, 'node_modules', '.cache', 'node24', 'bin', 'node')].find((p) => existsSync(p));
if (!NODE24 && process.env.DEVGRAPH_REQUIRE_NODE24)
  throw new Error('Node 24 is missing: run `node scripts/fetch-node24.mjs` (npm ci removes it)');

const { content, facts } = supplyChainRepository();
/** 2026-01-01T00:00:00Z: both Nodes write the same generated_at. */
const SOURCE_DATE_EPOCH = '1767225600';

let registry: RunningRegistry;
let dir: string;

/** A bundle under `node`, with nothing of this process's environment but PATH and HOME. */
function runBundle(
  node: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      node,
      args,
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SOURCE_DATE_EPOCH, ...env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function config(): string {
  return plainRegistryConfig(registry.url, {
    name: 'supply',
    lines: ['discover_vulnerabilities: true', 'verify:', '  keys:', '    - ${COSIGN_PUBLIC_KEY}'],
    require: '{ verified: true }',
  });
}

/** `dist/index.js` as the runner starts it: inputs and files through the environment. */
async function action(node: string, name: string) {
  const out = join(dir, name);
  const outputFile = join(dir, `${name}.output`);
  const summaryFile = join(dir, `${name}.summary`);
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const r = await runBundle(node, ['dist/index.js'], {
    'INPUT_CONFIG-FILE': join(dir, 'config.yml'),
    'INPUT_OUTPUT-DIR': out,
    INPUT_CACHE: 'false',
    'INPUT_FAIL-ON-POLICY': 'true',
    COSIGN_PUBLIC_KEY: facts.publicKeyPem,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
  });
  const outputs: Record<string, string> = {};
  for (const m of (await readFile(outputFile, 'utf8')).matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm))
    outputs[m[1]!] = m[3]!;
  return {
    code: r.code,
    stdout: r.stdout.split(out).join('OUT'),
    stderr: r.stderr.split(out).join('OUT'),
    outputs: JSON.parse(JSON.stringify(outputs).split(out).join('OUT')) as Record<string, string>,
    graph: await readFile(join(out, 'graph.json'), 'utf8'),
    summary: await readFile(summaryFile, 'utf8'),
  };
}

/** `dist/cli/index.js discover`, with a state directory when given. */
async function cli(node: string, name: string, stateDir?: string) {
  const out = join(dir, name);
  const r = await runBundle(
    node,
    [
      'dist/cli/index.js',
      'discover',
      '--config',
      join(dir, 'config.yml'),
      '--out',
      out,
      '--quiet',
      ...(stateDir ? ['--state', stateDir] : []),
    ],
    { COSIGN_PUBLIC_KEY: facts.publicKeyPem },
  );
  return {
    code: r.code,
    stderr: r.stderr.split(out).join('OUT'),
    graph: await readFile(join(out, 'graph.json'), 'utf8'),
  };
}

/** A log's lines in order: warnings about different manifests come in the order requests end. */
const lines = (log: string) => log.split('\n').sort();

/** The graph without the requests each receipt counts (a warm run asks less, by design). */
function withoutRequests(graph: string): unknown {
  const g = JSON.parse(graph) as { receipts: Array<Record<string, unknown>> };
  return { ...g, receipts: g.receipts.map(({ requests: _asked, ...rest }) => rest) };
}

describe.skipIf(!NODE24)('the committed bundles on Node 24 (action.yml: using node24)', () => {
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepository(registry, content);
    dir = await mkdtemp(join(tmpdir(), 'dg-node24-'));
    await writeFile(join(dir, 'config.yml'), config());
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is Node 24', async () => {
    const r = await runBundle(NODE24!, ['--version'], {});
    expect(r.stdout).toMatch(/^v24\./);
  });

  it('the Action writes the graph, summary and outputs it writes on this Node, and fails on policy', async () => {
    const here = await action(process.execPath, 'action-here');
    const on24 = await action(NODE24!, 'action-24');
    expect(on24.code).toBe(1);
    expect(on24.stdout).toMatch(/::error::policy: \d+ of \d+ images violate/);
    expect(lines(on24.stdout)).toEqual(lines(here.stdout));
    expect(on24.stderr).toBe(here.stderr);
    expect(on24.graph).toBe(here.graph);
    expect(on24.summary).toBe(here.summary);
    expect(on24.outputs).toEqual(here.outputs);
    expect(on24.outputs.complete).toBe('true');

    // The signatures were checked on Node 24: every image's trust as the fixture says.
    const images = (
      JSON.parse(on24.graph) as { entities: Array<{ kind: string; spec: Record<string, unknown> }> }
    ).entities.filter((e) => e.kind === 'DockerImage');
    for (const name of SUPPLY_CHAIN_IMAGES) {
      const fact = facts.images[name];
      const spec = images.find((i) => i.spec.tag === fact.tag)?.spec;
      expect({ tag: fact.tag, verified: spec?.verified, signed: spec?.signed }).toEqual({
        tag: fact.tag,
        verified: fact.trust.verified,
        signed: fact.trust.signed,
      });
    }
    const violations = JSON.parse(on24.outputs['policy-violations']!) as Array<{ tag: string }>;
    expect(violations.map((v) => v.tag).sort()).toEqual(
      SUPPLY_CHAIN_IMAGES.filter((n) => !facts.images[n].trust.verified)
        .map((n) => facts.images[n].tag)
        .sort(),
    );
  }, 60_000);

  it('the CLI exits 4 on a violated policy, and a state written on one Node serves the other', async () => {
    const state = join(dir, 'state');
    const cold = await cli(process.execPath, 'cli-cold', state);
    expect(cold.code).toBe(4);
    const warm = await cli(NODE24!, 'cli-warm-24', state);
    expect(warm.code).toBe(4);
    // The same warnings (the replayed signature is bad, the policy verdict), nothing more.
    expect(lines(warm.stderr)).toEqual(lines(cold.stderr));
    expect(withoutRequests(warm.graph)).toEqual(withoutRequests(cold.graph));
    const askedCold = (JSON.parse(cold.graph) as { receipts: Array<{ requests: number }> }).receipts[0]!
      .requests;
    const askedWarm = (JSON.parse(warm.graph) as { receipts: Array<{ requests: number }> }).receipts[0]!
      .requests;
    expect(askedWarm).toBeLessThan(askedCold);
    const back = await cli(process.execPath, 'cli-warm-here', state);
    expect(back.graph).toBe(warm.graph);
  }, 60_000);
});
