import { describe, expect, it } from 'vitest';
import { InUseCollector } from './in-use-reader.js';
import type { ServerEntity, ServerRelation } from './wire.js';

const API = 'entities.devgraph.ai/v1';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

function entity(
  kind: string,
  name: string,
  owner?: string,
  digest?: string,
  namespace = 'default',
): ServerEntity {
  return {
    apiVersion: API,
    kind,
    metadata: { name, namespace },
    spec: digest ? { digest, repository: 'org/app' } : {},
    ...(owner ? { status: { discovery_source: owner } } : {}),
  };
}

function relation(
  source: ServerEntity,
  type: string,
  target: ServerEntity,
  omitNamespace = false,
): ServerRelation {
  const ref = (e: ServerEntity) => ({
    apiVersion: e.apiVersion,
    kind: e.kind,
    name: e.metadata.name,
    ...(omitNamespace ? {} : { namespace: e.metadata.namespace }),
  });
  return { relation: type, source: ref(source), target: ref(target) };
}

const image = entity('DockerImage', 'org-app-v1', 'ghcr', D1);
const manifest = entity('DockerManifest', 'org-app-manifest-2222', 'ghcr', D2);
const web = entity('Deployment', 'web', 'k8s', undefined, 'prod');

const collect = (providers: string[], ...pages: Array<[ServerEntity[], ServerRelation[]]>) => {
  const c = new InUseCollector(new Set(providers));
  for (const [entities, relations] of pages) c.addPage({ entities, relations });
  return c.finish();
};

describe('InUseCollector: relations → protected digests', () => {
  it("maps a foreign entity's relation to the digest in the target's spec, per provider", () => {
    const found = collect(['ghcr'], [[image, manifest, web], [relation(web, 'USES', image)]]);
    expect(found).toEqual(new Map([['ghcr', new Map([[D1, ['Deployment/web USES it']]])]]));
  });

  it('joins a relation and its target listed on different pages, and counts a relation listed twice once', () => {
    const rel = relation(web, 'USES', image);
    const found = collect(['ghcr'], [[web], [rel]], [[image], [rel]]);
    expect(found.get('ghcr')?.get(D1)).toEqual(['Deployment/web USES it']);
  });

  it("leaves out the run's own relations: an image USES its manifest, a manifest REFERS_TO another", () => {
    const sig = entity('DockerManifest', 'org-app-manifest-3333', 'ghcr', D3);
    const found = collect(
      ['ghcr'],
      [
        [image, manifest, sig],
        [relation(image, 'USES', manifest), relation(sig, 'REFERS_TO', manifest)],
      ],
    );
    expect(found).toEqual(new Map());
  });

  it('decides a relation whose source is listed on a later page once the listing is in', () => {
    const own = relation(image, 'USES', manifest);
    expect(collect(['ghcr'], [[manifest], [own]], [[image], []])).toEqual(new Map());
  });

  it('counts a Docker source of another provider, or one the listing lacks, as foreign (protecting more is the safe mistake)', () => {
    const mirror = entity('DockerImage', 'mirror-app-v1', 'other-docker', D3);
    const gone = entity('DockerImage', 'org-app-old');
    const found = collect(
      ['ghcr'],
      [
        [image, manifest, mirror],
        [relation(mirror, 'USES', manifest), relation(gone, 'USES', manifest)],
      ],
    );
    expect(found.get('ghcr')?.get(D2)).toEqual([
      'DockerImage/mirror-app-v1 USES it',
      'DockerImage/org-app-old USES it',
    ]);
  });

  it('protects only targets this run discovered with a digest in their spec', () => {
    const foreignImage = entity('DockerImage', 'someone-else', 'hosted-docker', D1);
    const noDigest = entity('DockerImage', 'org-app-v2', 'ghcr');
    const badDigest = entity('DockerImage', 'org-app-v3', 'ghcr', 'sha256:short');
    const repository = entity('DockerRepository', 'org-app', 'ghcr', D1);
    const found = collect(
      ['ghcr'],
      [
        [foreignImage, noDigest, badDigest, repository, web],
        [
          relation(web, 'USES', foreignImage),
          relation(web, 'USES', noDigest),
          relation(web, 'USES', badDigest),
          relation(web, 'DEPENDS_ON', repository),
          relation(web, 'USES', entity('DockerImage', 'not-listed')),
        ],
      ],
    );
    expect(found).toEqual(new Map());
  });

  it('reads a reference without a namespace as the default namespace, and names any relation type', () => {
    const job = entity('CronJob', 'nightly', 'k8s');
    const found = collect(['ghcr'], [[image, job], [relation(job, 'RUNS', image, true)]]);
    expect(found.get('ghcr')?.get(D1)).toEqual(['CronJob/nightly RUNS it']);
  });
});
