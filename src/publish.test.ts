import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureLog } from '../test/support/capture-log.js';
import { loadConfig } from './config/load-config.js';
import { ConfigError } from './errors.js';
import { inMemory } from './graph/graph-source.js';
import { silentLog } from './log.js';
import { API_VERSION, DISCOVERY_SOURCE, type Entity, GRAPH_FORMAT } from './model/graph.js';
import { DEFAULT_DEVGRAPH_URL, publish, resolveUpload } from './publish.js';
import { Secrets } from './secrets.js';

const configWith = (discovery: string) =>
  loadConfig(
    `discovery:\n${discovery}  providers:\n    - name: demo\n      type: docker\n      config: { registry_type: private, api_url: "http://127.0.0.1:5000" }\n`,
    { env: {}, secrets: new Secrets(), origin: 'test' },
  );

describe('resolveUpload: flag or input, then environment, then config, then default', () => {
  const config = configWith(
    '  api_base_url: https://config.devgraph.test/\n  environment: env-config\n  opaque_token: token-from-config\n',
  );

  it('the config alone decides when nothing else is said', () => {
    expect(resolveUpload({ urlField: '--devgraph-url', dryRun: false }, {}, config, new Secrets())).toEqual({
      url: 'https://config.devgraph.test',
      token: 'token-from-config',
      environment: 'env-config',
      dryRun: false,
    });
  });

  it('the environment wins over the config', () => {
    const env = { DEVGRAPH_TOKEN: 'token-from-env', DEVGRAPH_ENVIRONMENT: 'env-from-env' };
    expect(
      resolveUpload({ urlField: '--devgraph-url', dryRun: false }, env, config, new Secrets()),
    ).toMatchObject({
      url: 'https://config.devgraph.test',
      token: 'token-from-env',
      environment: 'env-from-env',
    });
  });

  it('the flag or input wins over both; empty counts as not given', () => {
    const env = { DEVGRAPH_TOKEN: 'token-from-env', DEVGRAPH_ENVIRONMENT: 'env-from-env' };
    const given = {
      urlField: '--devgraph-url',
      url: 'http://127.0.0.1:9/',
      token: 'token-given',
      environment: 'env-given',
      dryRun: true,
    };
    expect(resolveUpload(given, env, config, new Secrets())).toEqual({
      url: 'http://127.0.0.1:9',
      token: 'token-given',
      environment: 'env-given',
      dryRun: true,
    });
    expect(
      resolveUpload(
        { urlField: '--devgraph-url', url: '', token: '', environment: '', dryRun: false },
        env,
        config,
        new Secrets(),
      ),
    ).toMatchObject({
      url: 'https://config.devgraph.test',
      token: 'token-from-env',
      environment: 'env-from-env',
    });
  });

  it('without any of them: the default URL and no token', () => {
    expect(
      resolveUpload({ urlField: '--devgraph-url', dryRun: false }, {}, undefined, new Secrets()),
    ).toEqual({
      url: DEFAULT_DEVGRAPH_URL,
      dryRun: false,
    });
  });

  it('the token found is a secret from then on', () => {
    const secrets = new Secrets();
    resolveUpload(
      { urlField: '--devgraph-url', dryRun: false },
      { DEVGRAPH_TOKEN: 'token-from-env' },
      undefined,
      secrets,
    );
    expect(secrets.redact('sent token-from-env')).toBe('sent ***');
  });

  it('a URL that is not http(s) is refused, naming where it came from', () => {
    const given = { urlField: 'inputs.devgraph-url', dryRun: false };
    expect(() => resolveUpload({ ...given, url: 'ftp://x' }, {}, config, new Secrets())).toThrow(
      new ConfigError(['inputs.devgraph-url: must be an http(s) URL, got "ftp://x"']),
    );
    expect(() =>
      resolveUpload(given, {}, configWith('  api_base_url: api.devgraph.ai\n'), new Secrets()),
    ).toThrow(new ConfigError(['discovery.api_base_url: must be an http(s) URL, got "api.devgraph.ai"']));
  });
});

