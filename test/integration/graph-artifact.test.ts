// The graph as a workflow artifact, against a stand-in for @actions/artifact's client that checks
// what the real one checks (every file exists and lies under the root directory): the artifact id
// and its page in the GitHub UI come back, and a failed upload is one warning, never a thrown error.
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArtifactUploader,
  artifactUrl,
  parseArtifactInputs,
  uploadGraphArtifact,
} from '../../src/shell/graph-artifact.js';
import { captureLog } from '../support/capture-log.js';

const ENV = {
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme-org/platform',
  GITHUB_RUN_ID: '123456789',
};

function fakeClient(fail?: Error): ArtifactUploader & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    async uploadArtifact(name, files, rootDirectory, options) {
      calls.push([name, files, rootDirectory, options]);
      if (fail) throw fail;
      for (const f of files) {
        if (relative(rootDirectory, f).startsWith('..'))
          throw new Error(`The rootDirectory: ${rootDirectory} is not a parent directory of the file: ${f}`);
        await access(f);
      }
      return { id: 4242, size: 1234 };
    },
  };
}

let dir: string;
let files: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-artifact-'));
  files = [join(dir, 'graph.json'), join(dir, 'summary.md')];
  await writeFile(files[0]!, '{}\n');
  await writeFile(files[1]!, '# Summary\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('graph artifact', () => {
  it('uploads graph.json and summary.md and returns the id and the URL of the artifact', async () => {
    const client = fakeClient();
    const log = captureLog();
    const out = await uploadGraphArtifact({
      name: 'devgraph-graph',
      files,
      rootDirectory: dir,
      retentionDays: 7,
      env: ENV,
      log,
      client,
    });
    expect(out).toEqual({
      status: 'uploaded',
      id: 4242,
      url: 'https://github.com/acme-org/platform/actions/runs/123456789/artifacts/4242',
      message: expect.any(String),
    });
    expect(client.calls).toEqual([['devgraph-graph', files, dir, { retentionDays: 7 }]]);
    expect(log.lines.map((l) => l.level)).toEqual(['info']);
  });

  it('without a retention input the repository default applies', async () => {
    const client = fakeClient();
    await uploadGraphArtifact({ name: 'g', files, rootDirectory: dir, env: ENV, log: captureLog(), client });
    expect(client.calls[0]![3]).toEqual({});
  });

  it('a failed upload is one warning with the reason; the files stay on disk', async () => {
    const client = fakeClient(
      new Error('Failed to CreateArtifact: Received non-retryable error:\n  (403) Forbidden'),
    );
    const log = captureLog();
    const out = await uploadGraphArtifact({ name: 'g', files, rootDirectory: dir, env: ENV, log, client });
    expect(out.status).toBe('failed');
    expect(log.lines).toEqual([
      {
        level: 'warn',
        text: `Artifact "g" was not uploaded (Failed to CreateArtifact: Received non-retryable error: (403) Forbidden); graph.json, summary.md stay in ${dir}.`,
      },
    ]);
    await access(files[0]!);
  });

  it('a file outside the root directory is the client refusing, reported the same way', async () => {
    const log = captureLog();
    const out = await uploadGraphArtifact({
      name: 'g',
      files: [join(tmpdir(), 'elsewhere.json')],
      rootDirectory: dir,
      env: ENV,
      log,
      client: fakeClient(),
    });
    expect(out.status).toBe('failed');
    expect(log.lines[0]!.text).toMatch(/is not a parent directory/);
  });

  it('the URL follows GitHub Enterprise Server and is absent outside a run', () => {
    expect(artifactUrl({ ...ENV, GITHUB_SERVER_URL: 'https://ghe.example.com/' }, 7)).toBe(
      'https://ghe.example.com/acme-org/platform/actions/runs/123456789/artifacts/7',
    );
    expect(artifactUrl({}, 7)).toBeUndefined();
  });

  it('inputs: default name, retention checked, names the service refuses are refused up front', () => {
    const inputs = (values: Record<string, string>) => parseArtifactInputs((n) => values[n] ?? '');
    expect(inputs({})).toEqual({ name: 'devgraph-graph', problems: [] });
    expect(inputs({ 'artifact-name': 'inv', 'artifact-retention-days': '30' })).toEqual({
      name: 'inv',
      retentionDays: 30,
      problems: [],
    });
    expect(inputs({ 'artifact-retention-days': '0' }).problems).toEqual([
      'inputs.artifact-retention-days: must be a whole number of days from 1 to 90, got "0"; leave it unset for the repository\'s default',
    ]);
    expect(inputs({ 'artifact-name': 'graph/main' }).problems[0]).toMatch(
      /^inputs.artifact-name: must not contain "\/"/,
    );
  });
});
