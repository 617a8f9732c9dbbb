import { describe, expect, it } from 'vitest';
import {
  evaluateLifecyclePolicy,
  type LifecycleImage,
  type LifecyclePolicy,
  parseLifecyclePolicy,
  wildcardMatch,
} from './ecr-lifecycle.js';

const NOW = new Date('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

/** The time `days` days (and `hours` hours) before NOW. */
function ago(days: number, hours = 0): string {
  return new Date(NOW.getTime() - days * 24 * HOUR - hours * HOUR).toISOString();
}

/** An image named by a letter, as AWS's examples name them. */
function image(name: string, tags: string[], pushedDaysAgo: number, extra: Partial<LifecycleImage> = {}) {
  return { digest: `sha256:${name}`, tags, pushedAt: ago(pushedDaysAgo), ...extra };
}

function policy(doc: unknown): LifecyclePolicy {
  const parsed = parseLifecyclePolicy(doc, 'policy');
  if ('errors' in parsed) throw new Error(parsed.errors.join('\n'));
  return parsed.policy;
}

type Selection = Record<string, unknown>;
function rule(
  rulePriority: number,
  selection: Selection,
  action: Record<string, unknown> = { type: 'expire' },
) {
  return { rulePriority, description: `Rule ${rulePriority}`, selection, action };
}

const ARCHIVE = { type: 'transition', targetStorageClass: 'archive' };

/** AWS's example rule: expire images archived more than `days` days ago. */
function expireArchived(rulePriority: number, days: number) {
  return rule(rulePriority, {
    tagStatus: 'any',
    storageClass: 'archive',
    countType: 'sinceImageTransitioned',
    countUnit: 'days',
    countNumber: days,
  });
}

/** AWS's example rule: archive every image pushed more than 30 days ago. */
const ARCHIVE_AFTER_30_DAYS = rule(
  1,
  { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 },
  ARCHIVE,
);

const names = (list: Array<{ digest: string }>) => list.map((d) => d.digest.replace('sha256:', '')).sort();

interface Case {
  name: string;
  rules: ReturnType<typeof rule>[];
  images: LifecycleImage[];
  expired: string[];
  archived?: string[];
}

// Every policy on AWS's "Examples of lifecycle policies in Amazon ECR" page, each with the
// repository contents the page gives (or, where it gives none, images on both sides of the rule)
// and the outcome the page states. The page's older edition wrote the same examples with
// tagPrefixList; those are kept as well.
const AWS_EXAMPLES: Case[] = [
  {
    name: 'filtering on image age: tagged prod* older than 14 days',
    rules: [
      rule(1, {
        tagStatus: 'tagged',
        tagPatternList: ['prod*'],
        countType: 'sinceImagePushed',
        countUnit: 'days',
        countNumber: 14,
      }),
    ],
    images: [
      image('A', ['prod'], 20),
      image('B', ['production-team1'], 15),
      image('C', ['prod-2'], 14),
      image('D', ['prod-3'], 3),
      image('E', ['preprod'], 30),
      image('F', ['dev-1'], 30),
      image('G', [], 30),
    ],
    expired: ['A', 'B'],
  },
  {
    name: 'filtering on image age (older edition): untagged older than 14 days',
    rules: [
      rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }),
    ],
    images: [image('A', [], 15), image('B', [], 13), image('C', ['v1'], 30)],
    expired: ['A'],
  },
  {
    name: 'filtering on last pulled time: archive what was not pulled in 90 days',
    rules: [
      rule(
        1,
        { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 },
        ARCHIVE,
      ),
    ],
    images: [
      image('A', ['v1'], 300, { lastPulledAt: ago(100) }),
      image('B', ['v2'], 300, { lastPulledAt: ago(10) }),
      // Never pulled: the push time counts.
      image('C', [], 120),
      image('D', ['v3'], 30),
      // Restored from archive 10 days ago and not pulled since: the restore counts.
      image('E', ['v0'], 400, { lastPulledAt: ago(300), lastActivatedAt: ago(10) }),
      // Restored long ago, pulled since: the pull counts.
      image('F', ['v-1'], 500, { lastPulledAt: ago(95), lastActivatedAt: ago(200) }),
    ],
    expired: [],
    archived: ['A', 'C', 'F'],
  },
  {
    name: 'filtering on archive transition time: expire what was archived more than 365 days ago',
    rules: [expireArchived(1, 365)],
    images: [
      image('A', ['v1'], 900, { storageClass: 'archive', lastArchivedAt: ago(400) }),
      image('B', ['v2'], 900, { storageClass: 'archive', lastArchivedAt: ago(100) }),
      image('C', ['v3'], 900),
    ],
    expired: ['A'],
  },
  {
    name: 'filtering on image count: keep one untagged image',
    rules: [rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })],
    images: [image('A', [], 3), image('B', [], 2), image('C', [], 1), image('D', ['v1'], 10)],
    expired: ['A', 'B'],
  },
  ...(['tagPatternList', 'tagPrefixList'] as const).flatMap((list): Case[] => {
    const first = list === 'tagPatternList' ? ['prod*'] : ['prod'];
    const second = list === 'tagPatternList' ? ['beta*'] : ['beta'];
    const repo = [
      image('A', ['beta-1', 'prod-1'], 10),
      image('B', ['beta-2', 'prod-2'], 9),
      image('C', ['beta-3'], 8),
    ];
    const count1 = (tags: string[]) => ({
      tagStatus: 'tagged',
      [list]: tags,
      countType: 'imageCountMoreThan',
      countNumber: 1,
    });
    return [
      {
        name: `multiple rules, example A (${list}): prod before beta`,
        rules: [rule(1, count1(first)), rule(2, count1(second))],
        images: repo,
        expired: ['A'],
      },
      {
        name: `multiple rules, example B (${list}): beta before prod`,
        rules: [rule(1, count1(second)), rule(2, count1(first))],
        images: repo,
        expired: ['A', 'B'],
      },
    ];
  }),
  ...(['tagPatternList', 'tagPrefixList'] as const).flatMap((list): Case[] => {
    const both = list === 'tagPatternList' ? ['alpha*', 'beta*'] : ['alpha', 'beta'];
    return [
      {
        name: `multiple tags in a single rule, example A (${list}): must match all`,
        rules: [
          rule(1, {
            tagStatus: 'tagged',
            [list]: both,
            countType: 'sinceImagePushed',
            countNumber: 5,
            countUnit: 'days',
          }),
        ],
        images: [
          image('A', ['alpha-1'], 12),
          image('B', ['beta-1'], 11),
          image('C', ['alpha-2', 'beta-2'], 10),
          image('D', ['alpha-3'], 4),
          image('E', ['beta-3'], 3),
          image('F', ['alpha-4', 'beta-4'], 2),
        ],
        expired: ['C'],
      },
      {
        name: `multiple tags in a single rule, example B (${list}): tags are not exclusive`,
        rules: [
          rule(1, { tagStatus: 'tagged', [list]: both, countType: 'imageCountMoreThan', countNumber: 1 }),
        ],
        images: [
          image('A', ['alpha-1', 'beta-1', 'gamma-1'], 10),
          image('B', ['alpha-2', 'beta-2'], 9),
          image('C', ['alpha-3', 'beta-3', 'gamma-2'], 8),
        ],
        expired: ['A', 'B'],
      },
    ];
  }),
  {
    name: 'all images, example A: keep only the newest',
    rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })],
    images: [
      image('A', ['alpha-1'], 4),
      image('B', ['beta-1'], 3),
      image('C', [], 2),
      image('D', ['alpha-2'], 1),
    ],
    expired: ['A', 'B', 'C'],
  },
  {
    name: 'all images, example B: every rule type in one policy',
    rules: [
      rule(1, {
        tagStatus: 'tagged',
        tagPatternList: ['alpha*'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }),
      rule(3, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
    // D and E were both pushed "1 day ago"; the page keeps E as the newest, so E is pushed a
    // little later here (and is still not more than a day old for rule 2).
    images: [
      image('A', ['alpha-1', 'beta-1'], 4),
      image('B', [], 3),
      image('C', ['alpha-2'], 2),
      image('D', ['git hash'], 1),
      { digest: 'sha256:E', tags: [], pushedAt: ago(0, 23) },
    ],
    expired: ['A', 'B', 'D'],
  },
  {
    name: 'archive example: archive prod* images older than 30 days',
    rules: [
      rule(
        1,
        {
          tagStatus: 'tagged',
          tagPatternList: ['prod*'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 30,
        },
        ARCHIVE,
      ),
    ],
    images: [image('A', ['prod-1'], 31), image('B', ['prod-2'], 29), image('C', ['dev-1'], 60)],
    expired: [],
    archived: ['A'],
  },
  {
    name: 'archive example: archive after 30 days, expire after 365 days in archive',
    rules: [ARCHIVE_AFTER_30_DAYS, expireArchived(2, 365)],
    images: [
      image('A', ['v3'], 40),
      image('B', ['v4'], 10),
      image('C', ['v1'], 800, { storageClass: 'archive', lastArchivedAt: ago(400) }),
      image('D', ['v2'], 500, { storageClass: 'archive', lastArchivedAt: ago(100) }),
    ],
    expired: ['C'],
    archived: ['A'],
  },
];

/**
 * `n` multi-architecture images as buildx pushes them to ECR: a tagged image index (v0 oldest)
 * whose amd64 and arm64 platform manifests are untagged images of their own, pushed with it.
 */
function multiArch(n: number): LifecycleImage[] {
  return Array.from({ length: n }, (_, i) => {
    const platforms = [`I${i}-amd64`, `I${i}-arm64`].map((p) => image(p, [], 20 - i));
    return [image(`I${i}`, [`v${i}`], 20 - i, { children: platforms.map((p) => p.digest) }), ...platforms];
  }).flat();
}

const countMoreThan = (tagStatus: string, countNumber: number, extra: Selection = {}) => ({
  tagStatus,
  ...extra,
  countType: 'imageCountMoreThan',
  countNumber,
});

// How ECR counts an image index: AWS's evaluation rules say an image a manifest list references
// cannot expire before the list does, and a preview in ECR ranks the lists, not their platform
// manifests (docs/retention.md, "How the policy is read"). Eight multi-arch images are eight.
const MANIFEST_LIST_COUNTS: Case[] = [
  {
    name: 'tagged ["*"] imageCountMoreThan 7 over 8 multi-arch images: the oldest index alone',
    rules: [rule(1, countMoreThan('tagged', 7, { tagPatternList: ['*'] }))],
    images: multiArch(8),
    expired: ['I0'],
  },
  {
    name: 'any imageCountMoreThan 7 over 8 multi-arch images: the platforms count with their index',
    rules: [rule(1, countMoreThan('any', 7))],
    images: multiArch(8),
    expired: ['I0'],
  },
  {
    name: 'untagged imageCountMoreThan 1: platform manifests of kept indexes are not counted, loose images are',
    rules: [rule(1, countMoreThan('untagged', 1))],
    images: [...multiArch(2), image('old-build', [], 30), image('newer-build', [], 25)],
    expired: ['old-build'],
  },
];

describe('evaluateLifecyclePolicy: the examples AWS documents', () => {
  it.each([...AWS_EXAMPLES, ...MANIFEST_LIST_COUNTS])(
    '$name',
    ({ rules, images, expired, archived = [] }) => {
      const result = evaluateLifecyclePolicy(policy({ rules }), images, NOW);
      expect(names(result.expired)).toEqual(expired);
      expect(names(result.archived)).toEqual(archived);
    },
  );
});

describe('evaluateLifecyclePolicy: decisions and what each rule keeps', () => {
  const repo = [
    image('A', ['beta-1', 'prod-1'], 10),
    image('B', ['beta-2', 'prod-2'], 9),
    image('C', ['beta-3'], 8),
  ];
  const prodThenBeta = policy({
    rules: [
      rule(1, {
        tagStatus: 'tagged',
        tagPatternList: ['prod*'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      rule(2, {
        tagStatus: 'tagged',
        tagPatternList: ['beta*'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
    ],
  });

  it('names the rule, its description and the reason of every expiry', () => {
    expect(evaluateLifecyclePolicy(prodThenBeta, repo, NOW).expired).toEqual([
      {
        digest: 'sha256:A',
        tags: ['beta-1', 'prod-1'],
        rulePriority: 1,
        description: 'Rule 1',
        reason: 'imageCountMoreThan 1: number 2 by push time, newest first',
      },
    ]);
  });

  it('lists, per rule, what it selected and keeps: the newest, and what a higher rule selected first', () => {
    expect(evaluateLifecyclePolicy(prodThenBeta, repo, NOW).kept).toEqual([
      {
        digest: 'sha256:B',
        tags: ['beta-2', 'prod-2'],
        rulePriority: 1,
        reason: 'imageCountMoreThan 1: among the newest 1',
      },
      {
        digest: 'sha256:B',
        tags: ['beta-2', 'prod-2'],
        rulePriority: 2,
        reason:
          'imageCountMoreThan 1: number 2 by push time, newest first, but rule 1 selected it first and only that rule may act on it',
      },
      {
        digest: 'sha256:C',
        tags: ['beta-3'],
        rulePriority: 2,
        reason: 'imageCountMoreThan 1: among the newest 1',
      },
    ]);
  });

  it('lists expiries in rule order, oldest first within a rule', () => {
    const p = policy({
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPrefixList: ['v'],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
        rule(2, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }),
      ],
    });
    const images = [
      image('U2', [], 2),
      image('V1', ['v1'], 5),
      image('U1', [], 9),
      image('V2', ['v2'], 3),
      image('V3', ['v3'], 1),
    ];
    expect(evaluateLifecyclePolicy(p, images, NOW).expired.map((d) => d.digest)).toEqual([
      'sha256:V1',
      'sha256:V2',
      'sha256:U1',
    ]);
  });

  it('reads age strictly: exactly countNumber days old is not older', () => {
    const p = policy({
      rules: [
        rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }),
      ],
    });
    const images = [
      { digest: 'sha256:exact', tags: [], pushedAt: ago(7) },
      {
        digest: 'sha256:past',
        tags: [],
        pushedAt: new Date(NOW.getTime() - 7 * 24 * HOUR - 1).toISOString(),
      },
    ];
    expect(names(evaluateLifecyclePolicy(p, images, NOW).expired)).toEqual(['past']);
  });

  it('orders images pushed at the same time by digest, so a preview is the same every run', () => {
    const p = policy({
      rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })],
    });
    const images = [image('b', ['x'], 1), image('a', ['y'], 1), image('c', ['z'], 1)];
    expect(names(evaluateLifecyclePolicy(p, images, NOW).expired)).toEqual(['b', 'c']);
    expect(names(evaluateLifecyclePolicy(p, [...images].reverse(), NOW).expired)).toEqual(['b', 'c']);
  });

  it('counts a restored image from its restore, not its push', () => {
    const p = policy({
      rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })],
    });
    const images = [image('old', ['v1'], 300, { lastActivatedAt: ago(0, 1) }), image('new', ['v2'], 2)];
    expect(names(evaluateLifecyclePolicy(p, images, NOW).expired)).toEqual(['new']);
  });

  it('keeps an archived image whose listing gave no archive time, saying so', () => {
    const p = policy({
      rules: [expireArchived(1, 90)],
    });
    const result = evaluateLifecyclePolicy(p, [image('A', [], 900, { storageClass: 'archive' })], NOW);
    expect(result.expired).toEqual([]);
    expect(result.kept).toEqual([
      {
        digest: 'sha256:A',
        tags: [],
        rulePriority: 1,
        reason: 'sinceImageTransitioned: the listing gave no archive time, so it stays',
      },
    ]);
  });
});

