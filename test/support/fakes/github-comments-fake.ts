// A fake GitHub REST API for issue comments, behaving the way the real one does where the sticky
// PR comment depends on it:
// - GET /repos/{o}/{r}/issues/{n}/comments: oldest first, per_page (default 30, at most 100) and
//   page, absolute Link headers (next, last, first, prev);
// - POST .../issues/{n}/comments → 201, PATCH /repos/{o}/{r}/issues/comments/{id} → 200, both
//   refusing a body over 65536 characters with 422 "Validation Failed";
// - Authorization "token X" or "Bearer X"; a wrong token is 401 "Bad credentials", an unknown
//   repository or issue 404; a read-only token (readOnly mode) gets 403 "Resource not
//   accessible by integration" on writes, and forbidden mode refuses every request that way.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startScriptedServer } from '../scripted-server.js';

export const TOKEN = 'ghs_fakeCommentsToken0000000000000000000';

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body?: unknown;
}

export interface GitHubCommentsFake {
  url: string;
  requests: RecordedRequest[];
  comments: FakeComment[];
  /** Writes answer 403, as for a token without pull-requests: write. */
  readOnly: boolean;
  /** Every request answers 403. */
  forbidden: boolean;
  /** Adds a comment by someone else, as if posted on the pull request earlier. */
  seed(issue: number, body: string, user?: string): FakeComment;
  reset(): void;
  close(): Promise<void>;
}

export async function startGitHubCommentsFake(opts: {
  owner: string;
  repo: string;
  pulls: number[];
  /** The token the API accepts; default TOKEN (a test may pass a canary value). */
  token?: string;
}): Promise<GitHubCommentsFake> {
  const token = opts.token ?? TOKEN;
  let nextId = 1000;
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const stamp = () => {
    clock += 1000;
    return new Date(clock).toISOString().replace('.000Z', 'Z');
  };
  const fake: GitHubCommentsFake = {
    url: '',
    requests: [],
    comments: [],
    readOnly: false,
    forbidden: false,
    seed(issue, body, user = 'octocat') {
      const at = stamp();
      const c = { id: nextId++, issue, body, user, created_at: at, updated_at: at };
      fake.comments.push(c);
      return c;
    },
    reset() {
      fake.requests.length = 0;
      fake.comments.length = 0;
      fake.readOnly = false;
      fake.forbidden = false;
    },
    close: async () => {},
  };

  const server = await startScriptedServer((req, res) => {
    void readBody(req).then((raw) => handle(req, res, raw));
  });
  fake.url = server.url;
  fake.close = server.close;

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  function view(c: FakeComment) {
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${fake.url}/repos/${opts.owner}/${opts.repo}/issues/comments/${c.id}`,
      html_url: `https://github.com/${opts.owner}/${opts.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${fake.url}/repos/${opts.owner}/${opts.repo}/issues/${c.issue}`,
      body: c.body,
      user: { login: c.user, id: 1, type: c.user.endsWith('[bot]') ? 'Bot' : 'User' },
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: 'NONE',
    };
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const u = new URL(req.url ?? '/', fake.url);
    const query = Object.fromEntries(u.searchParams);
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { message: 'Problems parsing JSON' });
      }
    }
    fake.requests.push({
      method: req.method ?? '',
      path: u.pathname,
      query,
      authorization: req.headers.authorization,
      ...(body !== undefined ? { body } : {}),
    });

    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${token}` && auth !== `Bearer ${token}`)
      return send(res, 401, {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
      });
    const denied = () =>
      send(res, 403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/issues/comments',
        status: '403',
      });
    if (fake.forbidden) return denied();

    const prefix = `/repos/${opts.owner}/${opts.repo}/issues/`;
    if (!u.pathname.startsWith(prefix)) return send(res, 404, { message: 'Not Found' });
    const rest = u.pathname.slice(prefix.length);

    const list = /^(\d+)\/comments$/.exec(rest);
    if (list) {
      const issue = Number(list[1]);
      if (!opts.pulls.includes(issue)) return send(res, 404, { message: 'Not Found' });
      if (req.method === 'GET') return listComments(res, issue, query, u);
      if (req.method === 'POST') {
        if (fake.readOnly) return denied();
        const text = bodyText(body);
        if (text === undefined) return invalid(res, 'body', 'missing_field');
        if ([...text].length > 65536)
          return invalid(res, 'body', 'custom', 'body is too long (maximum is 65536 characters)');
        return send(res, 201, view(fake.seed(issue, text, 'github-actions[bot]')));
      }
      return send(res, 404, { message: 'Not Found' });
    }

    const one = /^comments\/(\d+)$/.exec(rest);
    if (one && req.method === 'PATCH') {
      const c = fake.comments.find((x) => x.id === Number(one[1]));
      if (!c) return send(res, 404, { message: 'Not Found' });
      if (fake.readOnly) return denied();
      const text = bodyText(body);
      if (text === undefined) return invalid(res, 'body', 'missing_field');
      if ([...text].length > 65536)
        return invalid(res, 'body', 'custom', 'body is too long (maximum is 65536 characters)');
      c.body = text;
      c.updated_at = stamp();
      return send(res, 200, view(c));
    }
    return send(res, 404, { message: 'Not Found' });
  }

  function listComments(res: ServerResponse, issue: number, query: Record<string, string>, u: URL) {
    const perPage = Math.min(Math.max(Number(query.per_page ?? 30) || 30, 1), 100);
    const page = Math.max(Number(query.page ?? 1) || 1, 1);
    const all = fake.comments.filter((c) => c.issue === issue).sort((a, b) => a.id - b.id);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const link = (p: number) => {
      const next = new URL(u.pathname, fake.url);
      next.searchParams.set('per_page', String(perPage));
      next.searchParams.set('page', String(p));
      return next.toString();
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`);
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`);
    if (page < last) rels.push(`<${link(last)}>; rel="last"`);
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`);
    send(res, 200, slice.map(view), rels.length > 0 ? { link: rels.join(', ') } : {});
  }

  function invalid(res: ServerResponse, field: string, code: string, message?: string) {
    send(res, 422, {
      message: 'Validation Failed',
      errors: [{ resource: 'IssueComment', code, field, ...(message ? { message } : {}) }],
      documentation_url: 'https://docs.github.com/rest/issues/comments',
    });
  }

  return fake;
}

function bodyText(body: unknown): string | undefined {
  const text = (body as { body?: unknown } | undefined)?.body;
  return typeof text === 'string' ? text : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}
