// Expected texts and digests were produced by CPython 3 with
// `json.dumps({"spec": {k: v for k, v in spec.items() if v is not None}, "labels": labels}, sort_keys=True)`.
import { describe, expect, it } from 'vitest';
import { fingerprint, pythonJsonDumps } from './fingerprint.js';

describe('fingerprint', () => {
  it('matches Python for a Docker repository spec, dropping top-level nulls', () => {
    const spec = {
      name: 'nginx',
      full_name: 'library/nginx',
      namespace: 'library',
      description: null,
      official: true,
      star_count: 20000,
      registry_url: 'https://registry-1.docker.io',
    };
    const labels = {
      'devgraph.ai/provider': 'docker',
      'devgraph.ai/registry-type': 'docker-hub',
      'devgraph.ai/repository-name': 'library/nginx',
    };
    expect(pythonJsonDumps({ spec: { ...spec, description: undefined }, labels })).toBe(
      '{"labels": {"devgraph.ai/provider": "docker", "devgraph.ai/registry-type": "docker-hub", "devgraph.ai/repository-name": "library/nginx"}, "spec": {"full_name": "library/nginx", "name": "nginx", "namespace": "library", "official": true, "registry_url": "https://registry-1.docker.io", "star_count": 20000}}',
    );
    expect(fingerprint(spec, labels)).toBe(
      '33603072579cf6fbc4903a5177719c31c10778e26a88baefc14de7999e503ed5',
    );
  });

  it('escapes like ensure_ascii and sorts keys by code point, nested nulls kept', () => {
    const spec = { b: [1, 'é😀', { y: null, x: false }], a: true, n: 'x"\\\n\r\t\b\f\u0001\u007f/<>&' };
    const labels = { z: '1', a: 'ü', '\ue000': 'p', '😀': 'q' };
    expect(pythonJsonDumps({ spec, labels })).toBe(
      '{"labels": {"a": "\\u00fc", "z": "1", "\\ue000": "p", "\\ud83d\\ude00": "q"}, "spec": {"a": true, "b": [1, "\\u00e9\\ud83d\\ude00", {"x": false, "y": null}], "n": "x\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u007f/<>&"}}',
    );
    expect(fingerprint(spec, labels)).toBe(
      '497dc666d03d7dede09ae28d96285b18143fea66c83c651cda5e96ff196d55fd',
    );
  });

  it('matches Python for empty spec and labels', () => {
    expect(fingerprint({}, {})).toBe('aef8104f136ef01cf32949fbd38dd159ef1363a60968bced7fafe4aff6153ac6');
  });

  it('does not depend on key order', () => {
    expect(fingerprint({ a: 1, b: 2 }, { x: 'y' })).toBe(fingerprint({ b: 2, a: 1 }, { x: 'y' }));
  });
});
