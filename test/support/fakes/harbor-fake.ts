// A fake Harbor 2.x: the REST API (/api/v2.0 projects, repositories, artifacts), the registry's
// token service (/service/token, service "harbor-registry") and /v2 behind bearer tokens, all on
// one origin like a real Harbor. What it imitates, from goharbor/harbor:
// - page/page_size paging (default 10, maximum 100; more is a 422 from go-swagger's validation),
//   `X-Total-Count` and a relative `Link` whose query Harbor unescapes;
// - repository names with `/` only matched when double-encoded (`a%252Fb`); single-encoded ones
//   split the path and find no route (404);
// - artifacts: indexes with `references` (children not listed as rows), images with `extra_attrs`
//   (config created/os/architecture/Labels, no variant), size = document + config + layers,
//   type UNKNOWN for a non-image config, tags with push times,
//   cosign signatures as accessories of their subject (not rows; Harbor 2.5+), and so every
//   manifest with a subject, typed as Harbor's subject middleware types them (signature.notation,
//   signature.cosign, sbom.harbor, else subject.accessory), scan_overview keyed
//   by the report MIME type the client accepts (`X-Accept-Vulnerabilities`);
// - errors `{"errors":[{"code","message"}]}`: 401 UNAUTHORIZED for anonymous or wrong Basic
//   credentials, 403 FORBIDDEN for an account without access to the project;
// - the catalog only for system administrators; partial token grants for other accounts;
// - artifacts without tags listed as rows with `tags: null` (an index's children are not rows);
//   DELETE /v2/<name>/manifests/<digest> for accounts that may delete (else 401 insufficient_scope
//   for the delete action), taking an index's children along unless a tag or another artifact
//   holds them, as Harbor's artifact controller deletes.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { type TagFact, tagFacts } from './content-facts.js';
import { basicCredentials, type RateLimit, refuseScripted, sendJson } from './fake-http.js';
import { referrerFacts } from './referrers.js';
import { type UntaggedFact, untaggedFacts } from './untagged-facts.js';

export type { RateLimit };

const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

export const HARBOR_REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';

/** When the fake says a referrer (pushed by digest, so no tag push time) was pushed. */
const REFERRER_PUSHED = '2024-11-08T00:00:00Z';

/**
 * The accessory type Harbor records for a manifest with a subject, from its artifactType (else
 * its config media type), as Harbor's subject middleware decides it.
 */
function accessoryType(artifactType: string): string {
  switch (artifactType) {
    case 'application/vnd.cncf.notary.signature':
      return 'signature.notation';
    case 'application/vnd.dev.cosign.artifact.sig.v1+json':
    case 'application/vnd.dev.sigstore.bundle.v0.3+json':
      return 'signature.cosign';
    case 'application/vnd.goharbor.harbor.sbom.v1':
      return 'sbom.harbor';
    default:
      return 'subject.accessory';
  }
}

export interface HarborAccount {
  password: string;
  /** Projects this account may read (pull, list); '*' for all. */
  projects: '*' | string[];
  sysadmin?: boolean;
  /** May delete artifacts (Harbor's Maintainer or Project Admin role, a robot with "Delete Artifact"). */
  deletes?: boolean;
}

export interface HarborScan {
  status: 'Success' | 'Running' | 'Error';
  critical?: number;
  high?: number;
  medium?: number;
  low?: number;
  unknown?: number;
  fixable?: number;
}

export interface HarborFakeOptions {
  repositories: RepositoryContent[];
  accounts: Record<string, HarborAccount>;
  publicProjects: string[];
  /** Scan results per manifest digest; other artifacts were never scanned. */
  scans?: Record<string, HarborScan>;
  /** Repositories with no artifacts, listed by the API only (to page through many). */
  emptyRepositories?: string[];
  /**
   * After this many registry requests made with tokens, every token issued so far expires (once):
   * requests in flight then meet 401s and must fetch a new token.
   */
  expireTokensAfter?: number;
  /**
   * The registry's manifest DELETE, as the demo registry answers it (unset: enabled, for the
   * accounts Harbor lets delete).
   */
  deletes?: 'enabled' | 'disabled' | 'denied';
}

export interface FakeRequest {
  method: string;
  path: string;
  status: number;
  kind: 'api' | 'token' | 'registry';
}

export interface HarborFake {
  url: string;
  host: string;
  registry: DemoRegistry;
  /** Every request, in order (API, token service and /v2, including those answered with 401/429). */
  requests: FakeRequest[];
  /** The next `times` requests whose path matches answer 429 (with Retry-After when given). */
  rateLimit(limit: RateLimit): void;
  close(): Promise<void>;
}

