// The sticky PR comment against a fake GitHub REST API: one comment per config, created once and
// then edited in place; every failure is one warning, never a thrown error or a leaked token.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Log } from '../../src/log.js';
import { commentMarker } from '../../src/output/pr-comment-body.js';
import { Secrets } from '../../src/secrets.js';
import { upsertPrComment } from '../../src/shell/pr-comment.js';
import {
  type GitHubCommentsFake,
  startGitHubCommentsFake,
  TOKEN,
} from '../support/fakes/github-comments-fake.js';
import { startScriptedServer } from '../support/scripted-server.js';

const OWNER = 'acme-org';
const REPO = 'web-frontend';
const PR = 42;

let fake: GitHubCommentsFake;
beforeAll(async () => {
  fake = await startGitHubCommentsFake({ owner: OWNER, repo: REPO, pulls: [PR, 43] });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

function capture(): Log & { lines: { level: string; text: string }[] } {
  const lines: { level: string; text: string }[] = [];
  return {
    lines,
    info: (text) => lines.push({ level: 'info', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
    debug: () => {},
  };
}

function post(
  report: string,
  configHash: string,
  extra: Partial<Parameters<typeof upsertPrComment>[0]> = {},
) {
  const log = capture();
  const result = upsertPrComment({
    report,
    configHash,
    token: TOKEN,
    env: {
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_API_URL: fake.url,
      GITHUB_EVENT_NAME: 'pull_request',
    },
    log,
    secrets: new Secrets(),
    eventPayload: { pull_request: { number: PR } },
    ...extra,
  });
  return { result, log };
}

const writes = () => fake.requests.filter((r) => r.method !== 'GET');

describe('sticky PR comment', () => {
  it('is created on the first run and edited in place on the next, never posted twice', async () => {
    const first = post('## Changes since last inventory\n\n- new tag `web:1.2.0`', 'aaaa1111');
    expect(await first.result).toMatchObject({ status: 'created' });
    expect(first.log.lines).toEqual([
      { level: 'info', text: expect.stringMatching(/^PR comment created on/) },
    ]);
    expect(fake.comments).toHaveLength(1);
    expect(fake.comments[0]!.body).toBe(
      `${commentMarker('aaaa1111')}\n## Changes since last inventory\n\n- new tag \`web:1.2.0\``,
    );
    const created = fake.comments[0]!.id;

    const second = post('No changes since last inventory.', 'aaaa1111');
    expect(await second.result).toMatchObject({ status: 'updated', id: created });
    expect(fake.comments).toHaveLength(1);
    expect(fake.comments[0]!.body).toBe(`${commentMarker('aaaa1111')}\nNo changes since last inventory.`);
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`,
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/${created}`,
    ]);
  });

  it('gives a second config its own comment and leaves the first alone', async () => {
    await post('report A', 'aaaa1111').result;
    await post('report B', 'bbbb2222').result;
    await post('report A, again', 'aaaa1111').result;
    expect(fake.comments.map((c) => c.body)).toEqual([
      `${commentMarker('aaaa1111')}\nreport A, again`,
      `${commentMarker('bbbb2222')}\nreport B`,
    ]);
  });

  it('finds its comment past the first page of a long discussion (per_page 100, Link next)', async () => {
    for (let i = 0; i < 130; i++) fake.seed(PR, `comment ${i}`);
    await post('first', 'aaaa1111').result;
    for (let i = 0; i < 120; i++) fake.seed(PR, `later ${i}`);
    fake.requests.length = 0;
    expect(await post('second', 'aaaa1111').result).toMatchObject({ status: 'updated' });
    const lists = fake.requests.filter((r) => r.method === 'GET');
    expect(lists.map((r) => [r.query.per_page, r.query.page ?? '1'])).toEqual([
      ['100', '1'],
      ['100', '2'],
    ]);
    expect(fake.comments.filter((c) => c.body.includes(commentMarker('aaaa1111')))).toHaveLength(1);
  });

  it('does not take over a reply that quotes the comment', async () => {
    fake.seed(PR, `> ${commentMarker('aaaa1111')}\n> old report\n\nWhy did this move?`);
    expect(await post('report', 'aaaa1111').result).toMatchObject({ status: 'created' });
    expect(fake.comments).toHaveLength(2);
    expect(fake.comments[0]!.body).toContain('Why did this move?');
  });

  it('cuts a report longer than GitHub allows instead of failing', async () => {
    const table = Array.from(
      { length: 4000 },
      (_, i) => `| repo-${i} | tag-${i} | sha256:${'a'.repeat(20)} |`,
    );
    const report = `| repository | tag | digest |\n|---|---|---|\n${table.join('\n')}\n`;
    expect(report.length).toBeGreaterThan(65536);
    expect(await post(report, 'aaaa1111').result).toMatchObject({ status: 'created' });
    const body = fake.comments[0]!.body;
    expect(body.length).toBeLessThanOrEqual(65536);
    expect(body).toMatch(/more characters of this report did not fit/);
  });

  it('a token without pull-requests: write is one warning that names the fix, and no thrown error', async () => {
    fake.readOnly = true;
    const { result, log } = post('report', 'aaaa1111');
    expect(await result).toMatchObject({ status: 'failed' });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.level).toBe('warn');
    expect(log.lines[0]!.text).toMatch(
      /^PR comment not posted: commenting on acme-org\/web-frontend#42 failed: HTTP 403 "Resource not accessible by integration"; give the job "permissions: pull-requests: write"/,
    );
    expect(log.lines[0]!.text).not.toContain(TOKEN);
  });

  it('a refused listing is the same single warning', async () => {
    fake.forbidden = true;
    const { result, log } = post('report', 'aaaa1111');
    expect(await result).toMatchObject({ status: 'failed' });
    expect(log.lines.map((l) => l.level)).toEqual(['warn']);
    expect(log.lines[0]!.text).toMatch(/listing the comments of acme-org\/web-frontend#42 failed: HTTP 403/);
  });

  it('a wrong token says so without printing it', async () => {
    const wrong = 'ghp_wrongToken1234567890abcdefghijklmnop';
    const { result, log } = post('report', 'aaaa1111', { token: wrong });
    expect(await result).toMatchObject({ status: 'failed' });
    expect(log.lines[0]!.text).toMatch(/HTTP 401 "Bad credentials"; the token is not valid/);
    expect(log.lines[0]!.text).not.toContain(wrong);
  });

  it('outside a pull request it warns once and sends nothing', async () => {
    const { result, log } = post('report', 'aaaa1111', {
      eventPayload: { ref: 'refs/heads/main' },
      env: { GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_API_URL: fake.url, GITHUB_EVENT_NAME: 'push' },
    });
    expect(await result).toMatchObject({ status: 'skipped' });
    expect(log.lines).toEqual([
      {
        level: 'warn',
        text: 'PR comment not posted: this run is not for a pull request (event "push"); comment-on-pr works on pull_request and pull_request_target events.',
      },
    ]);
    expect(fake.requests).toHaveLength(0);
  });

  it('an explicit pull request number wins over the event', async () => {
    expect(await post('report', 'aaaa1111', { pullNumber: 43, eventPayload: {} }).result).toMatchObject({
      status: 'created',
    });
    expect(fake.comments[0]!.issue).toBe(43);
  });

  it('an unreachable API is a warning too, with the reason', async () => {
    const gone = await startScriptedServer(() => {});
    await gone.close();
    const { result, log } = post('report', 'aaaa1111', { apiUrl: gone.url });
    expect(await result).toMatchObject({ status: 'failed' });
    expect(log.lines.map((l) => l.level)).toEqual(['warn']);
    expect(log.lines[0]!.text).toMatch(/ECONNREFUSED/);
  });
});
