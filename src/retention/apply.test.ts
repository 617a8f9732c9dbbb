import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { Tally } from '../http/http-client.js';
import type { DeleteAnswer } from '../oci/registry-client.js';
import { applyPlan, type Deleter, type Deletion, mustGoFirst, repositoryKey } from './apply.js';
import type { InventoryManifest, RepositoryInventory } from './inventory.js';

const dg = (c: string) => `sha256:${c.repeat(64)}`;
const INDEX = dg('a');
const AMD64 = dg('b');
const ARM64 = dg('c');
const ATTEST = dg('d');
const SIG = dg('e');
const OLD = dg('f');

function del(digest: string, more: Partial<Deletion> = {}): Deletion {
  return {
    provider: 'reg',
    repository: 'team/app',
    digest,
    tags: [],
    reason: 'keep_newest: 2',
    bytes: 100,
    after: [],
    ...more,
  };
}

/** An index with two platforms and a BuildKit attestation, its cosign signature, one plain old image. */
function multiArchPlan(): Deletion[] {
  return [
    // Listed children first on purpose: the executor must put the index before them.
    del(AMD64, { after: [INDEX], role: 'image', bytes: 10 }),
    del(ARM64, { after: [INDEX], role: 'image', bytes: 20 }),
    del(ATTEST, { after: [INDEX], role: 'attestation', bytes: 1 }),
    del(SIG, { after: [INDEX], role: 'signature', bytes: 2, tags: [`sha256-${'a'.repeat(64)}.sig`] }),
    del(INDEX, { tags: ['v1', 'v1.0'], role: 'index', bytes: 3 }),
    del(OLD, { tags: ['v0'], bytes: 50 }),
  ];
}

/** A registry in memory: which digests exist per repository, and scripted answers. */
class FakeRegistry implements Deleter {
  readonly asked: string[] = [];
  readonly present = new Set<string>();
  constructor(
    digests: string[],
    private readonly script: Record<string, DeleteAnswer | 'throw'> = {},
  ) {
    for (const d of digests) this.present.add(d);
  }
  async deleteManifest(repo: string, digest: string, _tags: readonly string[], tally: Tally) {
    tally.requests++;
    this.asked.push(`${repo}@${digest}`);
    const scripted = this.script[digest];
    if (scripted === 'throw') throw new Error('socket hang up');
    if (scripted) return scripted;
    if (!this.present.delete(digest))
      return { outcome: 'failed' as const, status: 404, message: 'not found' };
    return { outcome: 'deleted' as const };
  }
}

const one = (r: Deleter) => () => r;
const fixedNow = () => new Date('2026-12-07T12:00:00Z');