describe('evaluateLifecyclePolicy: manifest lists and referrers', () => {
  const untaggedOlderThan7 = policy({
    rules: [
      rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }),
    ],
  });

  it('keeps the platform images of a manifest list that stays', () => {
    const images = [
      image('index', ['v1'], 30, { children: ['sha256:amd64', 'sha256:arm64'] }),
      image('amd64', [], 30),
      image('arm64', [], 30),
      image('orphan', [], 30),
    ];
    const result = evaluateLifecyclePolicy(untaggedOlderThan7, images, NOW);
    expect(names(result.expired)).toEqual(['orphan']);
    expect(result.kept.map((k) => [k.digest, k.reason])).toEqual([
      [
        'sha256:arm64',
        'sinceImagePushed 7 days: pushed 30 days ago, but manifest list sha256:index references it and stays',
      ],
      [
        'sha256:amd64',
        'sinceImagePushed 7 days: pushed 30 days ago, but manifest list sha256:index references it and stays',
      ],
    ]);
  });

  it('ranks manifest lists, not their platform images, and says why the platforms stay', () => {
    const images = [
      image('old', ['v1'], 20, { children: ['sha256:old-amd64'] }),
      image('old-amd64', [], 20),
      image('new', ['v2'], 10, { children: ['sha256:new-amd64'] }),
      image('new-amd64', [], 10),
    ];
    const keepOne = policy({
      rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })],
    });
    const result = evaluateLifecyclePolicy(keepOne, images, NOW);
    expect(result.expired.map((d) => [d.digest, d.reason])).toEqual([
      ['sha256:old', 'imageCountMoreThan 1: number 2 by push time, newest first'],
    ]);
    expect(result.kept.map((k) => [k.digest, k.reason])).toEqual([
      [
        'sha256:old-amd64',
        'imageCountMoreThan 1: part of an image index, so it counts with the index that references it, not on its own',
      ],
      [
        'sha256:new-amd64',
        'imageCountMoreThan 1: part of an image index, so it counts with the index that references it, not on its own',
      ],
      ['sha256:new', 'imageCountMoreThan 1: among the newest 1'],
    ]);
  });

  it('lets the platform images go after a manifest list the policy expires', () => {
    const images = [
      image('index', [], 30, { children: ['sha256:amd64'] }),
      image('amd64', [], 30),
      image('young', [], 1, { children: ['sha256:arm64'] }),
      image('arm64', [], 30),
    ];
    const result = evaluateLifecyclePolicy(untaggedOlderThan7, images, NOW);
    expect(result.expired.map((d) => [d.digest, d.reason])).toEqual([
      ['sha256:index', 'sinceImagePushed 7 days: pushed 30 days ago'],
      ['sha256:amd64', 'sinceImagePushed 7 days: pushed 30 days ago, after manifest list sha256:index'],
    ]);
    expect(result.kept.map((k) => k.digest)).toEqual(['sha256:young', 'sha256:arm64']);
  });

  it('takes referrers with their subject, and leaves referrers of what stays', () => {
    const p = policy({
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['v*'],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
      ],
    });
    const images = [
      image('old', ['v1'], 10),
      image('sig', [], 10, { subject: 'sha256:old' }),
      image('sbom-sig', [], 10, { subject: 'sha256:sbom' }),
      image('sbom', [], 10, { subject: 'sha256:old' }),
      image('new', ['v2'], 1),
      image('new-sig', [], 1, { subject: 'sha256:new' }),
    ];
    const result = evaluateLifecyclePolicy(p, images, NOW);
    expect(names(result.expired)).toEqual(['old', 'sbom', 'sbom-sig', 'sig']);
    expect(result.expired.find((d) => d.digest === 'sha256:sig')).toEqual({
      digest: 'sha256:sig',
      tags: [],
      rulePriority: 1,
      description: 'Rule 1',
      reason: 'its subject sha256:old expires, and ECR takes referrers with it',
    });
  });
  it('keeps a referrer that follows its subject while a manifest list that stays references it', () => {
    const images = [
      image('index', ['v1'], 30, { children: ['sha256:amd64', 'sha256:att', 'sha256:other'] }),
      image('amd64', ['v1-amd64'], 30),
      image('att', [], 30, { subject: 'sha256:amd64' }),
      image('other', [], 30, { subject: 'sha256:gone' }),
      image('gone', ['old-amd64'], 30),
    ];
    const p = policy({
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['*-amd64'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 7,
        }),
        rule(2, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1000 }),
      ],
    });
    const result = evaluateLifecyclePolicy(p, images, NOW);
    expect(names(result.expired)).toEqual(['gone']);
    expect(
      result.kept.filter((k) => k.reason.includes('manifest list')).map((k) => [k.digest, k.reason]),
    ).toEqual([
      [
        'sha256:amd64',
        'sinceImagePushed 7 days: pushed 30 days ago, but manifest list sha256:index references it and stays',
      ],
      [
        'sha256:other',
        'its subject sha256:gone expires, and ECR takes referrers with it, but manifest list sha256:index references it and stays',
      ],
    ]);
  });

  it('puts a subject before its referrers even when a higher rule expires the referrer', () => {
    const p = policy({
      rules: [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['sha256-*.sig'],
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 1,
        }),
        rule(2, {
          tagStatus: 'tagged',
          tagPatternList: ['v*'],
          countType: 'imageCountMoreThan',
          countNumber: 1,
        }),
      ],
    });
    const images = [
      image('sig', ['sha256-old.sig'], 10, { subject: 'sha256:old' }),
      image('old', ['v1'], 10),
      image('new', ['v2'], 1),
    ];
    expect(evaluateLifecyclePolicy(p, images, NOW).expired.map((d) => [d.digest, d.rulePriority])).toEqual([
      ['sha256:old', 2],
      ['sha256:sig', 1],
    ]);
  });
});