interface IssuedToken {
  account?: string;
  access: Set<string>;
  expired: boolean;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  sendJson(res, status, body, { 'Content-Type': 'application/json; charset=utf-8', ...headers });

function harborError(res: ServerResponse, status: number, code: string, message: string, headers = {}): void {
  json(res, status, { errors: [{ code, message }] }, headers);
}

export async function startHarborFake(opts: HarborFakeOptions): Promise<HarborFake> {
  const requests: FakeRequest[] = [];
  const limits: RateLimit[] = [];
  const tokens = new Map<string, IssuedToken>();
  const byName = new Map(opts.repositories.map((r) => [r.name, r]));
  const projectOf = (repo: string) => repo.split('/')[0]!;
  const allRepos = [...opts.repositories.map((r) => r.name), ...(opts.emptyRepositories ?? [])].sort();
  const projects = [...new Set(allRepos.map(projectOf))].sort();
  let origin = '';
  let served = 0;

  const canRead = (account: string | undefined, project: string): boolean => {
    if (opts.publicProjects.includes(project)) return true;
    const a = account ? opts.accounts[account] : undefined;
    return !!a && (a.projects === '*' || a.projects.includes(project));
  };

  const canDelete = (account: string | undefined, repo: string): boolean => {
    const a = account ? opts.accounts[account] : undefined;
    return (!!a?.deletes || !!a?.sysadmin) && canRead(account, projectOf(repo));
  };

  /** The digests an index lists (platform and attestation manifests); none for an image. */
  const childrenOf = (m: { bytes: Buffer }): string[] =>
    ((JSON.parse(m.bytes.toString('utf8')) as { manifests?: Array<{ digest: string }> }).manifests ?? []).map(
      (d) => d.digest,
    );

  /**
   * What a delete of `digest` leaves, as Harbor's artifact controller deletes: the artifact with
   * its tags, then each child of an index that no tag and no other artifact still holds.
   */
  const forget = (repo: string, digest: string): void => {
    const c = byName.get(repo);
    const gone = c?.manifests.find((m) => m.digest === digest);
    if (!c || !gone) return;
    byName.set(repo, {
      ...c,
      manifests: c.manifests.filter((m) => m !== gone),
      tags: Object.fromEntries(Object.entries(c.tags).filter(([, d]) => d !== digest)),
    });
    for (const child of childrenOf(gone)) {
      const now = byName.get(repo)!;
      const held =
        Object.values(now.tags).includes(child) || now.manifests.some((m) => childrenOf(m).includes(child));
      if (held) continue;
      registry.removeManifest(repo, child);
      forget(repo, child);
    }
  };

  /** undefined: anonymous; null: wrong credentials; else the account name. */
  const authenticate = (req: IncomingMessage): string | undefined | null => {
    const creds = basicCredentials(req.headers.authorization);
    if (!creds) return undefined;
    const a = opts.accounts[creds.user];
    return a && a.password === creds.secret ? creds.user : null;
  };

  const record = (req: IncomingMessage, status: number, kind: FakeRequest['kind']): undefined => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', status, kind });
  };

  function paging(url: URL, res: ServerResponse): { page: number; size: number } | undefined {
    const page = Number(url.searchParams.get('page') ?? '1');
    const size = Number(url.searchParams.get('page_size') ?? '10');
    if (size > 100) {
      harborError(
        res,
        422,
        'UNPROCESSABLE_ENTITY',
        'validation failure list:\npage_size in query should be less than or equal to 100',
      );
      return undefined;
    }
    return { page, size };
  }

  function sendPage(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    all: unknown[],
    page: number,
    size: number,
  ): undefined {
    const items = all.slice((page - 1) * size, page * size);
    const headers: Record<string, string> = { 'X-Total-Count': String(all.length) };
    if (page * size < all.length) {
      const q = new URLSearchParams(url.searchParams);
      q.set('page', String(page + 1));
      q.set('page_size', String(size));
      // Harbor unescapes the query it puts in Link (handler/base.go Links).
      headers.Link = `<${url.pathname}?${decodeURIComponent(q.toString())}>; rel="next"`;
    }
    json(res, 200, items, headers);
    record(req, 200, 'api');
  }