describe('applyPlan: order', () => {
  it('deletes an index before its children and a subject before its referrers', async () => {
    const reg = new FakeRegistry([INDEX, AMD64, ARM64, ATTEST, SIG, OLD]);
    const result = await applyPlan(multiArchPlan(), one(reg), { now: fixedNow });
    expect(reg.asked).toEqual([
      `team/app@${INDEX}`,
      `team/app@${AMD64}`,
      `team/app@${ARM64}`,
      `team/app@${ATTEST}`,
      `team/app@${SIG}`,
      `team/app@${OLD}`,
    ]);
    expect(result.counts).toEqual({ deleted: 6, refused: 0, failed: 0, skipped: 0 });
    expect(result.bytesDeleted).toBe(86);
    expect(result.messages).toEqual([]);
    expect(result.journal[0]).toEqual({
      provider: 'reg',
      repository: 'team/app',
      digest: INDEX,
      tags: ['v1', 'v1.0'],
      bytes: 3,
      reason: 'keep_newest: 2',
      answer: 'deleted',
      at: '2026-12-07T12:00:00.000Z',
      requests: 1,
    });
  });

  it('leaves the children alone when their index could not be deleted (orphans never made of a kept image)', async () => {
    const reg = new FakeRegistry([INDEX, AMD64, ARM64, ATTEST, SIG, OLD], {
      [INDEX]: { outcome: 'failed', status: 500, message: 'HTTP 500: storage backend unavailable' },
    });
    const result = await applyPlan(multiArchPlan(), one(reg));
    expect(reg.asked).toEqual([`team/app@${INDEX}`, `team/app@${OLD}`]);
    expect(result.counts).toEqual({ deleted: 1, refused: 0, failed: 1, skipped: 4 });
    const amd = result.journal.find((e) => e.digest === AMD64)!;
    expect(amd.answer).toBe('skipped');
    expect(amd.detail).toBe(`not attempted: ${INDEX} (which must go first) was not deleted (failed)`);
    expect(result.journal.find((e) => e.digest === INDEX)).toMatchObject({
      answer: 'failed',
      status: 500,
      detail: 'HTTP 500: storage backend unavailable',
    });
  });

  it('holds back a deletion whose index or subject the plan keeps', async () => {
    const reg = new FakeRegistry([AMD64, SIG]);
    const result = await applyPlan([del(AMD64, { after: [INDEX] }), del(SIG, { after: [AMD64] })], one(reg));
    expect(reg.asked).toEqual([]);
    expect(result.journal.map((e) => [e.digest, e.answer, e.detail])).toEqual([
      [AMD64, 'skipped', `${INDEX}, which must go first, is not deleted by this plan`],
      [
        SIG,
        'skipped',
        `${AMD64}, which must go first, is held back (${INDEX}, which must go first, is not deleted by this plan)`,
      ],
    ]);
    expect(result.messages).toEqual(['2 planned deletions were held back (the journal says why)']);
  });

  it('reads order constraints within one repository only', async () => {
    const reg = new FakeRegistry([INDEX, AMD64]);
    const result = await applyPlan(
      [del(AMD64, { after: [INDEX] }), del(INDEX, { repository: 'team/other' })],
      one(reg),
    );
    expect(reg.asked).toEqual([`team/other@${INDEX}`]);
    expect(result.journal.find((e) => e.digest === AMD64)?.answer).toBe('skipped');
  });

  it('turns a deleter that throws into a failed entry and goes on', async () => {
    const reg = new FakeRegistry([INDEX, OLD], { [INDEX]: 'throw' });
    const result = await applyPlan([del(INDEX), del(OLD)], one(reg));
    expect(result.journal.map((e) => [e.digest, e.answer, e.detail])).toEqual([
      [INDEX, 'failed', 'socket hang up'],
      [OLD, 'deleted', undefined],
    ]);
  });
});

describe('applyPlan: what is never deleted', () => {
  it('touches nothing in a repository whose discovery was incomplete', async () => {
    const reg = new FakeRegistry([INDEX, OLD]);
    const result = await applyPlan([del(INDEX), del(OLD, { repository: 'team/ok' })], one(reg), {
      incomplete: new Map([[repositoryKey('reg', 'team/app'), 'tags/list: HTTP 503']]),
    });
    expect(reg.asked).toEqual([`team/ok@${OLD}`]);
    expect(result.journal[0]).toMatchObject({
      digest: INDEX,
      answer: 'skipped',
      detail: 'discovery of team/app was incomplete (tags/list: HTTP 503): nothing in it is deleted',
      requests: 0,
    });
    expect(result.journal[0]?.at).toBeUndefined();
  });

  it('never deletes a protected or in-use digest, nor what waits on it', async () => {
    const reg = new FakeRegistry([INDEX, AMD64, ARM64, ATTEST, SIG, OLD]);
    const result = await applyPlan(multiArchPlan(), one(reg), {
      protect: new Map([[INDEX, 'in use: named in in-use.txt (ghcr.io/team/app@sha256:aaaa…)']]),
    });
    expect(reg.asked).toEqual([`team/app@${OLD}`]);
    expect(result.journal.find((e) => e.digest === INDEX)?.detail).toBe(
      'protected: in use: named in in-use.txt (ghcr.io/team/app@sha256:aaaa…)',
    );
    expect(result.journal.filter((e) => e.answer === 'skipped').map((e) => e.digest)).toEqual([
      AMD64,
      ARM64,
      ATTEST,
      SIG,
      INDEX,
    ]);
  });

  it('skips a provider without a delete path and a malformed digest', async () => {
    const result = await applyPlan(
      [del(OLD, { provider: 'hub' }), del('latest', { provider: 'reg' })],
      (p) => (p === 'reg' ? new FakeRegistry([]) : {}),
    );
    expect(result.journal.map((e) => e.detail)).toEqual([
      'hub has no delete path in this tool',
      '"latest" is not a manifest digest',
    ]);
  });

  it('takes a digest listed twice once', async () => {
    const reg = new FakeRegistry([OLD]);
    const result = await applyPlan([del(OLD), del(OLD)], one(reg));
    expect(reg.asked).toHaveLength(1);
    expect(result.counts).toMatchObject({ deleted: 1, skipped: 1 });
    expect(result.messages).toEqual([]);
  });
});