describe('wildcardMatch', () => {
  it.each<[string, string, boolean]>([
    ['prod*', 'prod', true],
    ['prod*', 'prod1', true],
    ['prod*', 'production-team1', true],
    ['prod*', 'preprod', false],
    ['*prod*', 'repo-production', true],
    ['*prod*', 'prod-team', true],
    ['*prod*', 'dev', false],
    ['prod', 'prod', true],
    ['prod', 'prod1', false],
    ['*test*1*2*3', 'my-test-1-2-3', true],
    ['*test*1*2*3', 'my-test-1-2-3-4', false],
    ['test*1*2*3*', 'test123', true],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*', '', true],
    ['v*.*', 'v1.2', true],
    ['v*.*', 'v12', false],
    ['PROD*', 'prod1', false],
  ])('%s ~ %s: %s', (pattern, tag, expected) => {
    expect(wildcardMatch(pattern, tag)).toBe(expected);
  });
});

describe('parseLifecyclePolicy', () => {
  const valid = {
    rules: [
      rule(1, {
        tagStatus: 'tagged',
        tagPatternList: ['prod*'],
        countType: 'imageCountMoreThan',
        countNumber: 10,
      }),
    ],
  };

  it('reads the document as an object or as the JSON text AWS prints', () => {
    expect(parseLifecyclePolicy(valid, 'p')).toEqual({ policy: valid });
    expect(parseLifecyclePolicy(JSON.stringify(valid), 'p')).toEqual({ policy: valid });
  });

  it('names the field of text that is not JSON', () => {
    const result = parseLifecyclePolicy('{"rules": [', 'retention.ecr_lifecycle_policy');
    expect(result).toEqual({
      errors: [expect.stringMatching(/^retention\.ecr_lifecycle_policy: not valid JSON \(/)],
    });
  });

  const withSelection = (selection: Selection, action: Record<string, unknown> = { type: 'expire' }) => ({
    rules: [rule(1, selection, action)],
  });

  it.each<[string, unknown, string[]]>([
    ['no rules', { rules: [] }, ['f.rules: needs at least one rule']],
    ['rules missing', {}, ['f.rules: missing; add it']],
    [
      'an unknown key, with the key it resembles',
      { rules: valid.rules, rulez: 1 },
      ['f.rulez: not a lifecycle policy key; did you mean rules?'],
    ],
    [
      'an unknown selection key',
      withSelection({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1, tagPrefix: ['x'] }),
      ['f.rules[0].selection.tagPrefix: not a lifecycle policy key; did you mean tagPrefixList?'],
    ],
    [
      'a tagStatus AWS does not know',
      withSelection({
        tagStatus: 'Tagged',
        tagPrefixList: ['v'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      [
        'f.rules[0].selection.tagStatus: "Tagged" is not one of "tagged", "untagged", "any"; did you mean "tagged"?',
      ],
    ],
    [
      'a countType AWS does not know',
      withSelection({ tagStatus: 'any', countType: 'imageCountMoreThen', countNumber: 1 }),
      [
        'f.rules[0].selection.countType: "imageCountMoreThen" is not one of "imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"; did you mean "imageCountMoreThan"?',
      ],
    ],
    [
      'countNumber 0',
      withSelection({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 0 }),
      ['f.rules[0].selection.countNumber: 0 is not accepted; use a positive whole number (1 or more)'],
    ],
    [
      'a fractional countNumber',
      withSelection({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1.5 }),
      ['f.rules[0].selection.countNumber: expected a whole number, got 1.5'],
    ],
    [
      'a countUnit other than days',
      withSelection({ tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'hours', countNumber: 1 }),
      ['f.rules[0].selection.countUnit: "hours" is not one of "days"'],
    ],
    [
      'tagged without a list',
      withSelection({ tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 }),
      [
        'f.rules[0].selection.tagStatus: "tagged" needs the tags to select: add tagPatternList (wildcards, e.g. ["prod*"]) or tagPrefixList (e.g. ["prod"])',
      ],
    ],
    [
      'tagged with both lists',
      withSelection({
        tagStatus: 'tagged',
        tagPrefixList: ['prod'],
        tagPatternList: ['prod*'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      [
        'f.rules[0].selection.tagPrefixList: a rule takes tagPatternList or tagPrefixList, not both; keep one here (another rule may use the other)',
      ],
    ],
    [
      'untagged with a prefix list',
      withSelection({
        tagStatus: 'untagged',
        tagPrefixList: ['prod'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      [
        'f.rules[0].selection.tagPrefixList: only used with tagStatus "tagged" (this rule has "untagged"); remove it, or set tagStatus to "tagged"',
      ],
    ],
    [
      'any with a pattern list',
      withSelection({
        tagStatus: 'any',
        tagPatternList: ['prod*'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      [
        'f.rules[0].selection.tagPatternList: only used with tagStatus "tagged" (this rule has "any"); remove it, or set tagStatus to "tagged"',
      ],
    ],
    [
      'an empty tag list and an empty tag',
      withSelection({
        tagStatus: 'tagged',
        tagPrefixList: [],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      ['f.rules[0].selection.tagPrefixList: must not be empty'],
    ],
    [
      "more than four wildcards in a pattern (AWS's own example of an invalid list)",
      withSelection({
        tagStatus: 'tagged',
        tagPatternList: ['*test*1*2*3', 'test*1*2*3*4*5*6'],
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      [
        'f.rules[0].selection.tagPatternList[1]: "test*1*2*3*4*5*6" has 6 wildcards (*); AWS allows at most 4 per pattern',
      ],
    ],
    [
      'an age count without countUnit',
      withSelection({ tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 14 }),
      [
        'f.rules[0].selection.countUnit: missing; countType sinceImagePushed counts days: add "countUnit": "days"',
      ],
    ],
    [
      'countUnit with imageCountMoreThan',
      withSelection({ tagStatus: 'any', countType: 'imageCountMoreThan', countUnit: 'days', countNumber: 1 }),
      [
        'f.rules[0].selection.countUnit: only used with countType sinceImagePushed, sinceImagePulled or sinceImageTransitioned (this rule has imageCountMoreThan); remove it',
      ],
    ],
    [
      'sinceImagePulled with expire',
      withSelection({ tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 }),
      [
        'f.rules[0].action.type: countType sinceImagePulled can only archive: set "type": "transition" with "targetStorageClass": "archive"; to delete by pull time, archive with this rule and expire with a sinceImageTransitioned rule',
      ],
    ],
    [
      'transition without targetStorageClass',
      withSelection(
        { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 90 },
        { type: 'transition' },
      ),
      ['f.rules[0].action.targetStorageClass: missing; "transition" needs "targetStorageClass": "archive"'],
    ],
    [
      'an action AWS does not know',
      withSelection(
        { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 },
        { type: 'delete' },
      ),
      ['f.rules[0].action.type: "delete" is not one of "expire", "transition"'],
    ],
    [
      'sinceImageTransitioned on standard images, archiving, under 90 days',
      withSelection(
        { tagStatus: 'any', countType: 'sinceImageTransitioned', countUnit: 'days', countNumber: 30 },
        ARCHIVE,
      ),
      [
        'f.rules[0].selection.storageClass: countType sinceImageTransitioned selects archived images: set "storageClass": "archive"',
        'f.rules[0].action.type: countType sinceImageTransitioned can only expire: set "type": "expire"',
        'f.rules[0].selection.countNumber: 30 days is less than the 90-day minimum an image stays in archive; use 90 or more',
      ],
    ],
    [
      'storageClass archive with another count',
      withSelection({
        tagStatus: 'any',
        storageClass: 'archive',
        countType: 'imageCountMoreThan',
        countNumber: 1,
      }),
      [
        'f.rules[0].selection.storageClass: "archive" is only used with countType sinceImageTransitioned (this rule has imageCountMoreThan); remove it or set it to "standard"',
      ],
    ],
    [
      'rulePriority missing, zero, or shared',
      {
        rules: [
          {
            ...rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }),
            rulePriority: undefined,
          },
          rule(0, {
            tagStatus: 'tagged',
            tagPrefixList: ['a'],
            countType: 'imageCountMoreThan',
            countNumber: 1,
          }),
        ],
      },
      [
        'f.rules[0].rulePriority: missing; add it',
        'f.rules[1].rulePriority: 0 is not accepted; use a positive whole number (1 or more)',
      ],
    ],
    [
      'two rules with one rulePriority',
      {
        rules: [
          rule(3, {
            tagStatus: 'tagged',
            tagPrefixList: ['a'],
            countType: 'imageCountMoreThan',
            countNumber: 1,
          }),
          rule(3, {
            tagStatus: 'tagged',
            tagPrefixList: ['b'],
            countType: 'imageCountMoreThan',
            countNumber: 1,
          }),
        ],
      },
      ['f.rules[1].rulePriority: 3 is also the rulePriority of rules[0]; give each rule its own'],
    ],
    [
      'an "any" rule that is not last',
      {
        rules: [
          rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }),
          rule(2, {
            tagStatus: 'tagged',
            tagPrefixList: ['a'],
            countType: 'imageCountMoreThan',
            countNumber: 1,
          }),
        ],
      },
      [
        'f.rules[0].selection.tagStatus: a rule with "any" must have the highest rulePriority of the standard rules (it is evaluated last), but rules[1] has 2; raise this rule\'s rulePriority above it',
      ],
    ],
    [
      'two untagged rules',
      {
        rules: [
          rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 5 }),
          rule(2, {
            tagStatus: 'untagged',
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 5,
          }),
        ],
      },
      [
        'f.rules[1].selection.tagStatus: only one rule per storage class may select untagged images, and rules[0] already does (standard); merge the two rules',
      ],
    ],
    [
      'two rules with the same prefixes',
      {
        rules: [
          rule(1, {
            tagStatus: 'tagged',
            tagPrefixList: ['a', 'b'],
            countType: 'imageCountMoreThan',
            countNumber: 5,
          }),
          rule(2, {
            tagStatus: 'tagged',
            tagPrefixList: ['b', 'a'],
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 5,
          }),
        ],
      },
      [
        'f.rules[1].selection.tagPrefixList: the same prefixes as rules[0]; the standard rules must each have a unique set of prefixes, so merge the two rules',
      ],
    ],
  ])('%s', (_name, doc, errors) => {
    expect(parseLifecyclePolicy(doc, 'f')).toEqual({ errors });
  });

  it('accepts an "any" rule per storage class, each last among its class (AWS\'s archive-and-expire example)', () => {
    const doc = {
      rules: [ARCHIVE_AFTER_30_DAYS, expireArchived(2, 365)],
    };
    expect(parseLifecyclePolicy(doc, 'f')).toEqual({ policy: doc });
  });

  it('accepts rules that mix pattern and prefix lists, and priorities that are not sequential', () => {
    const doc = {
      rules: [
        rule(10, {
          tagStatus: 'tagged',
          tagPrefixList: ['16.'],
          countType: 'imageCountMoreThan',
          countNumber: 9999,
        }),
        rule(20, {
          tagStatus: 'tagged',
          tagPatternList: ['16_*'],
          countType: 'imageCountMoreThan',
          countNumber: 500,
        }),
      ],
    };
    expect(parseLifecyclePolicy(doc, 'f')).toEqual({ policy: doc });
  });
});