  function artifactsOf(
    repo: string,
    withTag: boolean,
    withScan: boolean,
    withAccessory: boolean,
    accept: string,
  ) {
    const content = byName.get(repo);
    if (!content) return [];
    const facts = tagFacts(content);
    const referrers = referrerFacts(content);
    const sigs = facts.filter((f) => /^sha256-[a-f0-9]{64}\.sig$/.test(f.tag));
    const subjectOf = (tag: string) => tag.slice(0, -'.sig'.length).replace('-', ':');
    const byDigest = new Map<string, { fact: UntaggedFact; tags: TagFact[] }>();
    for (const f of facts) {
      // A signature whose subject is here is that subject's accessory, not an artifact row.
      if (sigs.includes(f) && facts.some((o) => o.digest === subjectOf(f.tag))) continue;
      const row = byDigest.get(f.digest) ?? { fact: f, tags: [] };
      row.tags.push(f);
      byDigest.set(f.digest, row);
    }
    // Artifacts without a tag are rows too (an index's children are not).
    for (const f of untaggedFacts(content)) byDigest.set(f.digest, { fact: f, tags: [] });
    const harborTime = (iso: string) => iso.replace('Z', '.000Z').replace('.000.000Z', '.000Z');
    return [...byDigest.entries()]
      .map(([digest, { fact: f, tags }], id) => {
        const scan = opts.scans?.[digest];
        const accessory = (
          n: number,
          a: { size: number; digest: string; type: string; pushedAt: string },
        ) => ({
          artifact_id: 1000 + id * 10 + n,
          subject_artifact_id: id + 1,
          subject_artifact_digest: digest,
          subject_artifact_repo: repo.slice(repo.indexOf('/') + 1),
          size: a.size,
          digest: a.digest,
          type: a.type,
          icon: '',
          creation_time: harborTime(a.pushedAt),
        });
        const accessories = [
          ...sigs
            .filter((s) => s.tag === `${digest.replace(':', '-')}.sig`)
            .map((s) => ({ ...s, type: 'signature.cosign' })),
          ...referrers
            .filter((r) => r.subject === digest)
            .map((r) => ({ ...r, type: accessoryType(r.artifactType), pushedAt: REFERRER_PUSHED })),
        ].map((a, n) => accessory(n, a));
        const single = f.isIndex ? undefined : f.platforms[0]!;
        const isImage = !single || IMAGE_CONFIG_TYPES.has(single.configMediaType);
        return {
          id: id + 1,
          type: isImage ? 'IMAGE' : 'UNKNOWN',
          media_type: single?.configMediaType ?? 'application/vnd.oci.image.config.v1+json',
          manifest_media_type: f.mediaType,
          project_id: 1,
          repository_id: 1,
          repository_name: repo,
          digest,
          // Harbor counts the manifest document with the config and layers.
          size: single ? single.documentSize + single.size : f.size,
          push_time: harborTime(f.pushedAt),
          pull_time: '0001-01-01T00:00:00.000Z',
          // An image's config facts as Harbor's image processor keeps them: no variant, and Go's
          // zero time for a config without `created`.
          extra_attrs:
            single && isImage
              ? {
                  created: single.created ?? '0001-01-01T00:00:00Z',
                  os: single.os,
                  architecture: single.architecture,
                  author: '',
                  config: { Labels: Object.keys(single.labels).length ? single.labels : null },
                }
              : {},
          // Every manifest the index lists, attestation manifests (unknown/unknown) included.
          references: f.isIndex
            ? [
                ...f.platforms.map((pl) => ({
                  os: pl.os,
                  architecture: pl.architecture,
                  ...(pl.variant ? { variant: pl.variant } : {}),
                  digest: pl.digest,
                })),
                ...f.attestations.map((digest) => ({ os: 'unknown', architecture: 'unknown', digest })),
              ].map(({ digest, ...platform }) => ({ parent_id: id + 1, child_digest: digest, platform }))
            : null,
          ...(withTag
            ? {
                // Go's nil slice: an artifact without tags says null, not [].
                tags:
                  tags.length === 0
                    ? null
                    : tags.map((t, i) => ({
                        id: id * 100 + i,
                        artifact_id: id + 1,
                        repository_id: 1,
                        name: t.tag,
                        push_time: harborTime(t.pushedAt),
                        pull_time: '0001-01-01T00:00:00.000Z',
                        immutable: false,
                      })),
              }
            : {}),
          ...(withAccessory ? { accessories: accessories.length ? accessories : null } : {}),
          ...(withScan && scan && accept.includes(HARBOR_REPORT_MIME)
            ? {
                scan_overview: {
                  [HARBOR_REPORT_MIME]: {
                    report_id: `report-${id}`,
                    scan_status: scan.status,
                    severity: scan.critical ? 'Critical' : scan.high ? 'High' : 'Low',
                    duration: 3,
                    ...(scan.status === 'Success'
                      ? {
                          summary: {
                            total:
                              (scan.critical ?? 0) +
                              (scan.high ?? 0) +
                              (scan.medium ?? 0) +
                              (scan.low ?? 0) +
                              (scan.unknown ?? 0),
                            fixable: scan.fixable ?? 0,
                            summary: {
                              ...(scan.critical !== undefined ? { Critical: scan.critical } : {}),
                              ...(scan.high !== undefined ? { High: scan.high } : {}),
                              ...(scan.medium !== undefined ? { Medium: scan.medium } : {}),
                              ...(scan.low !== undefined ? { Low: scan.low } : {}),
                              ...(scan.unknown !== undefined ? { Unknown: scan.unknown } : {}),
                            },
                          },
                        }
                      : {}),
                    start_time: '2024-11-07T10:00:00.000Z',
                    end_time: '2024-11-07T10:00:03.000Z',
                    complete_percent: scan.status === 'Success' ? 100 : 50,
                    scanner: { name: 'Trivy', vendor: 'Aqua Security', version: 'v0.56.2' },
                  },
                },
              }
            : {}),
        };
      })
      .sort((a, b) => (a.push_time < b.push_time ? 1 : a.push_time > b.push_time ? -1 : 0));
  }