describe('applyPlan: max-deletions', () => {
  it('stops before the first deletion when the plan holds more than the cap, and says so', async () => {
    const reg = new FakeRegistry([INDEX, AMD64, ARM64, ATTEST, SIG, OLD]);
    const result = await applyPlan(multiArchPlan(), one(reg), { maxDeletions: 5 });
    expect(reg.asked).toEqual([]);
    expect(result.stopped).toBe(
      'the plan deletes 6 manifests, more than max-deletions (5): nothing was deleted; check retention-plan.json, then raise max-deletions to at least 6 or narrow the rules',
    );
    expect(result.messages[0]).toBe(result.stopped);
    expect(result.counts).toEqual({ deleted: 0, refused: 0, failed: 0, skipped: 6 });
    expect(result.journal.every((e) => e.detail === `not attempted: ${result.stopped}`)).toBe(true);
  });

  it('counts only what would be asked: protected and held-back deletions are not against the cap', async () => {
    const reg = new FakeRegistry([INDEX, AMD64, ARM64, ATTEST, SIG, OLD]);
    const result = await applyPlan(multiArchPlan(), one(reg), {
      maxDeletions: 1,
      protect: new Map([[INDEX, 'kept by keep_tags']]),
    });
    expect(result.stopped).toBeUndefined();
    expect(reg.asked).toEqual([`team/app@${OLD}`]);
  });

  it('defaults to 100 and accepts exactly the cap', async () => {
    const many = Array.from({ length: 101 }, (_, i) => del(`sha256:${i.toString(16).padStart(64, '0')}`));
    const reg = new FakeRegistry(many.map((d) => d.digest));
    expect((await applyPlan(many, one(reg))).stopped).toContain('more than max-deletions (100)');
    expect(reg.asked).toHaveLength(0);
    const capped = await applyPlan(many.slice(0, 100), one(reg));
    expect(capped.counts.deleted).toBe(100);
  });

  it.each([[-1], [1.5], [Number.NaN]])(
    'rejects max-deletions %s with an error naming the field',
    async (n) => {
      const run = applyPlan([], one(new FakeRegistry([])), { maxDeletions: n });
      await expect(run).rejects.toBeInstanceOf(ConfigError);
      await expect(run).rejects.toThrow(/^max-deletions: .* is not a whole number of 0 or more/);
    },
  );
});

