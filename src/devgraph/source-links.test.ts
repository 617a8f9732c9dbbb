import { describe, expect, it } from 'vitest';
import type { Entity, Graph } from '../model/graph.js';
import { githubRepositoryKey, sourceLinks } from './source-links.js';
import type { ServerEntity } from './wire.js';

describe('githubRepositoryKey', () => {
  it.each([
    ['https://github.com/acme/payments-api', 'acme/payments-api'],
    ['https://github.com/Acme/Payments-API/', 'acme/payments-api'],
    ['https://github.com/acme/payments-api.git', 'acme/payments-api'],
    ['git+https://github.com/acme/payments-api.git', 'acme/payments-api'],
    ['git@github.com:acme/payments-api.git', 'acme/payments-api'],
    ['ssh://git@github.com/acme/payments-api', 'acme/payments-api'],
    ['github.com/acme/payments-api', 'acme/payments-api'],
    ['https://github.com/acme/payments-api/tree/main/docker', 'acme/payments-api'],
    ['https://www.github.com/acme/acme.github.io', 'acme/acme.github.io'],
  ])('%s → %s', (raw, key) => {
    expect(githubRepositoryKey(raw)).toBe(key);
  });

  it.each([
    'https://gitlab.com/acme/payments-api',
    'https://github.com.evil.example/acme/payments-api',
    'https://acme.github.io/site',
    'https://github.com/acme',
    'not a url at all',
    '',
  ])('%s is not a GitHub repository', (raw) => {
    expect(githubRepositoryKey(raw)).toBeUndefined();
  });
});

const repository = (name: string, source?: string): Entity =>
  ({
    apiVersion: 'entities.devgraph.ai/v1',
    kind: 'DockerRepository',
    metadata: {
      name,
      namespace: 'default',
      labels: {},
      annotations: { 'devgraph.ai/discovery-source': 'demo' },
    },
    spec: { name, full_name: `acme/${name}`, ...(source ? { source_repository: source } : {}) },
  }) as unknown as Entity;

const github = (name: string, url: string, namespace = 'github'): ServerEntity => ({
  apiVersion: 'entities.devgraph.ai/v1',
  kind: 'GithubRepository',
  metadata: { name, namespace },
  spec: { url },
  status: { discovery_source: 'github' },
});

describe('sourceLinks', () => {
  const graph = {
    entities: [
      repository('acme-api', 'https://github.com/acme/api'),
      repository('acme-worker', 'https://github.com/acme/worker.git'),
      repository('no-label'),
    ],
  } as unknown as Graph;

  it('links exactly equal repositories, from any provider, never by substring', () => {
    const links = sourceLinks(graph, [
      github('api-gateway', 'https://github.com/acme/api-gateway'),
      github('api', 'https://github.com/acme/api'),
      github('worker', 'https://github.com/ACME/worker'),
    ]);
    expect(links.map((l) => `${l.source.name} ${l.relation} ${l.target.name} (${l.namespace})`)).toEqual([
      'acme-api BUILT_FROM api (default)',
      'api BUILDS acme-api (github)',
      'acme-worker BUILT_FROM worker (default)',
      'worker BUILDS acme-worker (github)',
    ]);
    expect(links[0]!.metadata.labels).toEqual({ 'managed-by': 'provider:demo', 'source-type': 'discovered' });
    expect(links[0]!.target).toEqual({
      apiVersion: 'entities.devgraph.ai/v1',
      kind: 'GithubRepository',
      name: 'api',
      namespace: 'github',
    });
  });

  it('emits nothing when the server holds no matching GithubRepository', () => {
    expect(sourceLinks(graph, [github('other', 'https://github.com/acme/other')])).toEqual([]);
    expect(sourceLinks(graph, [])).toEqual([]);
  });
});
