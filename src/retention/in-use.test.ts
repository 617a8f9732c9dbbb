import { describe, expect, it } from 'vitest';
import {
  inUseDigests,
  inUseReasons,
  MAX_DEVGRAPH_REASONS,
  MAX_PROBLEMS,
  parseInUse,
  parseReference,
  registryHost,
} from './in-use.js';
import type { InventoryManifest, RepositoryInventory } from './inventory.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const CONFIG = `sha256:${'c'.repeat(64)}`;
const S512 = `sha512:${'a'.repeat(128)}`;

describe('parseReference', () => {
  it.each<[string, object]>([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['bitnami/redis:7.2', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7.2' }],
    ['docker.io/library/nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['docker.io/nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['index.docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx', tag: 'latest' }],
    ['registry-1.docker.io/org/app:v1', { registry: 'docker.io', repository: 'org/app', tag: 'v1' }],
    ['ghcr.io/org/app:main-abc123', { registry: 'ghcr.io', repository: 'org/app', tag: 'main-abc123' }],
    ['GHCR.io/org/app:v1', { registry: 'ghcr.io', repository: 'org/app', tag: 'v1' }],
    ['localhost/app:dev', { registry: 'localhost', repository: 'app', tag: 'dev' }],
    ['localhost:5000/team/app:1.0', { registry: 'localhost:5000', repository: 'team/app', tag: '1.0' }],
    [
      'registry.example.com:5000/a/b/c',
      { registry: 'registry.example.com:5000', repository: 'a/b/c', tag: 'latest' },
    ],
    ['[::1]:5000/app:x', { registry: '[::1]:5000', repository: 'app', tag: 'x' }],
    [`ghcr.io/org/app@${D1}`, { registry: 'ghcr.io', repository: 'org/app', digest: D1 }],
    [`ghcr.io/org/app:v1@${D1}`, { registry: 'ghcr.io', repository: 'org/app', digest: D1 }],
    [`nginx@${S512}`, { registry: 'docker.io', repository: 'library/nginx', digest: S512 }],
    [D2, { registry: '', repository: '', digest: D2 }],
    [
      'my_org/my__app/a-b--c.d:T_1.x-y',
      { registry: 'docker.io', repository: 'my_org/my__app/a-b--c.d', tag: 'T_1.x-y' },
    ],
  ])('%s', (token, expected) => {
    expect(parseReference(token)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['nginx:', '":" is not a tag'],
    ['nginx:-x', '":-x" is not a tag'],
    [`nginx:${'t'.repeat(129)}`, 'is not a tag'],
    ['nginx@sha256:abc', '"@sha256:abc" is not a digest; write @sha256: and 64 lowercase hex digits'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'is not a digest'],
    [`nginx@md5:${'a'.repeat(32)}`, 'is not a digest'],
    ['Nginx:1', 'not an image reference'],
    ['org//app', 'not an image reference'],
    ['image:', '":" is not a tag'],
    ['-app', 'not an image reference'],
    ['ghcr.io/', 'not an image reference'],
    ['bad_host.example.com/app', 'is not a registry host'],
    ['"nginx:1.25"', 'is not a tag'],
    ['x'.repeat(1001), 'longer than 1000 characters'],
  ])('%s is refused: %s', (token, problem) => {
    const ref = parseReference(token);
    expect(ref).toHaveProperty('problem');
    expect((ref as { problem: string }).problem).toContain(problem);
  });
});

describe('parseInUse', () => {
  it('reads what kubectl prints on one line, separated by spaces, and a file with one reference a line', () => {
    const kubectl = `nginx:1.25 ghcr.io/org/api:v2 ghcr.io/org/api@${D1} docker.io/library/nginx:1.25`;
    const file = [
      '# running in prod',
      'ghcr.io/org/web:v3',
      '',
      `  ${D2}  # an image ID`,
      'ghcr.io/org/api:v2',
    ].join('\n');
    const a = parseInUse(kubectl);
    expect([...a.digests]).toEqual([D1]);
    // The same image written two ways is one entry.
    expect(a.tags).toEqual([
      { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' },
      { registry: 'ghcr.io', repository: 'org/api', tag: 'v2' },
    ]);
    expect(a.problems).toEqual([]);
    const b = parseInUse(file);
    expect([...b.digests]).toEqual([D2]);
    expect(b.tags.map((t) => `${t.registry}/${t.repository}:${t.tag}`)).toEqual([
      'ghcr.io/org/web:v3',
      'ghcr.io/org/api:v2',
    ]);
  });

  it('reports bad references with their line and goes on', () => {
    const r = parseInUse(
      ['nginx:1', 'image: ghcr.io/org/app:v1', `app@sha256:beef ghcr.io/org/ok@${D3}`].join('\r\n'),
    );
    expect(r.tags.map((t) => t.repository)).toEqual(['library/nginx', 'org/app']);
    expect([...r.digests]).toEqual([D3]);
    expect(r.problems).toEqual([
      { line: 2, text: 'image:', problem: expect.stringContaining('is not a tag') },
      { line: 3, text: 'app@sha256:beef', problem: expect.stringContaining('is not a digest') },
    ]);
    expect(r.problemCount).toBe(2);
  });

  it(`keeps the first ${MAX_PROBLEMS} problems and counts the rest; long text is cut short`, () => {
    const r = parseInUse(`${'Bad '.repeat(120)}\n${'y'.repeat(5000)}`);
    expect(r.problems).toHaveLength(MAX_PROBLEMS);
    expect(r.problemCount).toBe(121);
    const long = parseInUse('x'.repeat(5000)).problems[0]!;
    expect(long.text).toBe(`${'x'.repeat(100)}…`);
  });

  it('reads an empty file as nothing in use', () => {
    expect(parseInUse('\n  \n# nothing\n')).toEqual({
      digests: new Set(),
      tags: [],
      problems: [],
      problemCount: 0,
    });
  });
});

describe('registryHost', () => {
  it.each([
    ['https://registry-1.docker.io', 'docker.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['http://localhost:5000', 'localhost:5000'],
    ['https://example.jfrog.io/artifactory/api/docker/docker-local', 'example.jfrog.io'],
    ['Registry.Example.com:443/path', 'registry.example.com:443'],
    ['index.docker.io', 'docker.io'],
  ])('%s → %s', (registry, host) => {
    expect(registryHost(registry)).toBe(host);
  });
});

describe('inUseDigests', () => {
  const manifest = (digest: string, blobs: string[] = []): InventoryManifest => ({
    digest,
    role: 'image',
    size: 500,
    blobs: blobs.map((b) => ({ digest: b, size: 10 })),
    children: [],
    subjects: [],
  });
  const inventory = (registry: string, repository: string): RepositoryInventory => ({
    provider: 'p',
    registry,
    repository,
    complete: true,
    partial: false,
    tags: [
      { tag: 'v1', digest: D1 },
      { tag: 'latest', digest: D1 },
      { tag: 'v2', digest: D2 },
    ],
    manifests: new Map([
      [D1, manifest(D1)],
      [D2, manifest(D2, [CONFIG, `sha256:${'e'.repeat(64)}`])],
    ]),
    untagged: [manifest(D3)],
  });

  it('resolves tags of references to this repository on this registry', () => {
    const inUse = parseInUse(
      'ghcr.io/org/app:v1 ghcr.io/org/other:v2 quay.io/org/app:v2 ghcr.io/org/app:gone',
    );
    expect([...inUseDigests(inUse, inventory('https://ghcr.io', 'org/app'))]).toEqual([D1]);
  });

  it("matches Docker Hub's official images and host aliases", () => {
    const inUse = parseInUse('nginx index.docker.io/library/nginx:v2');
    expect(
      [...inUseDigests(inUse, inventory('https://registry-1.docker.io', 'library/nginx'))].sort(),
    ).toEqual([D1, D2]);
  });

  it('matches a repository served under a path prefix', () => {
    const inUse = parseInUse('example.jfrog.io/docker-local/app:v2');
    const inv = inventory('https://example.jfrog.io/artifactory/api/docker/docker-local', 'app');
    expect([...inUseDigests(inUse, inv)]).toEqual([D2]);
  });

  it('keeps every digest named, in whichever repository; a bare config digest names its image', () => {
    const inUse = parseInUse(`quay.io/elsewhere/x@${D3} ${CONFIG}`);
    expect([...inUseDigests(inUse, inventory('https://ghcr.io', 'org/app'))].sort()).toEqual([
      D2,
      D3,
      CONFIG,
    ]);
  });
});

describe('inUseReasons', () => {
  const inventory = (provider: string): RepositoryInventory => ({
    provider,
    registry: 'https://ghcr.io',
    repository: 'org/app',
    complete: true,
    partial: false,
    tags: [{ tag: 'v1', digest: D1 }],
    manifests: new Map(),
  });
  const devgraph = {
    uses: new Map([
      [
        'ghcr',
        new Map([
          [D1, ['Deployment/web USES it']],
          [D2, ['Pod/a USES it', 'Pod/b USES it', 'Pod/c USES it', 'Pod/d USES it', 'Pod/e USES it']],
        ]),
      ],
      ['quay', new Map([[D3, ['Deployment/other USES it']]])],
    ]),
  };

  it("gives the in-use file's and Devgraph's reasons, each digest once, for the repository's provider only", () => {
    const inUse = parseInUse('ghcr.io/org/app:v1');
    expect(inUseReasons(inUse, devgraph, inventory('ghcr'))).toEqual(
      new Map([
        [D1, ['in use: named by the in-use input', 'in use in Devgraph: Deployment/web USES it']],
        [
          D2,
          [
            'in use in Devgraph: Pod/a USES it',
            'in use in Devgraph: Pod/b USES it',
            'in use in Devgraph: Pod/c USES it',
            `in use in Devgraph: and ${5 - MAX_DEVGRAPH_REASONS} more entities point at it`,
          ],
        ],
      ]),
    );
    expect([...inUseReasons(undefined, devgraph, inventory('quay')).keys()]).toEqual([D3]);
  });

  it('protects nothing of its own when Devgraph could not be read (the planner withholds the plan)', () => {
    expect(inUseReasons(undefined, { unreadable: 'HTTP 500' }, inventory('ghcr'))).toEqual(new Map());
    expect(inUseReasons(undefined, undefined, inventory('ghcr'))).toEqual(new Map());
  });
});