describe('applyPlan: registries that refuse', () => {
  const unsupported: DeleteAnswer = {
    outcome: 'refused',
    why: 'unsupported',
    status: 405,
    message:
      'reg/team/app: the registry does not allow deletes (HTTP 405: UNSUPPORTED The operation is unsupported.)',
  };

  it('asks a registry that does not allow deletes once, then reports instead of failing', async () => {
    const reg = new FakeRegistry([INDEX, OLD], { [OLD]: unsupported });
    const other = new FakeRegistry([SIG]);
    const result = await applyPlan(
      [del(OLD), del(INDEX, { repository: 'team/b' }), del(SIG, { provider: 'other' })],
      (p) => (p === 'reg' ? reg : other),
    );
    expect(reg.asked).toEqual([`team/app@${OLD}`]);
    expect(other.asked).toEqual([`team/app@${SIG}`]);
    expect(result.counts).toEqual({ deleted: 1, refused: 1, failed: 0, skipped: 1 });
    expect(result.messages).toEqual([
      `reg: the registry does not allow deletes, so nothing more was asked of it: ${unsupported.message}`,
    ]);
    expect(result.journal[1]).toMatchObject({
      digest: INDEX,
      answer: 'skipped',
      detail: `not asked: reg refused an earlier delete: ${unsupported.message}`,
    });
  });

  it('stops asking in a repository whose delete was denied, and only there', async () => {
    const denied: DeleteAnswer = {
      outcome: 'refused',
      why: 'denied',
      status: 403,
      message: 'HTTP 403: DENIED requested access to the resource is denied',
    };
    const reg = new FakeRegistry([INDEX, OLD, SIG], { [INDEX]: denied });
    const result = await applyPlan([del(INDEX), del(OLD), del(SIG, { repository: 'team/b' })], one(reg));
    expect(reg.asked).toEqual([`team/app@${INDEX}`, `team/b@${SIG}`]);
    expect(result.messages).toEqual([
      `reg team/app: delete refused, so nothing more was asked there: ${denied.message}`,
    ]);
    expect(result.journal.find((e) => e.digest === INDEX)).toMatchObject({ answer: 'refused', status: 403 });
  });
});

describe('mustGoFirst', () => {
  const m = (digest: string, more: Partial<InventoryManifest> = {}): InventoryManifest => ({
    digest,
    role: 'image',
    size: 1,
    blobs: [],
    children: [],
    subjects: [],
    ...more,
  });
  const inventory: RepositoryInventory = {
    provider: 'reg',
    registry: 'reg.test',
    repository: 'team/app',
    complete: true,
    partial: false,
    tags: [{ tag: 'v1', digest: INDEX }],
    manifests: new Map(
      [
        m(INDEX, { role: 'index', children: [AMD64, ARM64, ATTEST] }),
        m(AMD64),
        m(ARM64),
        m(ATTEST, { role: 'attestation', subjects: [AMD64] }),
        m(SIG, { role: 'signature', subjects: [INDEX] }),
        // A referrer whose subject is gone: an orphan, free to go on its own.
        m(OLD, { role: 'signature', subjects: [dg('9')] }),
      ].map((x) => [x.digest, x]),
    ),
  };

  it.each([
    ['a tagged index', INDEX, []],
    ['a platform manifest: its index', AMD64, [INDEX]],
    ['a BuildKit attestation: its index and the platform it describes', ATTEST, [INDEX, AMD64].sort()],
    ['a signature: its subject', SIG, [INDEX]],
    ['an orphan referrer: nothing', OLD, []],
    ['a digest the inventory does not hold: nothing', dg('8'), []],
  ])('%s', (_what, digest, expected) => {
    expect(mustGoFirst(inventory, digest)).toEqual(expected);
  });

  it("waits for an untagged index the registry listed (its children named by the vendor's listing)", () => {
    const UNREAD_INDEX = dg('7');
    const LISTED_CHILD = dg('6');
    const listed: RepositoryInventory = {
      ...inventory,
      untagged: [m(UNREAD_INDEX, { role: 'index', children: [LISTED_CHILD] }), m(LISTED_CHILD)],
    };
    expect(mustGoFirst(listed, LISTED_CHILD)).toEqual([UNREAD_INDEX]);
    expect(mustGoFirst(listed, UNREAD_INDEX)).toEqual([]);
  });

  it('holds back a child the plan names without its index', async () => {
    const reg = new FakeRegistry([AMD64]);
    const result = await applyPlan([del(AMD64, { after: mustGoFirst(inventory, AMD64) })], one(reg));
    expect(reg.asked).toEqual([]);
    expect(result.journal[0]?.detail).toBe(`${INDEX}, which must go first, is not deleted by this plan`);
  });
});
