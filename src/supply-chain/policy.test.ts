import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import type { Requirements } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import type { GraphSource } from '../graph/graph-source.js';
import { API_VERSION, DISCOVERY_SOURCE, type Entity, GRAPH_FORMAT, type Graph } from '../model/graph.js';
import { Secrets } from '../secrets.js';
import { evaluatePolicy, hasPolicy, imageViolations } from './policy.js';

const D = `sha256:${'ab'.repeat(32)}`;

function image(
  provider: string,
  repository: string,
  tag: string,
  spec: Record<string, unknown> = {},
): Entity {
  return {
    apiVersion: API_VERSION,
    kind: 'DockerImage',
    metadata: {
      name: `${repository}-${tag}`.replace(/\W/g, '-'),
      namespace: 'default',
      labels: {},
      annotations: { [DISCOVERY_SOURCE]: provider },
    },
    spec: { repository, tag, digest: D, ...spec },
  };
}

function graph(entities: Entity[]): Graph {
  return {
    format: GRAPH_FORMAT,
    generated_at: '2026-01-01T00:00:00Z',
    entities,
    relations: [],
    receipts: [],
  };
}

function settings(yaml: string) {
  return loadConfig(yaml, { env: {}, secrets: new Secrets(), origin: 'test' });
}

function configProblems(yaml: string): string[] {
  try {
    settings(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const provider = (selectors: string) => `providers:
  - name: hub
    type: docker
    config:
      registry_type: private
      api_url: https://registry.example.com
      selectors:
${selectors}`;

describe('imageViolations', () => {
  const trusted = { signed: true, sbom: true, provenance: true, verified: true };
  it.each<[string, Requirements, Record<string, unknown>, Array<[string, RegExp]>]>([
    ['all met', { signed: true, verified: true, sbom: true, provenance: true }, trusted, []],
    ['unsigned', { signed: true }, { signed: false }, [['signed', /^no signature refers/]]],
    ['signed not looked for', { signed: true }, {}, [['signed', /^could not be checked/]]],
    ['no SBOM', { sbom: true }, { sbom: false }, [['sbom', /^no SBOM/]]],
    ['no provenance', { provenance: true }, { provenance: false }, [['provenance', /^no provenance/]]],
    [
      'signed, not verified',
      { verified: true },
      { signed: true, verified: false },
      [['verified', /verify key/]],
    ],
    ['verified unknown', { verified: true }, { signed: true }, [['verified', /^could not be checked/]]],
    [
      'every rule broken, in rule order',
      { signed: true, sbom: true, provenance: true, platforms: ['linux/s390x'], maxCritical: 0 },
      {
        signed: false,
        sbom: false,
        provenance: false,
        platforms: ['linux/amd64'],
        vulnerabilities: { total: 1, critical: 1 },
      },
      [
        ['signed', /./],
        ['sbom', /./],
        ['provenance', /./],
        ['platforms', /^lacks linux\/s390x \(has linux\/amd64\)$/],
        [
          'max_critical',
          /^1 critical vulnerabilities, over the 0 allowed \(counts from the registry's scanner\)$/,
        ],
      ],
    ],
    [
      'platforms met, variant implied',
      { platforms: ['linux/amd64', 'linux/arm64'] },
      { platforms: ['linux/amd64', 'linux/arm64/v8'] },
      [],
    ],
    [
      'a required variant is exact',
      { platforms: ['linux/arm/v7'] },
      { platforms: ['linux/arm/v6'] },
      [['platforms', /^lacks linux\/arm\/v7/]],
    ],
    ['platforms unknown', { platforms: ['linux/amd64'] }, {}, [['platforms', /^could not be checked/]]],
    [
      'no platforms at all',
      { platforms: ['linux/amd64'] },
      { platforms: [] },
      [['platforms', /\(has none\)$/]],
    ],
    ['critical within the limit', { maxCritical: 2 }, { vulnerabilities: { total: 5, critical: 2 } }, []],
    ['a clean scan leaves critical out', { maxCritical: 0 }, { vulnerabilities: { total: 0 } }, []],
    [
      'counts from an attestation say so',
      { maxCritical: 0 },
      { vulnerabilities: { total: 3, critical: 3, source: 'cosign vuln attestation' } },
      [['max_critical', /\(counts from cosign vuln attestation\)$/]],
    ],
    ['no counts', { maxCritical: 5 }, {}, [['max_critical', /^no vulnerability counts/]]],
  ])('%s', (_name, require, spec, expected) => {
    const found = imageViolations(spec, require);
    expect(found.map((f) => f.rule)).toEqual(expected.map(([rule]) => rule));
    for (const [i, f] of found.entries()) expect(f.detail).toMatch(expected[i]![1]);
  });
});

describe('evaluatePolicy', () => {
  const s = settings(
    provider(`        - namespace_pattern: "^prod$"
          require: { signed: true, platforms: [linux/amd64] }
        - namespace_pattern: "^dev$"
`),
  );

  it('judges each image by the first selector matching its repository, per provider', () => {
    const report = evaluatePolicy(
      graph([
        image('hub', 'prod/api', '1.0', { signed: true, platforms: ['linux/amd64'] }),
        image('hub', 'prod/api', '1.1', { signed: false, platforms: ['linux/arm64'] }),
        image('hub', 'prod/web', '2.0', { platforms: ['linux/amd64'] }),
        image('hub', 'dev/api', 'x', { signed: false }),
        // Another provider of the same repository name is not this config's.
        image('other', 'prod/api', '1.0', { signed: false }),
      ]),
      s.providers,
    );
    expect(report).toEqual({
      checked: 3,
      failed: 2,
      violations: [
        {
          provider: 'hub',
          repository: 'prod/api',
          tag: '1.1',
          digest: D,
          rule: 'signed',
          detail: 'no signature refers to the image or to every platform manifest of it',
        },
        {
          provider: 'hub',
          repository: 'prod/api',
          tag: '1.1',
          digest: D,
          rule: 'platforms',
          detail: 'lacks linux/amd64 (has linux/arm64)',
        },
        {
          provider: 'hub',
          repository: 'prod/web',
          tag: '2.0',
          digest: D,
          rule: 'signed',
          detail:
            "could not be checked: what refers to the image could not all be read (the run's notes say why)",
        },
      ],
    });
  });

  it('is an empty list when every image passes, and undefined when no selector has require', () => {
    expect(evaluatePolicy(graph([]), s.providers)).toEqual({ checked: 0, failed: 0, violations: [] });
    const none = settings(provider('        - max_tags: 3\n'));
    expect(hasPolicy(none.providers)).toBe(false);
    expect(evaluatePolicy(graph([image('hub', 'prod/api', '1')]), none.providers)).toBeUndefined();
  });

  it('reads a graph source one image at a time', () => {
    const images = [image('hub', 'prod/a', '1', { signed: false, platforms: ['linux/amd64'] })];
    const asked: unknown[] = [];
    const source: GraphSource = {
      format: GRAPH_FORMAT,
      generated_at: '',
      receipts: [],
      count: () => images.length,
      *entities(kinds?: readonly Entity['kind'][]) {
        asked.push(kinds);
        yield* images;
      },
      relations: () => [],
      load: () => {
        throw new Error('the policy must not load the whole graph');
      },
      close: () => {},
    };
    expect(evaluatePolicy(source, s.providers)?.violations.map((v) => v.rule)).toEqual(['signed']);
    expect(asked).toEqual([['DockerImage']]);
  });
});

describe('require: in the config', () => {
  it('becomes Selector.require, false rules left out', () => {
    const s = settings(
      provider(`        - require:
            signed: true
            sbom: false
            provenance: true
            platforms: [linux/amd64, linux/arm64/v8]
            max_critical: 0
`),
    );
    expect(s.providers[0]!.selectors[0]!.require).toEqual({
      signed: true,
      provenance: true,
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      maxCritical: 0,
    });
  });

  it.each<[string, string]>([
    [
      '          require: { signd: true }\n',
      'providers[0].config.selectors[0].require.signd: unknown key; did you mean signed?',
    ],
    [
      '          require: { signed: "yes" }\n',
      'providers[0].config.selectors[0].require.signed: expected a boolean, got string "yes"; write true or false',
    ],
    [
      '          require: { platforms: [linux] }\n',
      'providers[0].config.selectors[0].require.platforms[0]: must be os/architecture[/variant] in lowercase, such as linux/amd64 or linux/arm64/v8',
    ],
    [
      '          require: { platforms: [] }\n',
      'providers[0].config.selectors[0].require.platforms: must name at least one platform, such as [linux/amd64]; or remove the key',
    ],
    [
      '          require: { max_critical: -1 }\n',
      'providers[0].config.selectors[0].require.max_critical: must be 0 (no critical vulnerability) or a positive whole number',
    ],
    [
      '          require: { max_critical: 1.5 }\n',
      'providers[0].config.selectors[0].require.max_critical: expected a whole number, got number 1.5; round it to a whole number',
    ],
    [
      '          require: {}\n',
      'providers[0].config.selectors[0].require: requires nothing; add signed, verified, sbom, provenance (true), platforms or max_critical, or remove require',
    ],
    [
      '          require: { verified: true }\n',
      'providers[0].config.selectors[0].require.verified: needs keys to verify with; add "verify:" (cosign public keys) to this provider\'s config, or require signed instead',
    ],
  ])('refuses %j naming the field', (selector, message) => {
    expect(configProblems(provider(`        - namespace_pattern: ".*"\n${selector}`))).toEqual([message]);
  });
});
