// The two shells end to end against the in-process demo registry: the CLI's files and exit
// codes, and the action's outputs and job summary through the real @actions/core.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { COMMENT_VIOLATIONS } from '../../src/publish.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { runCliInProcess as cli } from '../support/cli-in-process.js';
import { startDevgraphFake } from '../support/fakes/devgraph-fake.js';
import {
  TOKEN as GITHUB_FAKE_TOKEN,
  startGitHubCommentsFake,
} from '../support/fakes/github-comments-fake.js';

let registry: DemoRegistry;
let dir: string;
beforeAll(async () => {
  registry = await startDemoRegistry(sampleRepositories(), {
    basicAuth: { username: 'ci', password: 'demo-password-42' },
  });
  dir = await mkdtemp(join(tmpdir(), 'dg-e2e-'));
});
afterAll(async () => {
  await registry.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function config(url: string, password = '${DEMO_PASSWORD}') {
  return `providers:
  - name: demo
    type: docker
    config:
      registry_type: private
      api_url: ${url}
      username: ci
      password: ${password}
      timeout: 2
`;
}

describe('CLI', () => {
  it('discovers, writes graph.json and summary.md, exits 0', async () => {
    const file = join(dir, 'ok.yml');
    await writeFile(file, config(registry.url));
    const out = join(dir, 'out-ok');
    const r = await cli(['discover', '--config', file, '--out', out], {
      DEMO_PASSWORD: 'demo-password-42',
      SOURCE_DATE_EPOCH: '1767225600',
    });
    expect(r.code).toBe(0);
    const graph = JSON.parse(await readFile(join(out, 'graph.json'), 'utf8'));
    expect(graph.generated_at).toBe('2026-01-01T00:00:00Z');
    expect(graph.receipts.every((x: { complete: boolean }) => x.complete)).toBe(true);
    expect(await readFile(join(out, 'summary.md'), 'utf8')).toBe(r.stdout);
    expect(r.stdout).toContain('| library/nginx |');
    expect(r.stderr + r.stdout).not.toContain('demo-password-42');
  });

  it('--upload reconciles into Devgraph with $DEVGRAPH_TOKEN; a dry run and an unchanged re-run write nothing', async () => {
    const token = 'dg-cli-canary-token-77';
    const devgraph = await startDevgraphFake({ token, environment: 'env-cli' });
    try {
      const file = join(dir, 'upload.yml');
      await writeFile(file, config(registry.url));
      const env = { DEMO_PASSWORD: 'demo-password-42', DEVGRAPH_TOKEN: token };
      const common = ['discover', '--config', file, '--out', join(dir, 'out-upload')];
      const target = ['--devgraph-url', devgraph.url, '--devgraph-environment', 'env-cli'];

      const dry = await cli([...common, '--devgraph-dry-run', ...target], env);
      expect(dry.code).toBe(0);
      expect(devgraph.writes()).toEqual([]);
      expect(dry.stderr).toMatch(/Devgraph dry run, nothing written/);

      const first = await cli([...common, '--upload', ...target], env);
      expect(first.code).toBe(0);
      expect(devgraph.entities.size).toBeGreaterThan(0);
      const writes = devgraph.writes().length;
      const again = await cli([...common, '--upload', ...target], env);
      expect(again.code).toBe(0);
      expect(devgraph.writes().length).toBe(writes);

      const wrongEnvironment = await cli([...common, '--upload', '--devgraph-url', devgraph.url], {
        ...env,
        DEVGRAPH_ENVIRONMENT: 'not-mine',
      });
      expect(wrongEnvironment.code).toBe(3);
      expect(wrongEnvironment.stderr).toMatch(/devgraph-environment/);

      const noToken = await cli([...common, '--upload', ...target], { DEMO_PASSWORD: 'demo-password-42' });
      expect(noToken.code).toBe(3);
      expect(noToken.stderr).toContain('--upload needs a Devgraph API token in $DEVGRAPH_TOKEN');
      for (const r of [dry, first, again, wrongEnvironment, noToken])
        expect(r.stdout + r.stderr).not.toContain(token);
    } finally {
      await devgraph.close();
    }
  });

  it('a bad config exits 1 with one clear message naming the field', async () => {
    const file = join(dir, 'bad.yml');
    await writeFile(file, `providers:\n  - name: x\n    type: docker\n    config:\n      selector: []\n`);
    const r = await cli(['discover', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'devgraph-docker: providers[0].config.selector: unknown key; did you mean selectors?\n',
    );
  });

  it('an unset variable, a missing file and a bad flag exit 1', async () => {
    const file = join(dir, 'unset.yml');
    await writeFile(file, config(registry.url));
    expect((await cli(['discover', '--config', file])).stderr).toContain(
      'providers[0].config.password: environment variable DEMO_PASSWORD is not set',
    );
    const missing = await cli(['discover', '--config', join(dir, 'nope.yml')]);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toContain('cannot read --config');
    expect((await cli(['discover', '--config', file, '--concurrency', 'lots'])).code).toBe(1);
    expect((await cli(['frobnicate'])).code).toBe(1);
  });

  it('a wrong password exits 2 with one message and no secret', async () => {
    const file = join(dir, 'wrong.yml');
    await writeFile(file, config(registry.url, 'wrong-password-77'));
    const out = join(dir, 'out-wrong');
    const r = await cli(['discover', '--config', file, '--out', out, '--quiet']);
    expect(r.code).toBe(2);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toEqual([
      `warning: demo: cannot list repositories: registry ${registry.host} denied access to registry:catalog:* (HTTP 401: UNAUTHORIZED authentication required); credential used: username "ci" with a password; check the credentials and their permissions`,
    ]);
    expect(r.stdout).toContain('## Failures');
    expect(r.stderr + r.stdout + (await readFile(join(out, 'graph.json'), 'utf8'))).not.toContain(
      'wrong-password-77',
    );
  });

  it('an unreachable registry exits 2 with one message', async () => {
    const closed = await startDemoRegistry([]);
    const url = closed.url;
    await closed.close();
    const file = join(dir, 'down.yml');
    await writeFile(file, config(url));
    const r = await cli(['discover', '--config', file, '--out', join(dir, 'out-down'), '--quiet'], {
      DEMO_PASSWORD: 'x-password',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^warning: demo: cannot reach the registry: cannot connect to 127\.0\.0\.1:\d+: connection refused; is the registry running and the URL right\?\n$/,
    );
  });

  it('the committed bundle runs the demo with no network and no credentials', async () => {
    const out = join(dir, 'demo');
    const { stdout } = await promisify(execFile)(process.execPath, [
      'dist/cli/index.js',
      'demo',
      '--out',
      out,
      '--quiet',
    ]);
    expect(stdout).toContain('Discovery was complete.');
    expect(JSON.parse(await readFile(join(out, 'graph.json'), 'utf8')).format).toBe(
      'devgraph-docker/graph@1',
    );
  });
});

function runAction(inputs: Record<string, string>, env: Record<string, string> = {}) {
  // Each test starts without the state cache unless it asks for it: RUNNER_TEMP is shared here.
  return runActionInProcess(dir, { cache: 'false', ...inputs }, env, { jobSummary: true });
}

describe('action', () => {
  it('sets outputs, writes the graph and the job summary, masks the password', async () => {
    const r = await runAction(
      { config: config(registry.url), 'output-dir': join(dir, 'action-out') },
      { DEMO_PASSWORD: 'demo-password-42' },
    );
    expect(r.exitCode).toBeUndefined();
    expect(r.values).toMatchObject({
      complete: 'true',
      registries: '1',
      repositories: '6',
      'graph-path': join(dir, 'action-out', 'graph.json'),
    });
    expect(Number(r.values.images)).toBeGreaterThan(20);
    expect(r.jobSummary).toContain('# Registry inventory');
    expect(r.log).toContain('::add-mask::demo-password-42');
    expect(r.log.replace('::add-mask::demo-password-42', '')).not.toContain('demo-password-42');
  });

  it('an incomplete discovery warns, or fails with fail-on-incomplete', async () => {
    const inputs = { config: config(registry.url, 'wrong-password-99') };
    const warn = await runAction(inputs);
    expect(warn.exitCode).toBeUndefined();
    expect(warn.values.complete).toBe('false');
    expect(warn.log).toContain('::warning::discovery was incomplete for 1 receipt(s): demo');
    const fail = await runAction({ ...inputs, 'fail-on-incomplete': 'true' });
    expect(fail.exitCode).toBe(1);
  });

  it('uploads the graph to Devgraph when a token is given, and an unchanged re-run writes nothing', async () => {
    const devgraph = await startDevgraphFake({ token: 'dg-canary-token-123', environment: 'env-1' });
    try {
      const inputs = {
        config: config(registry.url, 'demo-password-42'),
        'devgraph-url': devgraph.url,
        'devgraph-token': 'dg-canary-token-123',
        'devgraph-environment': 'env-1',
      };
      const first = await runAction(inputs);
      expect(first.exitCode).toBeUndefined();
      expect(first.values['devgraph-uploaded']).toBe('true');
      expect(devgraph.entities.size).toBeGreaterThan(0);
      expect(first.log).toContain('Devgraph');
      const writes = devgraph.writes().length;
      const second = await runAction(inputs);
      expect(second.values['devgraph-uploaded']).toBe('true');
      expect(devgraph.writes().length).toBe(writes);
      const shown = `${first.log}${second.log}`.replaceAll('::add-mask::dg-canary-token-123', '');
      expect(shown).not.toContain('dg-canary-token-123');
    } finally {
      await devgraph.close();
    }
  });

  it('runs cold with one line when the Actions cache service is not there', async () => {
    const r = await runAction({ config: config(registry.url, 'demo-password-42'), cache: 'true' });
    expect(r.exitCode).toBeUndefined();
    expect(r.values.cache).toBe('unavailable');
    expect(r.values.complete).toBe('true');
  });

  it('a bad config fails the step with the message', async () => {
    const r = await runAction({ config: 'providers: []' });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('::error::providers: needs at least one provider');
  });
});

describe('what changed', () => {
  // A registry whose content changes between runs: restarted on the same port, so the state
  // (keyed by registry URL) and the previous graph refer to the same registry.
  let changing: DemoRegistry;
  const before = sampleRepositories();
  const repo = (repos: RepositoryContent[], name: string) => repos.find((r) => r.name === name)!;
  const payments = repo(before, 'acme/payments-api').tags;
  const v130 = payments['v1.3.0']!;
  const v140 = payments['v1.4.0']!;
  const mainDigest = payments.main!;
  const prDigest = repo(before, 'acme/web-frontend').tags['pr-418']!;

  /** v1.3.0 moved onto v1.4.0's digest, v1.5.0 added as an alias of main, pr-418 deleted. */
  function changedContent(): RepositoryContent[] {
    const repos = sampleRepositories().map((r) => ({ ...r, tags: { ...r.tags } }));
    const p = repo(repos, 'acme/payments-api').tags;
    p['v1.3.0'] = v140;
    p['v1.5.0'] = mainDigest;
    delete repo(repos, 'acme/web-frontend').tags['pr-418'];
    return repos;
  }
  async function serve(repos: RepositoryContent[]) {
    const port = changing ? Number(new URL(changing.url).port) : 0;
    await changing?.close();
    changing = await startDemoRegistry(repos, { port });
  }
  const plainConfig = () => `providers:
  - name: demo
    type: docker
    config:
      registry_type: private
      api_url: ${changing.url}
      timeout: 2
`;
  const expectedMoved = {
    provider: 'demo',
    repository: 'acme/payments-api',
    tag: 'v1.3.0',
    from: v130,
    to: v140,
  };

  beforeAll(async () => {
    await serve(before);
  });
  afterAll(async () => {
    await changing.close();
  });

  it('CLI --state: a first run says so, an unchanged re-run reports none, then the changes open summary.md', async () => {
    await serve(before);
    const file = join(dir, 'changes.yml');
    await writeFile(file, plainConfig());
    const state = join(dir, 'changes-state');
    const out = join(dir, 'changes-out');

    const first = await cli(['discover', '--config', file, '--out', out, '--state', state, '--quiet']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Changes: first inventory, there is no previous graph to compare with');
    expect(first.stdout).not.toContain('## Changes since last inventory');
    expect(JSON.parse(await readFile(join(state, 'graph.json'), 'utf8')).format).toBe(
      'devgraph-docker/graph@1',
    );

    const same = await cli(['discover', '--config', file, '--out', out, '--state', state, '--quiet']);
    expect(same.stdout).toContain('Changes: none since the inventory of');
    expect(same.stdout).not.toContain('## Changes since last inventory');

    await serve(changedContent());
    const changed = await cli(['discover', '--config', file, '--out', out, '--state', state, '--quiet']);
    expect(changed.code).toBe(0);
    const summary = await readFile(join(out, 'summary.md'), 'utf8');
    expect(summary).toBe(changed.stdout);
    expect(summary.startsWith('## Changes since last inventory\n')).toBe(true);
    expect(summary).toContain('1 new tag, 1 moved tag, 1 removed tag since the inventory of');
    expect(summary).toContain(`- acme/payments-api:v1.3.0: \`${v130}\` → \`${v140}\``);
    expect(summary).toContain(`- acme/payments-api:v1.5.0 \`${mainDigest.slice(7, 19)}\``);
    expect(summary).toContain(`- acme/web-frontend:pr-418 (was \`${prDigest.slice(7, 19)}\`)`);
    expect(summary.indexOf('## Changes since last inventory')).toBeLessThan(
      summary.indexOf('# Registry inventory'),
    );

    // The state now holds this run's graph: the next run compares with it.
    const again = await cli(['discover', '--config', file, '--out', out, '--state', state, '--quiet']);
    expect(again.stdout).toContain('Changes: none since the inventory of');
  });

  it('CLI --previous compares with a named graph; a missing one is a first run, a wrong one exits 1', async () => {
    await serve(before);
    const file = join(dir, 'previous.yml');
    await writeFile(file, plainConfig());
    const baseline = join(dir, 'previous-base');
    expect((await cli(['discover', '--config', file, '--out', baseline, '--quiet'])).code).toBe(0);

    await serve(changedContent());
    const r = await cli([
      'discover',
      '--config',
      file,
      '--out',
      join(dir, 'previous-out'),
      '--previous',
      join(baseline, 'graph.json'),
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('## Changes since last inventory\n')).toBe(true);
    expect(r.stdout).toContain(`acme/payments-api:v1.3.0: \`${v130}\` → \`${v140}\``);

    const missing = await cli([
      'discover',
      '--config',
      file,
      '--out',
      join(dir, 'previous-out'),
      '--previous',
      join(dir, 'no-such-graph.json'),
      '--quiet',
    ]);
    expect(missing.code).toBe(0);
    expect(missing.stderr).toContain('does not exist; treating this run as the first inventory');
    expect(missing.stdout).toContain('Changes: first inventory');

    const notGraph = join(dir, 'not-a-graph.json');
    await writeFile(notGraph, '{"hello":1}');
    const wrong = await cli(['discover', '--config', file, '--previous', notGraph, '--quiet']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `devgraph-docker: --previous: ${notGraph} is not a devgraph-docker graph: "format" is undefined, expected "devgraph-docker/graph@1"; give a graph.json written by devgraph-docker\n`,
    );
  });

  it('action: previous-graph sets the change outputs; immutable-tags fails the step naming both digests', async () => {
    await serve(before);
    const baseline = join(dir, 'action-base');
    const first = await runAction({ config: plainConfig(), 'output-dir': baseline });
    expect(first.exitCode).toBeUndefined();
    expect(first.values).toMatchObject({
      'new-tags': '[]',
      'moved-tags': '[]',
      'removed-tags': '[]',
      changed: 'false',
    });

    await serve(changedContent());
    const inputs = {
      config: plainConfig(),
      'output-dir': join(dir, 'action-changed'),
      'previous-graph': join(baseline, 'graph.json'),
    };
    const r = await runAction(inputs);
    expect(r.exitCode).toBeUndefined();
    expect(r.values.changed).toBe('true');
    expect(JSON.parse(r.values['moved-tags']!)).toEqual([expectedMoved]);
    expect(JSON.parse(r.values['new-tags']!)).toEqual([
      { provider: 'demo', repository: 'acme/payments-api', tag: 'v1.5.0', digest: mainDigest },
    ]);
    expect(JSON.parse(r.values['removed-tags']!)).toEqual([
      { provider: 'demo', repository: 'acme/web-frontend', tag: 'pr-418', digest: prDigest },
    ]);
    // The job summary gets this text verbatim (@actions/core keeps the first summary file it saw, so read ours).
    const summary = await readFile(r.values['summary-path']!, 'utf8');
    expect(summary.startsWith('## Changes since last inventory\n')).toBe(true);

    const guarded = await runAction({ ...inputs, 'immutable-tags': '^v?\\d+\\.\\d+\\.\\d+$' });
    expect(guarded.exitCode).toBe(1);
    expect(guarded.log).toContain(
      `::error::immutable-tags: 1 tag matching "^v?\\\\d+\\\\.\\\\d+\\\\.\\\\d+$" moved to another digest:%0A  demo acme/payments-api:v1.3.0 moved from ${v130} to ${v140}`,
    );
    // Outputs are set before the guard fails the step, so later steps can still read them.
    expect(JSON.parse(guarded.values['moved-tags']!)).toEqual([expectedMoved]);

    // A guard that matches nothing that moved passes.
    expect((await runAction({ ...inputs, 'immutable-tags': '^release-' })).exitCode).toBeUndefined();
  });

  it('action: an invalid immutable-tags regex fails before any discovery', async () => {
    changing.requests.length = 0;
    const r = await runAction({ config: plainConfig(), 'immutable-tags': 'v(' });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /::error::inputs\.immutable-tags: "v\(" is not a valid regular expression \(.+\); fix the pattern/,
    );
    expect(changing.requests).toEqual([]);
  });
});

describe('publishing, the same in both shells', () => {
  const TOKEN = 'dg-publish-canary-token-55';
  /** Devgraph's own config shape: where Devgraph is comes from discovery.api_base_url. */
  const devgraphConfig = (devgraphUrl: string, password = 'demo-password-42') => `discovery:
  api_base_url: ${devgraphUrl}
  providers:
    - name: demo
      type: docker
      config:
        registry_type: private
        api_url: ${registry.url}
        username: ci
        password: ${password}
        timeout: 2
`;

  it("action: the config's discovery.api_base_url, $DEVGRAPH_ENVIRONMENT and $DEVGRAPH_TOKEN, as in the CLI", async () => {
    const devgraph = await startDevgraphFake({ token: TOKEN, environment: 'env-from-job' });
    try {
      const r = await runAction(
        { config: devgraphConfig(devgraph.url) },
        { DEVGRAPH_ENVIRONMENT: 'env-from-job', DEVGRAPH_TOKEN: TOKEN },
      );
      expect(r.exitCode).toBeUndefined();
      expect(r.values['devgraph-uploaded']).toBe('true');
      expect(devgraph.entities.size).toBeGreaterThan(0);
      for (const req of devgraph.requests) expect(req.headers['devgraph-environment']).toBe('env-from-job');
      expect(r.log).toContain(`::add-mask::${TOKEN}`);
      expect(r.log.replaceAll(`::add-mask::${TOKEN}`, '')).not.toContain(TOKEN);
    } finally {
      await devgraph.close();
    }
  });

  it('one upload failure is one warning, in the Action and in the CLI', async () => {
    const devgraph = await startDevgraphFake({ token: TOKEN, environment: 'env-1' });
    try {
      const warnings = (log: string) => log.split('\n').filter((l) => l.startsWith('::warning::'));
      const inputs = {
        config: config(registry.url, 'demo-password-42'),
        'devgraph-url': devgraph.url,
        'devgraph-environment': 'env-1',
      };
      const refused = await runAction({ ...inputs, 'devgraph-token': 'dg-not-the-right-token' });
      expect(refused.values['devgraph-uploaded']).toBe('false');
      expect(warnings(refused.log)).toHaveLength(1);
      expect(warnings(refused.log)[0]).toMatch(/^::warning::Devgraph: .*the token was refused/);

      devgraph.fault({ operation: 'get_entities', status: 400, detail: 'no listing today' });
      const failing = await runAction({ ...inputs, 'devgraph-token': TOKEN });
      expect(failing.values['devgraph-uploaded']).toBe('false');
      expect(warnings(failing.log)).toHaveLength(1);
      expect(warnings(failing.log)[0]).toMatch(/^::warning::Devgraph: .*nothing was written to Devgraph$/);

      devgraph.fault({ operation: 'get_entities', status: 400, detail: 'no listing today' });
      const file = join(dir, 'one-warning.yml');
      await writeFile(file, config(registry.url));
      const viaCli = await cli(
        [
          'discover',
          '--config',
          file,
          '--out',
          join(dir, 'out-one-warning'),
          '--upload',
          '--devgraph-url',
          devgraph.url,
          '--devgraph-environment',
          'env-1',
          '--quiet',
        ],
        { DEMO_PASSWORD: 'demo-password-42', DEVGRAPH_TOKEN: TOKEN },
      );
      expect(viaCli.code).toBe(3);
      expect(viaCli.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toHaveLength(1);
    } finally {
      await devgraph.close();
    }
  });

  it('CLI upload --graph uploads a graph written before, with the flags and exit codes of discover --upload', async () => {
    const devgraph = await startDevgraphFake({ token: TOKEN, environment: 'env-up' });
    try {
      const file = join(dir, 'for-upload.yml');
      await writeFile(file, config(registry.url));
      const out = join(dir, 'out-for-upload');
      const env = { DEMO_PASSWORD: 'demo-password-42', DEVGRAPH_TOKEN: TOKEN };
      expect((await cli(['discover', '--config', file, '--out', out, '--quiet'], env)).code).toBe(0);
      const graph = join(out, 'graph.json');
      const target = ['--devgraph-url', devgraph.url, '--devgraph-environment', 'env-up'];

      const dry = await cli(['upload', '--graph', graph, '--devgraph-dry-run', ...target], env);
      expect(dry.code).toBe(0);
      expect(dry.stderr).toMatch(/Devgraph dry run, nothing written/);
      expect(devgraph.writes()).toEqual([]);

      const first = await cli(['upload', '--graph', graph, '--upload', ...target], env);
      expect(first.code).toBe(0);
      const stored = devgraph.entities.size;
      expect(stored).toBe(JSON.parse(await readFile(graph, 'utf8')).entities.length);
      const writes = devgraph.writes().length;
      // --upload is implied by the command; the config's discovery.api_base_url is read as discover reads it.
      const configured = join(dir, 'for-upload-devgraph.yml');
      await writeFile(configured, devgraphConfig(devgraph.url));
      const again = await cli(['upload', '--graph', graph, '--config', configured], {
        ...env,
        DEVGRAPH_ENVIRONMENT: 'env-up',
      });
      expect(again.code).toBe(0);
      expect(devgraph.writes().length).toBe(writes);

      const noToken = await cli(['upload', '--graph', graph, ...target], { DEMO_PASSWORD: 'x-password' });
      expect(noToken.code).toBe(3);
      expect(noToken.stderr).toContain('--upload needs a Devgraph API token in $DEVGRAPH_TOKEN');
      const wrongEnvironment = await cli(['upload', '--graph', graph, '--devgraph-url', devgraph.url], {
        ...env,
        DEVGRAPH_ENVIRONMENT: 'not-mine',
      });
      expect(wrongEnvironment.code).toBe(3);
      expect(wrongEnvironment.stderr).toMatch(/devgraph-environment/);

      // A graph whose discovery was incomplete: exit 2, and nothing it did not see is deleted.
      const wrong = join(dir, 'for-upload-wrong.yml');
      await writeFile(wrong, config(registry.url, 'wrong-password-77'));
      const incompleteOut = join(dir, 'out-for-upload-incomplete');
      expect((await cli(['discover', '--config', wrong, '--out', incompleteOut, '--quiet'])).code).toBe(2);
      const incomplete = await cli(['upload', '--graph', join(incompleteOut, 'graph.json'), ...target], env);
      expect(incomplete.code).toBe(2);
      expect(incomplete.stderr).toContain('deletes withheld (1 incomplete receipt(s) in the graph file)');
      expect(devgraph.entities.size).toBe(stored);

      const shardOut = join(dir, 'out-for-upload-shard');
      expect(
        (await cli(['discover', '--config', file, '--out', shardOut, '--shard', '1/2', '--quiet'], env)).code,
      ).toBe(0);
      const shard = await cli(['upload', '--graph', join(shardOut, 'graph.json'), ...target], env);
      expect(shard.code).toBe(1);
      expect(shard.stderr).toContain('is shard 1/2 of a sharded run; merge every shard');
      const missing = await cli(['upload', '--graph', join(dir, 'no-such-graph.json'), ...target], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('--graph: cannot read');
      expect((await cli(['upload', ...target], env)).code).toBe(1);
      const badUrl = await cli(['upload', '--graph', graph, '--devgraph-url', 'api.devgraph.ai'], env);
      expect(badUrl.code).toBe(1);
      expect(badUrl.stderr).toBe(
        'devgraph-docker: --devgraph-url: must be an http(s) URL, got "api.devgraph.ai"\n',
      );
      // discover refuses it before asking the registry anything.
      registry.requests.length = 0;
      const badBeforeDiscovery = await cli(
        ['discover', '--config', file, '--out', out, '--upload', '--devgraph-url', 'api.devgraph.ai'],
        env,
      );
      expect(badBeforeDiscovery.code).toBe(1);
      expect(registry.requests).toEqual([]);

      for (const r of [dry, first, again, noToken, wrongEnvironment, incomplete, shard, missing])
        expect(r.stdout + r.stderr).not.toContain(TOKEN);
    } finally {
      await devgraph.close();
    }
  });

  it('CLI: a terminal gets plain text, a pipe and summary.md the Markdown', async () => {
    const file = join(dir, 'plain.yml');
    await writeFile(file, config(registry.url, 'wrong-password-77'));
    const out = join(dir, 'out-plain');
    const r = await cli(['discover', '--config', file, '--out', out, '--quiet'], {}, { tty: true });
    expect(r.code).toBe(2);
    const markdown = await readFile(join(out, 'summary.md'), 'utf8');
    expect(markdown).toContain('- demo \\(registry\\): cannot list repositories');
    expect(r.stdout).toContain('- demo (registry): cannot list repositories');
    expect(r.stdout).toMatch(/^Registry inventory\n==================\n/);
    expect(r.stdout).not.toMatch(/\\[()#|*_`]|\*\*|^#|&amp;|&lt;/m);
    const piped = await cli(['discover', '--config', file, '--out', out, '--quiet'], {}, { tty: false });
    expect(piped.stdout).toBe(markdown);
  });

  it('demo --serve keeps the registry serving with a config to try, until Ctrl-C', async () => {
    const out = join(dir, 'demo-serve');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'demo', '--serve', '--out', out, '--quiet'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await new Promise<void>((ready, failed) => {
        child.stderr.on('data', (d) => {
          stderr += String(d);
          if (stderr.includes('until Ctrl-C')) ready();
        });
        child.on('exit', () => failed(new Error(`demo exited early: ${stderr}`)));
      });
      expect(stdout).toContain('Discovery was complete.');
      const url = /serving at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      expect(url).toBeDefined();
      const configPath = join(out, 'demo-config.yml');
      expect(stderr).toContain(`devgraph-docker discover --config ${configPath}`);
      expect(stderr).toContain(`api_url: ${url}`);
      // A run of its own against the still-serving registry, with the config it printed.
      const tried = await cli([
        'discover',
        '--config',
        configPath,
        '--out',
        join(dir, 'demo-tried'),
        '--quiet',
      ]);
      expect(tried.code).toBe(0);
      expect(tried.stdout).toContain('| library/nginx |');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('demo registry stopped');
  }, 60_000);
});

describe('policy (require:)', () => {
  /** library/nginx is built for linux/amd64 and linux/arm64/v8, library/redis also for linux/arm/v7. */
  const policyConfig = (
    platform: string,
    extraProvider = '',
  ) => `${config(registry.url, 'demo-password-42')}      selectors:
        - namespace_pattern: "^library$"
          require: { platforms: [${platform}] }
        - max_tags: 1
${extraProvider}`;

  it('CLI: exit 4 and policy-violations.json when an image violates require:, [] and 0 when none does', async () => {
    const file = join(dir, 'policy.yml');
    await writeFile(file, policyConfig('linux/arm/v7'));
    const out = join(dir, 'out-policy');
    const r = await cli(['discover', '--config', file, '--out', out, '--quiet']);
    expect(r.code).toBe(4);
    const violations = JSON.parse(await readFile(join(out, 'policy-violations.json'), 'utf8'));
    expect(violations.length).toBeGreaterThan(0);
    for (const v of violations) {
      expect(v).toMatchObject({ provider: 'demo', repository: 'library/nginx', rule: 'platforms' });
      expect(v.detail).toBe('lacks linux/arm/v7 (has linux/amd64, linux/arm64/v8)');
      expect(v.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    }
    expect(r.stderr).toMatch(
      /^warning: policy: \d+ of \d+ images violate their selector's require: \(\d+ violations\); see .*policy-violations\.json$/m,
    );
    expect(r.stdout).toContain('### Policy');
    expect(r.stdout).toContain('**platforms**: lacks linux/arm/v7');

    await writeFile(file, policyConfig('linux/amd64'));
    const ok = await cli(['discover', '--config', file, '--out', out, '--quiet']);
    expect(ok.code).toBe(0);
    expect(await readFile(join(out, 'policy-violations.json'), 'utf8')).toBe('[]\n');

    // Without require: no file at all (none was asked for).
    const none = join(dir, 'out-no-policy');
    await writeFile(file, config(registry.url, 'demo-password-42'));
    expect((await cli(['discover', '--config', file, '--out', none, '--quiet'])).code).toBe(0);
    await expect(readFile(join(none, 'policy-violations.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('CLI: a violation outranks an incomplete discovery (4, not 2)', async () => {
    const closed = await startDemoRegistry([]);
    await closed.close();
    const file = join(dir, 'policy-down.yml');
    await writeFile(
      file,
      policyConfig(
        'linux/arm/v7',
        `  - name: down
    type: docker
    config: { registry_type: private, api_url: "${closed.url}", timeout: 2 }
`,
      ),
    );
    const r = await cli(['discover', '--config', file, '--out', join(dir, 'out-policy-down'), '--quiet']);
    expect(r.stdout).toContain('**Discovery was incomplete**');
    expect(r.code).toBe(4);
  });

  it("merge applies the config's require: to the merged graph", async () => {
    const file = join(dir, 'policy-shards.yml');
    await writeFile(file, policyConfig('linux/arm/v7'));
    const shards = [1, 2].map((i) => join(dir, `policy-shard-${i}`));
    for (const [i, out] of shards.entries())
      expect([0, 4]).toContain(
        (await cli(['discover', '--config', file, '--shard', `${i + 1}/2`, '--out', out, '--quiet'])).code,
      );
    const merged = join(dir, 'policy-merged');
    const r = await cli(['merge', '--config', file, '--out', merged, '--quiet', ...shards]);
    expect(r.code).toBe(4);
    const whole = join(dir, 'policy-whole');
    await cli(['discover', '--config', file, '--out', whole, '--quiet']);
    expect(await readFile(join(merged, 'policy-violations.json'), 'utf8')).toBe(
      await readFile(join(whole, 'policy-violations.json'), 'utf8'),
    );
    // Without --config there is no policy to apply.
    const bare = await cli(['merge', '--out', join(dir, 'policy-merged-bare'), '--quiet', ...shards]);
    expect(bare.code).toBe(0);
  });

  it('action: the retention plan in its outputs, and retention-apply deletes exactly what it lists', async () => {
    // A registry of its own that takes deletes: the shared one must keep its images.
    const own = await startDemoRegistry(sampleRepositories(), {
      basicAuth: { username: 'ci', password: 'demo-password-42' },
      deletes: 'enabled',
    });
    try {
      const conf = `${config(own.url, 'demo-password-42')}      selectors:
        - namespace_pattern: acme
          repository_pattern: "^legacy-batch$"
          max_tags: 0
          retention: { keep_newest: 1 }
`;
      const out = join(dir, 'action-retention');
      const planned = await runAction({ config: conf, 'output-dir': out });
      expect(planned.exitCode).toBeUndefined();
      const deletions = Number(planned.values['retention-deletions']);
      expect(deletions).toBeGreaterThan(0);
      expect(Number(planned.values['retention-reclaimable-bytes'])).toBeGreaterThan(0);
      const read = async () => JSON.parse(await readFile(join(out, 'retention-plan.json'), 'utf8'));
      const plan = await read();
      expect(plan.applied).toBeUndefined();
      const goneTags = plan.plans[0].deletions.flatMap((d: { tags: string[] }) => d.tags).length;

      const applied = await runAction({ config: conf, 'output-dir': out, 'retention-apply': 'true' });
      expect(applied.exitCode).toBeUndefined();
      expect((await read()).applied.counts).toMatchObject({ deleted: deletions, refused: 0, failed: 0 });
      // The apply run's own graph (the artifact's graph.json) already lacks what it deleted.
      const deletedTags = new Set<string>(
        (await read()).applied.journal
          .filter((e: { answer: string }) => e.answer === 'deleted')
          .flatMap((e: { tags: string[] }) => e.tags),
      );
      const appliedGraph = JSON.parse(await readFile(join(out, 'graph.json'), 'utf8'));
      const imageTags = appliedGraph.entities
        .filter((e: { kind: string }) => e.kind === 'DockerImage')
        .map((e: { spec: { tag: string } }) => e.spec.tag);
      expect(imageTags.length).toBeGreaterThan(0);
      expect(imageTags.filter((t: string) => deletedTags.has(t))).toEqual([]);
      expect(applied.values.images).toBe(String(Number(planned.values.images) - goneTags));

      const after = await runAction({ config: conf, 'output-dir': out });
      expect(after.values.images).toBe(String(Number(planned.values.images) - goneTags));
      expect(after.values['retention-deletions']).toBe('0');

      const bad = await runAction({
        config: conf,
        'output-dir': out,
        'retention-apply': 'true',
        'max-deletions': 'many',
      });
      expect(bad.exitCode).toBe(1);
      expect(bad.log).toContain('::error::inputs.max-deletions: must be a whole number');
    } finally {
      await own.close();
    }
  });

  it('action: the policy-violations output, a warning, and a failed step only with fail-on-policy', async () => {
    const inputs = { config: policyConfig('linux/arm/v7'), 'output-dir': join(dir, 'action-policy') };
    const warn = await runAction(inputs);
    expect(warn.exitCode).toBeUndefined();
    const violations = JSON.parse(warn.values['policy-violations']!);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]).toMatchObject({ provider: 'demo', repository: 'library/nginx', rule: 'platforms' });
    expect(warn.log).toMatch(/::warning::policy: \d+ of \d+ images violate their selector's require:/);
    // @actions/core writes every job summary to the first GITHUB_STEP_SUMMARY it saw in this
    // process, so the summary is read from summary.md, the text the job summary is made of.
    const summary = await readFile(join(dir, 'action-policy', 'summary.md'), 'utf8');
    expect(summary).toContain('## Supply chain');
    expect(summary).toContain('**platforms**: lacks linux/arm/v7');

    const fail = await runAction({ ...inputs, 'fail-on-policy': 'true' });
    expect(fail.exitCode).toBe(1);
    expect(fail.log).toMatch(/::error::policy: \d+ of \d+ images violate/);
    // Everything else was published first.
    expect(fail.values.complete).toBe('true');
    expect(fail.values['graph-path']).toBe(join(dir, 'action-policy', 'graph.json'));
    expect(await readFile(join(dir, 'action-policy', 'summary.md'), 'utf8')).toContain('### Policy');

    const pass = await runAction({
      ...inputs,
      config: policyConfig('linux/amd64'),
      'fail-on-policy': 'true',
    });
    expect(pass.exitCode).toBeUndefined();
    expect(pass.values['policy-violations']).toBe('[]');

    const comments = await startGitHubCommentsFake({ owner: 'acme', repo: 'app', pulls: [7] });
    try {
      const event = join(dir, 'policy-event.json');
      await writeFile(event, JSON.stringify({ pull_request: { number: 7 } }));
      const commented = await runAction(
        { ...inputs, 'fail-on-policy': 'false', 'comment-on-pr': 'true', 'github-token': GITHUB_FAKE_TOKEN },
        { GITHUB_API_URL: comments.url, GITHUB_REPOSITORY: 'acme/app', GITHUB_EVENT_PATH: event },
      );
      expect(commented.exitCode).toBeUndefined();
      const body = comments.comments[0]!.body;
      expect(body).toContain('## Policy');
      expect(body).toMatch(/\*\*Policy: \d+ of \d+ images checked violate/);
      const listed = body.split('\n').filter((l) => l.startsWith('- demo / library/nginx:'));
      expect(listed).toHaveLength(Math.min(violations.length, COMMENT_VIOLATIONS));
      if (violations.length > COMMENT_VIOLATIONS)
        expect(body).toContain(`- … and ${violations.length - COMMENT_VIOLATIONS} more`);
    } finally {
      await comments.close();
    }

    const bad = await runAction({ ...inputs, 'fail-on-policy': 'maybe' });
    expect(bad.exitCode).toBe(1);
    expect(bad.log).toContain('::error::inputs.fail-on-policy: must be true or false, got "maybe"');
  });
});
