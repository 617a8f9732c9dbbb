import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../config/duration.js';
import { compilePattern } from '../config/pattern.js';
import type { RetentionRules } from '../config/settings.js';
import type { ManifestRole } from '../model/discovery.js';
import type { InventoryManifest, InventoryTag, RepositoryInventory } from './inventory.js';
import { planRetention, type RetentionPlan } from './plan.js';

const NOW = new Date('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

// Digests stand for readable names, and plans are read back with the names.
const names = new Map<string, string>();
function d(name: string): string {
  const digest = `sha256:${createHash('sha256').update(name).digest('hex')}`;
  names.set(digest, name);
  return digest;
}
const hex = (name: string) => d(name).slice('sha256:'.length);
const named = (digest: string | undefined) => (digest ? (names.get(digest) ?? digest) : '');

interface Opts {
  days?: number;
  /** [blob name, bytes] */
  blobs?: Array<[string, number]>;
  size?: number;
  subjects?: string[];
  role?: ManifestRole;
  children?: string[];
}

function manifest(name: string, o: Opts = {}): InventoryManifest {
  return {
    digest: d(name),
    role: o.role ?? (o.children ? 'index' : 'image'),
    size: o.size ?? 100,
    blobs: (o.blobs ?? [[`${name}-layer`, 1000]]).map(([b, size]) => ({ digest: d(b), size })),
    children: (o.children ?? []).map(d),
    subjects: (o.subjects ?? []).map(d),
    ...(o.days !== undefined ? { created: ago(o.days) } : {}),
  };
}

const index = (name: string, children: string[], o: Opts = {}) =>
  manifest(name, { blobs: [], size: 300, ...o, children });

const accessory = (name: string, role: ManifestRole, subject: string, o: Opts = {}) =>
  manifest(name, { size: 50, blobs: [[`${name}-payload`, 10]], ...o, role, subjects: [subject] });

interface RepoSpec {
  /** [tag, manifest name, days since pushed (absent: no push time)] */
  tags: Array<[string, string, number?]>;
  manifests: InventoryManifest[];
  untagged?: InventoryManifest[];
  complete?: boolean;
  partial?: boolean;
  tagsListed?: number;
}

function repo(spec: RepoSpec): RepositoryInventory {
  const tags: InventoryTag[] = spec.tags.map(([tag, name, days]) => ({
    tag,
    digest: name.startsWith('sha256:') ? name : d(name),
    ...(days !== undefined ? { pushedAt: ago(days) } : {}),
  }));
  return {
    provider: 'reg',
    registry: 'https://registry.example.com',
    repository: 'team/app',
    complete: spec.complete ?? true,
    partial: spec.partial ?? false,
    tags,
    manifests: new Map(spec.manifests.map((m) => [m.digest, m])),
    ...(spec.untagged ? { untagged: spec.untagged } : {}),
    ...(spec.tagsListed !== undefined ? { tagsListed: spec.tagsListed } : {}),
  };
}

interface RuleSpec {
  keepNewest?: number;
  keepTags?: string[];
  olderThan?: string;
  untaggedOlderThan?: string;
  protectInUse?: boolean;
}

function rules(r: RuleSpec): RetentionRules {
  const duration = (text: string) => {
    const parsed = parseDuration(text);
    if (!('duration' in parsed)) throw new Error(parsed.error);
    return parsed.duration;
  };
  return {
    ...(r.keepNewest !== undefined ? { keepNewest: r.keepNewest } : {}),
    keepTags: (r.keepTags ?? []).map((source) => {
      const compiled = compilePattern(source);
      if (!('pattern' in compiled)) throw new Error(compiled.error);
      return compiled.pattern;
    }),
    ...(r.olderThan ? { olderThan: duration(r.olderThan) } : {}),
    ...(r.untaggedOlderThan ? { untaggedOlderThan: duration(r.untaggedOlderThan) } : {}),
    protectInUse: r.protectInUse ?? true,
  };
}

/**
 * Plans, checks what must hold of every plan (deletions after what they go with, bytes adding up,
 * nothing both deleted and protected), and reads the plan back with names.
 */
function plan(inventory: RepositoryInventory, r: RuleSpec, inUse: string[] = []): RetentionPlan {
  const result = planRetention(inventory, rules(r), new Set(inUse.map(d)), NOW);
  const position = new Map(result.deletions.map((x, i) => [x.digest, i]));
  const all = new Map(
    [...inventory.manifests.values(), ...(inventory.untagged ?? [])].map((m) => [m.digest, m] as const),
  );
  for (const x of result.deletions) {
    const m = all.get(x.digest);
    for (const before of [
      ...(m?.subjects ?? []),
      ...[...all.values()].filter((p) => p.children.includes(x.digest)).map((p) => p.digest),
    ])
      if (position.has(before))
        expect(position.get(before), `${named(before)} before ${named(x.digest)}`).toBeLessThan(
          position.get(x.digest)!,
        );
  }
  expect(result.deletions.reduce((sum, x) => sum + x.bytes_reclaimed, 0)).toBe(result.reclaimable_bytes);
  expect(result.protected.filter((p) => position.has(p.digest))).toEqual([]);
  expect(new Set(result.deletions.map((x) => x.digest)).size).toBe(result.deletions.length);
  return result;
}

/** The plan in a line per entry. */
function view(p: RetentionPlan) {
  return {
    deletions: p.deletions.map(
      (x) =>
        `${named(x.digest)}${x.tags.length ? ` [${x.tags.join(' ')}]` : ''} ${x.cause}${x.with ? ` with ${named(x.with)}` : ''} ${x.bytes_reclaimed}`,
    ),
    protected: p.protected.map((x) => `${named(x.digest)}: ${x.why.map((w) => w.by).join('+')}`),
    blast_radius: p.blast_radius.map(
      (x) =>
        `${x.kind} ${named(x.digest)}${x.because ? ` ← ${named(x.because)}` : ''}${x.kept_tags ? ` kept ${x.kept_tags.join(' ')}` : ''}`,
    ),
    reclaimable_bytes: p.reclaimable_bytes,
  };
}

const deleted = (p: RetentionPlan) => p.deletions.map((x) => named(x.digest));

// Six single-platform images, v6 the newest; each has its own 1000-byte layer over a shared base.
const SIX = repo({
  tags: [
    ['v1', 'img1', 60],
    ['v2', 'img2', 50],
    ['v3', 'img3', 40],
    ['v4', 'img4', 20],
    ['v5', 'img5', 10],
    ['v6', 'img6', 1],
  ],
  manifests: [1, 2, 3, 4, 5, 6].map((i) =>
    manifest(`img${i}`, {
      blobs: [
        ['base', 5000],
        [`own${i}`, 1000],
      ],
    }),
  ),
});

describe('planRetention: the rules', () => {
  it.each<[string, RuleSpec, string[], string[]]>([
    ['keep_newest 3', { keepNewest: 3 }, [], ['img3', 'img2', 'img1']],
    [
      'keep_newest 0 keeps none by count',
      { keepNewest: 0 },
      [],
      ['img6', 'img5', 'img4', 'img3', 'img2', 'img1'],
    ],
    ['keep_newest past the count keeps all', { keepNewest: 10 }, [], []],
    ['older_than 30d', { olderThan: '30d' }, [], ['img3', 'img2', 'img1']],
    ['older_than 15d', { olderThan: '15d' }, [], ['img4', 'img3', 'img2', 'img1']],
    ['older_than 1w', { olderThan: '1w' }, [], ['img5', 'img4', 'img3', 'img2', 'img1']],
    [
      'older_than 24h spares the image pushed a day ago',
      { olderThan: '24h' },
      [],
      ['img5', 'img4', 'img3', 'img2', 'img1'],
    ],
    ['keep_newest 5 and older_than 15d: both must agree', { keepNewest: 5, olderThan: '15d' }, [], ['img1']],
    ['keep_newest 2 and older_than 45d', { keepNewest: 2, olderThan: '45d' }, [], ['img2', 'img1']],
    ['keep_tags never deletes', { keepNewest: 3, keepTags: ['^v1$'] }, [], ['img3', 'img2']],
    [
      'keep_tags patterns match as selectors do: anchored at the start, any case',
      { keepNewest: 3, keepTags: ['V'] },
      [],
      [],
    ],
    ['an untagged rule alone deletes no tagged image', { untaggedOlderThan: '1d' }, [], []],
    ['in use is never deleted', { keepNewest: 3 }, ['img2'], ['img3', 'img1']],
    [
      'protect_in_use: false deletes what is in use',
      { keepNewest: 3, protectInUse: false },
      ['img2'],
      ['img3', 'img2', 'img1'],
    ],
  ])('%s', (_name, r, inUse, expected) => {
    expect(deleted(plan(SIX, r, inUse))).toEqual(expected);
  });

  it('names the rule and the age in each reason; a kept shared base layer is not reclaimable', () => {
    const p = plan(SIX, { keepNewest: 4, olderThan: '30d' });
    expect(p.deletions).toEqual([
      {
        repository: 'team/app',
        digest: d('img2'),
        tags: ['v2'],
        role: 'image',
        cause: 'rules',
        reason: 'keep_newest 4 and older_than 30d: number 5 from the newest, 50 days old',
        bytes_reclaimed: 1100,
      },
      {
        repository: 'team/app',
        digest: d('img1'),
        tags: ['v1'],
        role: 'image',
        cause: 'rules',
        reason: 'keep_newest 4 and older_than 30d: number 6 from the newest, 60 days old',
        bytes_reclaimed: 1100,
      },
    ]);
    expect(p.reclaimable_bytes).toBe(2200);
    expect(p.protected).toEqual([]);
    expect(p.blast_radius).toEqual([]);
    expect(p.notes).toEqual([]);
    expect(plan(SIX, { keepNewest: 5 }).deletions[0]!.reason).toBe('keep_newest 5: number 6 from the newest');
    expect(plan(SIX, { olderThan: '8w' }).deletions[0]!.reason).toBe('older_than 8w: 60 days old');
  });

  it('says what protected an image a rule wanted, and notes deleting one in use when told to', () => {
    const p = plan(SIX, { keepNewest: 3, keepTags: ['^v1$'] }, ['img2', 'img1']);
    expect(p.protected).toEqual([
      {
        repository: 'team/app',
        digest: d('img2'),
        tags: ['v2'],
        role: 'image',
        wanted: 'keep_newest 3: number 5 from the newest',
        why: [{ by: 'in_use', detail: 'in use: named by the in-use input or by Devgraph' }],
      },
      {
        repository: 'team/app',
        digest: d('img1'),
        tags: ['v1'],
        role: 'image',
        wanted: 'keep_newest 3: number 6 from the newest',
        why: [
          { by: 'in_use', detail: 'in use: named by the in-use input or by Devgraph' },
          { by: 'keep_tags', detail: 'tag v1 matches keep_tags "^v1$"' },
        ],
      },
    ]);
    const off = plan(SIX, { keepNewest: 5, protectInUse: false }, ['img1']);
    expect(off.notes).toEqual([`deletes ${d('img1')} although it is in use: protect_in_use is off`]);
    expect(off.protected).toEqual([]);
  });

  it('dates an image by its push time, else its created time; a tag pushed again makes it recent', () => {
    const inv = repo({
      tags: [
        ['created-old', 'a'],
        ['pushed-new', 'b', 2],
        ['first', 'c', 90],
        ['again', 'c', 3],
        ['created-new', 'e'],
      ],
      manifests: [
        manifest('a', { days: 100 }),
        manifest('b', { days: 100 }),
        manifest('c', { days: 100 }),
        manifest('e', { days: 5 }),
      ],
    });
    expect(deleted(plan(inv, { olderThan: '30d' }))).toEqual(['a']);
    expect(deleted(plan(inv, { keepNewest: 2 }))).toEqual(['e', 'a']);
  });

  it('orders undated images as max_tags does, after dated ones by version, and keeps them from age rules', () => {
    const inv = repo({
      tags: [
        ['1.9', 'v19'],
        ['1.10', 'v110'],
        ['1.2', 'v12'],
        ['epoch', 'ep'],
        ['dated', 'dt'],
      ],
      manifests: [
        manifest('v19'),
        manifest('v110'),
        manifest('v12'),
        manifest('ep', { days: 0 }),
        manifest('dt', { days: 400 }),
      ].map((m) => (m.digest === d('ep') ? { ...m, created: '1970-01-01T00:00:00Z' } : m)),
    });
    expect(deleted(plan(inv, { keepNewest: 2 }))).toEqual(['v19', 'v12', 'ep']);
    const aged = plan(inv, { olderThan: '30d' });
    expect(deleted(aged)).toEqual(['dt']);
    expect(view(aged).protected).toEqual(['v110: undated', 'v19: undated', 'v12: undated', 'ep: undated']);
    expect(aged.protected[0]!.wanted).toBe('older_than 30d, but no push or created time says how old it is');
    expect(plan(inv, { keepNewest: 4, olderThan: '30d' }).protected.map((x) => x.wanted)).toEqual([
      'keep_newest 4: number 5 from the newest, older_than 30d, but no push or created time says how old it is',
    ]);
  });

  it('never counts accessory tags as images', () => {
    const inv = repo({
      tags: [
        ['v1', 'old', 30],
        ['v2', 'new', 1],
        [`sha256-${hex('new')}.sig`, 'sig-new', 0],
        [`sha256-${hex('new')}.att`, 'att-new', 0],
      ],
      manifests: [
        manifest('old'),
        manifest('new'),
        accessory('sig-new', 'signature', 'new'),
        accessory('att-new', 'attestation', 'new'),
      ],
    });
    expect(deleted(plan(inv, { keepNewest: 1 }))).toEqual(['old']);
    expect(deleted(plan(inv, { keepNewest: 2 }))).toEqual([]);
  });
});

describe('planRetention: what another rule model expires', () => {
  it('deletes it with the same protections and blast radius as the rules', () => {
    const inv = repo({
      tags: [
        ['v1', 'one', 90],
        ['stable', 'one', 90],
        ['v2', 'two', 80],
        ['v3', 'three', 1],
      ],
      manifests: [manifest('one'), manifest('two'), manifest('three')],
      untagged: [manifest('loose', { days: 1 })],
    });
    const expired = new Map([
      [d('one'), 'ecr_lifecycle_policy rule 1: imageCountMoreThan 1'],
      [d('two'), 'ecr_lifecycle_policy rule 1: imageCountMoreThan 1'],
      [d('loose'), 'ecr_lifecycle_policy rule 2: untagged sinceImagePushed 0 days'],
      [d('not-here'), 'ecr_lifecycle_policy rule 2'],
    ]);
    const p = planRetention(inv, rules({ keepTags: ['^stable$'] }), new Set([d('two')]), NOW, expired);
    expect(p.deletions).toEqual([
      {
        repository: 'team/app',
        digest: d('loose'),
        tags: [],
        role: 'image',
        cause: 'lifecycle',
        reason: 'ecr_lifecycle_policy rule 2: untagged sinceImagePushed 0 days',
        bytes_reclaimed: 1100,
      },
    ]);
    expect(view(p).protected).toEqual(['two: in_use', 'one: keep_tags']);
    expect(view(p).blast_radius).toEqual(['kept_alias one kept stable']);
  });

  it("keeps the rules' own reason where both want a manifest gone", () => {
    const p = planRetention(
      SIX,
      rules({ keepNewest: 5 }),
      new Set(),
      NOW,
      new Map([[d('img1'), 'lifecycle']]),
    );
    expect(p.deletions.map((x) => x.cause)).toEqual(['rules']);
  });
});

describe('planRetention: tags that share a digest', () => {
  const inv = repo({
    tags: [
      ['1.2.3', 'rel', 1],
      ['1.2', 'rel', 1],
      ['latest', 'rel', 1],
      ['old-a', 'two', 40],
      ['old-b', 'two', 40],
      ['build-77', 'kept', 50],
      ['stable', 'kept', 50],
    ],
    manifests: [manifest('rel'), manifest('two'), manifest('kept')],
  });

  it('counts an image once however many tags it has, and deletes every tag on a digest together', () => {
    const p = plan(inv, { keepNewest: 1 });
    expect(view(p).deletions).toEqual(['two [old-a old-b] rules 1100', 'kept [build-77 stable] rules 1100']);
    expect(view(p).blast_radius).toEqual(['tags two', 'tags kept']);
    expect(p.blast_radius[0]!.detail).toBe(`deleting ${d('two')} removes every tag on it: old-a, old-b`);
  });

  it('withholds a deletion whose digest carries a kept tag, and lists the alias', () => {
    const p = plan(inv, { keepNewest: 1, keepTags: ['^stable$'] });
    expect(view(p)).toEqual({
      deletions: ['two [old-a old-b] rules 1100'],
      protected: ['kept: keep_tags'],
      blast_radius: ['tags two', 'kept_alias kept kept stable'],
      reclaimable_bytes: 1100,
    });
    expect(p.blast_radius[1]).toEqual({
      kind: 'kept_alias',
      digest: d('kept'),
      tags: ['build-77'],
      role: 'image',
      kept_tags: ['stable'],
      withheld: true,
      detail: `keep_newest 1: number 3 from the newest; but deleting ${d('kept')} would also remove stable (keep_tags), so build-77 stays`,
    });
  });

  it('withholds it too when keep_tags names every tag, without an alias entry', () => {
    const p = plan(inv, { keepNewest: 1, keepTags: ['^(stable|build-)'] });
    expect(view(p).protected).toEqual(['kept: keep_tags+keep_tags']);
    expect(view(p).blast_radius).toEqual(['tags two']);
  });
});

describe('planRetention: multi-arch indexes with attestations', () => {
  // Two builds of a two-platform image, each index with a BuildKit attestation manifest for amd64.
  const build = (n: number, days: number, arm = `arm${n}`) => [
    index(`idx${n}`, [`amd${n}`, arm, `att${n}`], { days }),
    manifest(`amd${n}`, {
      blobs: [
        ['base', 5000],
        [`amd-layer${n}`, 1000],
      ],
      days,
    }),
    manifest(arm, {
      blobs: [
        ['base-arm', 4000],
        [`arm-layer${n}`, 900],
      ],
      days,
    }),
    accessory(`att${n}`, 'attestation', `amd${n}`, { days, blobs: [[`prov${n}`, 20]] }),
  ];
  const inv = (o: { untagged?: InventoryManifest[]; shared?: boolean } = {}) =>
    repo({
      tags: [
        ['v1', 'idx1', 30],
        ['v2', 'idx2', 1],
      ],
      manifests: [...build(1, 30, o.shared ? 'arm2' : 'arm1'), ...build(2, 1)],
      ...(o.untagged ? { untagged: o.untagged } : {}),
    });

  it('deletes an index with its children, the index first and each attestation after its subject', () => {
    const p = plan(inv(), { keepNewest: 1 });
    expect(view(p)).toEqual({
      deletions: [
        'idx1 [v1] rules 300',
        'amd1 index_deleted with idx1 1100',
        'arm1 index_deleted with idx1 1000',
        'att1 index_deleted with idx1 70',
      ],
      protected: [],
      blast_radius: ['child amd1 ← idx1', 'child arm1 ← idx1', 'child att1 ← idx1'],
      reclaimable_bytes: 2470,
    });
    expect(p.deletions[1]!.reason).toBe(`platform manifest of the deleted index ${d('idx1')}`);
    expect(p.deletions[3]!.reason).toBe(`attestation manifest of the deleted index ${d('idx1')}`);
    expect(p.blast_radius[0]!.detail).toBe(`the platform manifest goes with the index ${d('idx1')} (v1)`);
  });

  it('keeps a platform manifest another kept index also lists', () => {
    const p = plan(inv({ shared: true }), { keepNewest: 1 });
    expect(deleted(p)).toEqual(['idx1', 'amd1', 'att1']);
    expect(p.protected).toEqual([
      {
        repository: 'team/app',
        digest: d('arm2'),
        tags: [],
        role: 'image',
        wanted: `platform manifest of the deleted index ${d('idx1')}`,
        why: [{ by: 'kept_index', detail: `platform manifest of the kept index ${d('idx2')} (v2)` }],
      },
    ]);
  });

  it("never deletes a kept index's untagged children, and takes a deleted one's whatever their age", () => {
    const young = manifest('amd1', {
      blobs: [
        ['base', 5000],
        ['amd-layer1', 1000],
      ],
      days: 1,
    });
    const children = [...build(2, 1).slice(1), ...build(1, 30).slice(2)];
    const ghost = manifest('ghost', { days: 20, blobs: [['ghost-layer', 50]] });
    const fresh = manifest('fresh', { days: 2, blobs: [['fresh-layer', 60]] });
    const [idx1, , arm1, att1] = build(1, 30);
    const withYoung = repo({
      tags: [
        ['v1', 'idx1', 30],
        ['v2', 'idx2', 1],
      ],
      manifests: [idx1!, young, arm1!, att1!, ...build(2, 1)],
      untagged: [...children, young, ghost, fresh],
    });
    const p = plan(withYoung, {
      keepNewest: 1,
      untaggedOlderThan: '7d',
    });
    expect(view(p)).toEqual({
      deletions: [
        'idx1 [v1] rules 300',
        'ghost untagged 150',
        'amd1 index_deleted with idx1 1100',
        'arm1 untagged with idx1 1000',
        'att1 untagged with idx1 70',
      ],
      protected: [],
      blast_radius: ['child amd1 ← idx1', 'child arm1 ← idx1', 'child att1 ← idx1'],
      reclaimable_bytes: 2620,
    });
    // The same children, all old, with the index that needs them kept.
    const old = [...build(2, 30).slice(1), ...build(1, 30).slice(1)];
    const oldBuilds = repo({
      tags: [
        ['v1', 'idx1', 30],
        ['v2', 'idx2', 1],
      ],
      manifests: [...build(1, 30), ...build(2, 30)],
      untagged: old,
    });
    const kept = plan(oldBuilds, { keepNewest: 2, untaggedOlderThan: '7d' });
    expect(kept.deletions).toEqual([]);
    expect(view(kept).protected.sort()).toEqual([
      'amd1: kept_index',
      'amd2: kept_index',
      'arm1: kept_index',
      'arm2: kept_index',
      'att1: kept_index',
      'att2: kept_index',
    ]);
    expect(kept.protected[0]!.wanted).toBe('untagged_older_than 7d: untagged, 30 days old');
  });

  it('deletes an old untagged index with its children, and keeps a child in use', () => {
    const p = plan(
      repo({ tags: [['v2', 'idx2', 1]], manifests: build(2, 1), untagged: build(1, 30) }),
      { untaggedOlderThan: '7d' },
      ['arm1'],
    );
    expect(view(p)).toEqual({
      deletions: ['idx1 untagged 300', 'amd1 untagged with idx1 1100', 'att1 untagged with idx1 70'],
      protected: ['arm1: in_use'],
      blast_radius: ['child amd1 ← idx1', 'child att1 ← idx1'],
      reclaimable_bytes: 1470,
    });
  });

  it('keeps a tagged platform manifest of a kept index a rule wanted, and one with a tag of its own', () => {
    const tagged = (tag: string, child: string, days: number) =>
      repo({
        tags: [
          ['v1', 'idx1', 30],
          ['v2', 'idx2', 1],
          [tag, child, days],
        ],
        manifests: [...build(1, 30), ...build(2, 1)],
      });
    const p = plan(tagged('amd64', 'amd2', 60), { keepNewest: 1 });
    expect(deleted(p)).toEqual(['idx1', 'amd1', 'arm1', 'att1']);
    expect(p.protected).toEqual([
      {
        repository: 'team/app',
        digest: d('amd2'),
        tags: ['amd64'],
        role: 'image',
        wanted: 'keep_newest 1: number 3 from the newest',
        why: [{ by: 'kept_index', detail: `platform manifest of the kept index ${d('idx2')} (v2)` }],
      },
    ]);
    // Its own tag keeps amd1 when the index goes, with no protection to list; its attestation,
    // a child of the deleted index, stays for it.
    const own = plan(tagged('amd64-only', 'amd1', 1), { keepNewest: 2 });
    expect(view(own)).toMatchObject({
      deletions: ['idx1 [v1] rules 300', 'arm1 index_deleted with idx1 1000'],
      protected: ['att1: kept_subject'],
    });
    expect(own.protected[0]!.wanted).toBe(`attestation manifest of the deleted index ${d('idx1')}`);
  });

  it('dates an untagged child by the listing when discovery read it without a time', () => {
    const undatedChild = manifest('loose-child');
    const p = plan(
      repo({
        tags: [['v2', 'idx2', 1]],
        manifests: [index('idx-old', ['loose-child']), undatedChild, ...build(2, 1)],
        untagged: [
          { ...index('idx-old', ['loose-child']), pushedAt: ago(30) },
          { ...undatedChild, pushedAt: ago(30) },
        ],
      }),
      { untaggedOlderThan: '7d' },
    );
    expect(view(p).deletions).toEqual(['idx-old untagged 300', 'loose-child untagged with idx-old 1100']);
  });

  it('keeps an index in use, and so every child of it', () => {
    expect(deleted(plan(inv(), { keepNewest: 0 }, ['idx1']))).toEqual(['idx2', 'amd2', 'arm2', 'att2']);
  });
});

describe('planRetention: signatures, attestations and SBOMs', () => {
  const sigTag = (subject: string, suffix = '.sig') => `sha256-${hex(subject)}${suffix}`;
  const inv = repo({
    tags: [
      ['v1', 'old', 40],
      ['v2', 'new', 1],
      [sigTag('old'), 'sig-old', 40],
      [sigTag('old', ''), 'fallback-old', 40],
      [sigTag('new'), 'sig-new', 40],
    ],
    manifests: [
      manifest('old'),
      manifest('new'),
      accessory('sig-old', 'signature', 'old'),
      // Found through the fallback index, which is not read as a manifest of its own.
      accessory('sbom-old', 'sbom', 'old', { blobs: [['spdx', 3000]] }),
      accessory('sbom-sig', 'signature', 'sbom-old'),
      accessory('sig-new', 'signature', 'new'),
    ],
  });

  it("takes a deleted subject's accessories, their tags and the accessories' own, after it", () => {
    const p = plan(inv, { keepNewest: 1 });
    expect(view(p)).toEqual({
      deletions: [
        'old [v1] rules 1100',
        `sig-old [${sigTag('old')}] subject_deleted with old 60`,
        'sbom-old subject_deleted with old 3050',
        `fallback-old [${sigTag('old', '')}] subject_deleted with old 0`,
        'sbom-sig subject_deleted with sbom-old 60',
      ],
      protected: [],
      blast_radius: [
        'accessory sig-old ← old',
        'accessory sbom-old ← old',
        'accessory fallback-old ← old',
        'accessory sbom-sig ← sbom-old',
      ],
      reclaimable_bytes: 4270,
    });
    expect(p.deletions[1]!.reason).toBe(`signature of the deleted ${d('old')}`);
    expect(p.blast_radius[0]!.detail).toBe(
      `the signature (tags ${sigTag('old')}) goes with ${d('old')} (v1)`,
    );
  });

  it("keeps a kept image's accessories whatever the rules say of their age", () => {
    expect(deleted(plan(inv, { olderThan: '30d' }))).not.toContain('sig-new');
    expect(deleted(plan(inv, { olderThan: '30d', untaggedOlderThan: '1h' }))).toEqual([
      'old',
      'sig-old',
      'sbom-old',
      'fallback-old',
      'sbom-sig',
    ]);
  });

  it('keeps an accessory keep_tags names even when its subject goes', () => {
    const p = plan(inv, { keepNewest: 1, keepTags: ['^sha256-.*\\.sig$'] });
    expect(deleted(p)).toEqual(['old', 'sbom-old', 'fallback-old', 'sbom-sig']);
    expect(view(p).protected).toEqual(['sig-old: keep_tags']);
    expect(p.protected[0]!.wanted).toBe(`signature of the deleted ${d('old')}`);
  });
});

describe('planRetention: orphans', () => {
  const gone = 'deleted-long-ago';
  const inv = (untagged?: InventoryManifest[]) =>
    repo({
      tags: [
        ['v1', 'img', 1],
        [`sha256-${hex(gone)}.sig`, 'orphan-sig', 90],
        [`sha256-${hex(gone)}`, 'orphan-fallback', 90],
        // GitLab answers the fallback tag with the subject itself: a tag on the image, not an orphan.
        [`sha256-${hex('img')}`, 'img', 1],
      ],
      manifests: [manifest('img'), accessory('orphan-sig', 'signature', gone)],
      ...(untagged ? { untagged } : {}),
    });

  it('lists accessories and fallback tags whose subject is not in the repository, to clean', () => {
    const p = plan(inv([accessory('lost-referrer', 'attestation', 'also-gone', { days: 1 })]), {
      keepNewest: 5,
    });
    expect(view(p)).toEqual({
      deletions: [
        'lost-referrer orphan 60',
        `orphan-fallback [sha256-${hex(gone)}] orphan 0`,
        `orphan-sig [sha256-${hex(gone)}.sig] orphan 60`,
      ].sort((a, b) => (d(a.split(' ')[0]!) < d(b.split(' ')[0]!) ? -1 : 1)),
      protected: [],
      blast_radius: p.deletions.map((x) => `orphan ${named(x.digest)}`),
      reclaimable_bytes: 120,
    });
    expect(p.deletions.find((x) => x.digest === d('orphan-sig'))!.reason).toBe(
      `orphan: signature of ${d(gone)}, which is not in the repository`,
    );
  });

  it('keeps an orphan keep_tags or in-use protects', () => {
    const p = plan(inv(), { keepNewest: 5, keepTags: ['^sha256-'] }, ['orphan-fallback']);
    expect(p.deletions).toEqual([]);
    expect(view(p).protected.sort()).toEqual(['orphan-fallback: in_use+keep_tags', 'orphan-sig: keep_tags']);
  });

  it('deletes the GitLab fallback tag with its image', () => {
    const p = plan(inv(), { keepNewest: 0, keepTags: ['^sha256-.*\\.sig$'] });
    expect(p.deletions[0]).toMatchObject({ digest: d('img'), tags: [`sha256-${hex('img')}`, 'v1'] });
  });
});

describe('planRetention: reclaimable bytes', () => {
  it('counts each blob once, only when no kept manifest references it', () => {
    const inv = repo({
      tags: [
        ['keep', 'k', 1],
        ['x', 'x', 10],
        ['y', 'y', 20],
      ],
      manifests: [
        manifest('k', {
          blobs: [
            ['base', 5000],
            ['k-own', 300],
          ],
        }),
        manifest('x', {
          blobs: [
            ['base', 5000],
            ['xy', 700],
            ['x-own', 1000],
            ['x-own', 1000],
          ],
        }),
        manifest('y', {
          blobs: [
            ['base', 5000],
            ['xy', 700],
            ['y-own', 2000],
            ['held', 444],
          ],
        }),
      ],
      untagged: [manifest('u', { days: 1, blobs: [['held', 444]] })],
    });
    const p = plan(inv, { keepNewest: 1, untaggedOlderThan: '7d' });
    expect(view(p).deletions).toEqual(['x [x] rules 1800', 'y [y] rules 2100']);
    expect(p.reclaimable_bytes).toBe(3900);
  });
});

describe('planRetention: when there is no plan', () => {
  it.each<[string, Partial<RepoSpec>, string]>([
    ['an incomplete discovery', { complete: false }, 'discovery of this repository was incomplete'],
    ['tags left unread by max_tags', { partial: true }, 'set max_tags: 0 on the selector'],
    [
      'tags left unread by the tag filters',
      { tagsListed: 3 },
      '2 of the 3 tags listed were not read (include_tags or exclude_tags)',
    ],
  ])('%s: says so, and plans nothing', (_name, spec, why) => {
    const p = planRetention(
      repo({ ...{ tags: [['v1', 'img1', 90]], manifests: [manifest('img1')] }, ...spec }),
      rules({ keepNewest: 0 }),
      new Set(),
      NOW,
    );
    expect(p.skipped).toContain(why);
    expect(p).toMatchObject({
      deletions: [],
      protected: [],
      blast_radius: [],
      reclaimable_bytes: 0,
      repository: 'team/app',
    });
  });

  it('plans when every tag listed was read', () => {
    expect(deleted(plan({ ...SIX, tagsListed: 6 }, { keepNewest: 3 }))).toEqual(['img3', 'img2', 'img1']);
  });

  it('notes an untagged rule on a registry that does not list untagged manifests', () => {
    expect(plan(SIX, { untaggedOlderThan: '7d' }).notes).toEqual([
      "untagged_older_than 7d: this registry's untagged manifests are not listed, so none is planned",
    ]);
  });
});

describe('planRetention: the same inventory in any order gives the same plan', () => {
  it('is independent of the order of tags and manifests', () => {
    const base = repo({
      tags: [
        ['v1', 'i1', 30],
        ['v2', 'i2', 20],
        ['v3', 'i3', 1],
        ['a', 'i2', 20],
        [`sha256-${hex('i1')}.sig`, 's1', 30],
      ],
      manifests: [
        index('i1', ['p1', 'q']),
        index('i2', ['p2', 'q']),
        index('i3', ['p3']),
        manifest('p1'),
        manifest('p2'),
        manifest('p3'),
        manifest('q'),
        accessory('s1', 'signature', 'i1'),
      ],
      untagged: [manifest('loose', { days: 40 })],
    });
    const reversed: RepositoryInventory = {
      ...base,
      tags: [...base.tags].reverse(),
      manifests: new Map([...base.manifests].reverse()),
      untagged: [...base.untagged!].reverse(),
    };
    const r = { keepNewest: 1, untaggedOlderThan: '7d' };
    const a = plan(base, r);
    expect(plan(reversed, r)).toEqual(a);
    expect(view(a).deletions).toEqual([
      'i2 [a v2] rules 300',
      'i1 [v1] rules 300',
      'loose untagged 1100',
      'p2 index_deleted with i2 1100',
      'q index_deleted with i2 1100',
      'p1 index_deleted with i1 1100',
      `s1 [sha256-${hex('i1')}.sig] subject_deleted with i1 60`,
    ]);
  });
});