describe('publish: report.html beside graph.json', () => {
  it('is written, named in report-path and kept with the other files, with no secret in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-publish-'));
    try {
      const secrets = new Secrets();
      secrets.add('hunter2-canary');
      const image: Entity = {
        apiVersion: API_VERSION,
        kind: 'DockerImage',
        metadata: {
          name: 'acme-api-v1',
          namespace: 'default',
          labels: {},
          annotations: { [DISCOVERY_SOURCE]: 'demo' },
        },
        spec: {
          repository: 'acme/api',
          tag: 'v1-hunter2-canary',
          digest: `sha256:${'a'.repeat(64)}`,
          size: 10,
        },
      };
      const graph = inMemory({
        format: GRAPH_FORMAT,
        generated_at: '2026-01-01T00:00:00Z',
        entities: [image],
        relations: [],
        receipts: [],
      });
      const outputs = new Map<string, string>();
      const kept: string[] = [];
      const written: string[] = [];
      const published = await publish(
        { graph, summary: '# Registry inventory\n', complete: true, requests: {} },
        {
          outputDir: dir,
          secrets,
          log: silentLog,
          merged: false,
          ports: {
            filesWritten: (paths) => written.push(paths.reportPath),
            setOutput: (name, value) => outputs.set(name, value),
            keepFiles: async (paths) => {
              kept.push(paths.reportPath);
            },
          },
        },
      );
      const path = join(dir, 'report.html');
      expect(published.reportPath).toBe(path);
      expect(outputs.get('report-path')).toBe(path);
      expect(kept).toEqual([path]);
      expect(written).toEqual([path]);
      const html = await readFile(path, 'utf8');
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).toContain('"v1-***"');
      expect(html).not.toContain('hunter2');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('publish: JSON outputs cut to fit, files whole', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  const newTags = Array.from({ length: 1500 }, (_, i) => ({
    provider: 'demo',
    repository: 'acme/api',
    tag: `build-${i}`,
    digest,
  }));
  const violations = newTags.map((t) => ({ ...t, rule: 'signed' as const, detail: 'no signature found' }));
  const result = () => ({
    graph: inMemory({
      format: GRAPH_FORMAT,
      generated_at: '2026-01-01T00:00:00Z',
      entities: [],
      relations: [],
      receipts: [],
    }),
    summary: '# Registry inventory\n',
    complete: true,
    requests: {},
    changes: {
      firstRun: false,
      newRepositories: [],
      removedRepositories: [],
      newTags,
      movedTags: [],
      removedTags: [],
      newPlatforms: [],
      unverified: [],
      firstSeen: [],
    },
    policy: { checked: 1500, failed: 1500, violations },
  });

  it('changes.json and policy-violations.json hold every item; each cut output warns once, only where outputs exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-publish-cut-'));
    try {
      const log = captureLog();
      const outputs = new Map<string, string>();
      const kept: (string | undefined)[] = [];
      const published = await publish(result(), {
        outputDir: dir,
        secrets: new Secrets(),
        log,
        merged: false,
        ports: {
          setOutput: (name, value) => outputs.set(name, value),
          keepFiles: async (paths) => {
            kept.push(paths.changesPath);
          },
        },
      });
      const changesPath = join(dir, 'changes.json');
      expect(published.changesPath).toBe(changesPath);
      expect(kept).toEqual([changesPath]);
      expect(JSON.parse(await readFile(changesPath, 'utf8'))).toEqual({
        new_tags: newTags,
        moved_tags: [],
        removed_tags: [],
      });
      expect(JSON.parse(await readFile(join(dir, 'policy-violations.json'), 'utf8'))).toEqual(violations);

      const shown = JSON.parse(outputs.get('new-tags')!) as unknown[];
      expect(shown).toEqual(newTags.slice(0, shown.length));
      const shownViolations = JSON.parse(outputs.get('policy-violations')!) as unknown[];
      expect(shownViolations).toEqual(violations.slice(0, shownViolations.length));
      expect(published.outputNotes).toEqual([
        expect.stringMatching(
          new RegExp(
            `^The new-tags output holds the first ${shown.length} of 1500 items .*; changes\\.json beside graph\\.json holds all 1500\\.$`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^The policy-violations output holds the first ${shownViolations.length} of 1500 items .*; policy-violations\\.json beside graph\\.json holds all 1500\\.$`,
          ),
        ),
      ]);
      expect(log.lines).toEqual(published.outputNotes.map((text) => ({ level: 'warn', text })));

      // The CLI sets no outputs: nothing was cut there, and nothing is said.
      const quiet = captureLog();
      const cli = await publish(result(), {
        outputDir: dir,
        secrets: new Secrets(),
        log: quiet,
        merged: false,
      });
      expect(cli.outputNotes).toEqual([]);
      expect(quiet.lines).toEqual([]);
      expect(JSON.parse(await readFile(changesPath, 'utf8')).new_tags).toHaveLength(1500);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