  function api(req: IncomingMessage, res: ServerResponse): undefined {
    const url = new URL(req.url ?? '/', 'http://harbor.invalid');
    const account = authenticate(req);
    if (account === null) {
      harborError(res, 401, 'UNAUTHORIZED', 'unauthorized');
      return record(req, 401, 'api');
    }
    // Harbor's router decodes the path once before matching: a single-encoded %2F becomes a separator.
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      harborError(res, 400, 'BAD_REQUEST', 'invalid path');
      return record(req, 400, 'api');
    }
    const denied = (): undefined => {
      if (account === undefined) harborError(res, 401, 'UNAUTHORIZED', 'unauthorized');
      else harborError(res, 403, 'FORBIDDEN', 'forbidden');
      record(req, account === undefined ? 401 : 403, 'api');
    };
    if (path === '/api/v2.0/projects') {
      const pg = paging(url, res);
      if (!pg) return record(req, 422, 'api');
      const visible = projects
        .filter((p) => canRead(account, p))
        .map((name, i) => ({
          project_id: i + 1,
          name,
          metadata: { public: String(opts.publicProjects.includes(name)) },
          creation_time: '2024-01-01T00:00:00.000Z',
          update_time: '2024-01-01T00:00:00.000Z',
        }));
      return sendPage(req, res, url, visible, pg.page, pg.size);
    }
    const repos = /^\/api\/v2\.0\/projects\/([^/]+)\/repositories$/.exec(path);
    if (repos) {
      const project = repos[1]!;
      if (!canRead(account, project)) return denied();
      const pg = paging(url, res);
      if (!pg) return record(req, 422, 'api');
      const list = allRepos
        .filter((r) => projectOf(r) === project)
        .map((name, i) => {
          const facts = byName.has(name) ? tagFacts(byName.get(name)!) : [];
          const newest =
            facts
              .map((f) => f.pushedAt)
              .sort()
              .pop() ?? '2024-01-01T00:00:00Z';
          return {
            id: i + 1,
            project_id: projects.indexOf(project) + 1,
            name,
            description: name === 'library/nginx' ? 'Official build of Nginx.' : '',
            artifact_count:
              new Set(facts.map((f) => f.digest)).size +
              (byName.has(name) ? untaggedFacts(byName.get(name)!).length : 0),
            pull_count: name.length * 7,
            creation_time: '2024-01-01T00:00:00.000Z',
            update_time: newest.replace('Z', '.000Z'),
          };
        });
      return sendPage(req, res, url, list, pg.page, pg.size);
    }
    const arts = /^\/api\/v2\.0\/projects\/([^/]+)\/repositories\/([^/]+)\/artifacts$/.exec(path);
    if (arts) {
      const project = arts[1]!;
      const repo = `${project}/${decodeURIComponent(arts[2]!)}`;
      if (!canRead(account, project)) return denied();
      if (!allRepos.includes(repo)) {
        harborError(res, 404, 'NOT_FOUND', `repository ${repo} not found`);
        return record(req, 404, 'api');
      }
      const pg = paging(url, res);
      if (!pg) return record(req, 422, 'api');
      const list = artifactsOf(
        repo,
        url.searchParams.get('with_tag') !== 'false',
        url.searchParams.get('with_scan_overview') === 'true',
        url.searchParams.get('with_accessory') === 'true',
        String(req.headers['x-accept-vulnerabilities'] ?? ''),
      );
      return sendPage(req, res, url, list, pg.page, pg.size);
    }
    harborError(res, 404, 'NOT_FOUND', `the requested resource ${url.pathname} was not found`);
    record(req, 404, 'api');
  }

  function tokenService(req: IncomingMessage, res: ServerResponse): undefined {
    const url = new URL(req.url ?? '/', 'http://harbor.invalid');
    const account = authenticate(req);
    if (account === null) {
      harborError(res, 401, 'UNAUTHORIZED', 'invalid credentials');
      return record(req, 401, 'token');
    }
    const access = new Set<string>();
    for (const scope of url.searchParams.getAll('scope')) {
      const [type, name, actions] = scope.split(':');
      if (type === 'repository' && name && canRead(account, projectOf(name))) access.add(name);
      if (type === 'repository' && name && actions?.split(',').includes('delete') && canDelete(account, name))
        access.add(`${name}:delete`);
      if (type === 'registry' && account && opts.accounts[account]?.sysadmin) access.add('catalog');
    }
    const token = randomBytes(18).toString('base64url');
    tokens.set(token, { ...(account ? { account } : {}), access, expired: false });
    json(res, 200, { token, access_token: '', expires_in: 1800, issued_at: new Date().toISOString() });
    record(req, 200, 'token');
  }

  /** The bearer check Harbor's registry front does; true when the demo registry may serve it. */
  function registryGate(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://harbor.invalid');
    const route = parseRegistryPath(url.pathname);
    const needed = route.kind === 'ping' ? undefined : route.kind === 'catalog' ? 'catalog' : route.name;
    const scope =
      needed === undefined
        ? ''
        : needed === 'catalog'
          ? ',scope="registry:catalog:*"'
          : `,scope="repository:${needed}:pull"`;
    const challenge = (error?: string) =>
      `Bearer realm="${origin}/service/token",service="harbor-registry"${scope}${error ? `,error="${error}"` : ''}`;
    const header = req.headers.authorization ?? '';
    const issued = header.startsWith('Bearer ') ? tokens.get(header.slice(7)) : undefined;
    if (issued && opts.expireTokensAfter !== undefined && ++served === opts.expireTokensAfter)
      for (const t of tokens.values()) t.expired = true;
    if (!issued || issued.expired) {
      harborError(res, 401, 'UNAUTHORIZED', 'unauthorized: unauthorized', {
        'WWW-Authenticate': challenge(),
      });
      record(req, 401, 'registry');
      return false;
    }
    if (req.method === 'DELETE' && route.kind === 'manifest' && !issued.access.has(`${needed}:delete`)) {
      harborError(res, 401, 'UNAUTHORIZED', `unauthorized to access repository: ${needed}, action: delete`, {
        'WWW-Authenticate': `Bearer realm="${origin}/service/token",service="harbor-registry",scope="repository:${needed}:delete",error="insufficient_scope"`,
      });
      record(req, 401, 'registry');
      return false;
    }
    if (req.method === 'DELETE' && route.kind === 'manifest') {
      const name = route.name!;
      const digest = route.reference!;
      res.on('finish', () => {
        if (res.statusCode === 202) forget(name, digest);
      });
    }
    if (needed !== undefined && !issued.access.has(needed)) {
      harborError(res, 401, 'UNAUTHORIZED', `unauthorized to access repository: ${needed}, action: pull`, {
        'WWW-Authenticate': challenge('insufficient_scope'),
      });
      record(req, 401, 'registry');
      return false;
    }
    if (route.kind === 'catalog') {
      // Harbor's own catalog: every repository, including those with no artifacts.
      json(res, 200, { repositories: allRepos.filter((r) => byName.has(r)) });
      record(req, 200, 'registry');
      return false;
    }
    record(req, 200, 'registry');
    return true;
  }

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = req.url ?? '/';
    if (refuseScripted(limits, req, res, '<html><body><h1>429 Too Many Requests</h1></body></html>')) {
      record(
        req,
        429,
        path.startsWith('/api/') ? 'api' : path.startsWith('/service/') ? 'token' : 'registry',
      );
      return true;
    }
    if (path.startsWith('/api/')) {
      api(req, res);
      return true;
    }
    if (path.startsWith('/service/token')) {
      tokenService(req, res);
      return true;
    }
    return !registryGate(req, res);
  };

  const registry = await startDemoRegistry(opts.repositories, {
    referrers: 'api',
    intercept,
    tagPageSize: 100_000,
    // Whether an account may delete is Harbor's to say (canDelete); the registry below takes it.
    deletes: opts.deletes ?? 'enabled',
  });
  origin = registry.url;
  return {
    url: registry.url,
    host: registry.host,
    registry,
    requests,
    rateLimit: (l) => limits.push({ ...l }),
    close: () => registry.close(),
  };
}
