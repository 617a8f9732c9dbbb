import { describe, expect, it } from 'vitest';
import type { GraphChanges } from '../graph/diff.js';
import { OUTPUT_BUDGET } from './bounded-json.js';
import {
  CHANGES_FILE,
  CHANGES_HEADING,
  changeLists,
  changeOutputs,
  compileImmutableTags,
  immutableTagViolations,
  renderChangeNote,
  renderChangeReport,
} from './change-report.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

function changes(over: Partial<GraphChanges> = {}): GraphChanges {
  return {
    firstRun: false,
    previousGeneratedAt: '2026-01-01T00:00:00Z',
    newRepositories: [],
    removedRepositories: [],
    newTags: [],
    movedTags: [],
    removedTags: [],
    newPlatforms: [],
    unverified: [],
    firstSeen: [],
    ...over,
  };
}

describe('renderChangeReport', () => {
  it('lists tags the previous, incomplete inventory could not vouch for as first seen, not new', () => {
    const md = renderChangeReport(
      changes({
        firstSeen: [
          {
            provider: 'hub',
            repository: 'acme/web',
            tags: ['v1', 'v2'],
            reason: 'the previous inventory of the repository was incomplete (timeout)',
          },
        ],
      }),
    );
    expect(md).toContain('No changes since the inventory of 2026-01-01T00:00:00Z.');
    expect(md).toContain(
      '- acme/web: 2 tags not in the previous inventory, not reported as new because the previous inventory of the repository was incomplete',
    );
    expect(
      renderChangeNote(
        changes({ firstSeen: [{ provider: 'hub', repository: 'r', tags: ['t'], reason: 'x' }] }),
      ),
    ).toBeUndefined();
  });

  it('lists every kind of change with both digests for a moved tag', () => {
    const md = renderChangeReport(
      changes({
        newRepositories: [{ provider: 'hub', repository: 'acme/web' }],
        newTags: [{ provider: 'hub', repository: 'acme/web', tag: 'latest', digest: A }],
        movedTags: [{ provider: 'hub', repository: 'acme/api', tag: 'v1.0.0', from: A, to: B }],
        removedTags: [{ provider: 'hub', repository: 'acme/api', tag: 'old', digest: B }],
        newPlatforms: [
          { provider: 'hub', repository: 'redis', tag: '7', digest: A, platforms: ['linux/arm/v7'] },
        ],
      }),
    )!;
    expect(md.startsWith(`${CHANGES_HEADING}\n\n`)).toBe(true);
    expect(md).toContain(
      '1 new repository, 1 new tag, 1 moved tag, 1 removed tag, 1 tag with new platforms since the inventory of 2026-01-01T00:00:00Z.',
    );
    expect(md).toContain(`- acme/api:v1.0.0: \`${A}\` → \`${B}\``);
    expect(md).toContain('- acme/web:latest `aaaaaaaaaaaa`');
    expect(md).toContain('- acme/api:old (was `bbbbbbbbbbbb`)');
    expect(md).toContain('- redis:7: linux/arm/v7');
  });

  it('escapes registry strings and names providers only when there are several', () => {
    const md = renderChangeReport(
      changes({
        newTags: [
          { provider: 'hub', repository: 'a', tag: 'x<script>|', digest: 'not a digest `' },
          { provider: 'gh_cr', repository: 'a', tag: 'y', digest: A },
        ],
      }),
    )!;
    expect(md).toContain('- hub / a:x&lt;script&gt;\\| not a digest \\`');
    expect(md).toContain('- gh\\_cr / a:y');
  });

  it('says why unverified tags are not called removed', () => {
    const md = renderChangeReport(
      changes({
        unverified: [
          { provider: 'hub', repository: 'acme/api', tags: ['v2', 'v3'], reason: 'discovery was incomplete' },
        ],
      }),
    )!;
    expect(md).toContain('No changes since the inventory of 2026-01-01T00:00:00Z.');
    expect(md).toContain(
      '- acme/api: 2 previously inventoried tags not seen, not reported as removed because discovery was incomplete',
    );
  });

  it('caps long lists', () => {
    const newTags = Array.from({ length: 130 }, (_, i) => ({
      provider: 'hub',
      repository: 'r',
      tag: `t${i}`,
      digest: A,
    }));
    const md = renderChangeReport(changes({ newTags }))!;
    expect(md.split('\n').filter((l) => l.startsWith('- r:t'))).toHaveLength(100);
    expect(md).toContain('… and 30 more');
  });

  it('has no section for no comparison, a first run, or no changes; a note says which', () => {
    expect(renderChangeReport(undefined)).toBeUndefined();
    expect(renderChangeReport(changes({ firstRun: true }))).toBeUndefined();
    expect(renderChangeReport(changes())).toBeUndefined();
    expect(renderChangeNote(undefined)).toBeUndefined();
    expect(renderChangeNote(changes({ firstRun: true }))).toContain('first inventory');
    expect(renderChangeNote(changes())).toBe('Changes: none since the inventory of 2026-01-01T00:00:00Z.');
  });
});

describe('changeOutputs', () => {
  it('JSON arrays of tags with digests, and changed', () => {
    const { values: out, cuts } = changeOutputs(
      changes({
        newTags: [{ provider: 'hub', repository: 'acme/api', tag: 'v2', digest: A }],
        movedTags: [{ provider: 'hub', repository: 'acme/api', tag: 'v1', from: A, to: B }],
      }),
    );
    expect(cuts).toEqual([]);
    expect(JSON.parse(out['new-tags'])).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'v2', digest: A },
    ]);
    expect(JSON.parse(out['moved-tags'])).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'v1', from: A, to: B },
    ]);
    expect(out['removed-tags']).toBe('[]');
    expect(out.changed).toBe('true');
    expect(changeOutputs(undefined).values).toEqual({
      'new-tags': '[]',
      'moved-tags': '[]',
      'removed-tags': '[]',
      changed: 'false',
    });
  });
});

describe('changeLists and cut change outputs', () => {
  const many = Array.from({ length: 1500 }, (_, i) => ({
    provider: 'hub',
    repository: 'acme/api',
    tag: `build-${i}-hunter2-canary`,
    digest: A,
  }));

  it("changeLists holds every item in the outputs' shapes; the outputs hold a prefix and say so", () => {
    const c = changes({
      newTags: many,
      movedTags: [{ provider: 'hub', repository: 'acme/api', tag: 'v1', from: A, to: B }],
      removedTags: many.slice(0, 2),
    });
    const lists = changeLists(c);
    expect(lists.new_tags).toEqual(many);
    expect(lists.moved_tags).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'v1', from: A, to: B },
    ]);
    expect(lists.removed_tags).toEqual(many.slice(0, 2));
    expect(changeLists(undefined)).toEqual({ new_tags: [], moved_tags: [], removed_tags: [] });

    const redact = (json: string) => json.split('hunter2-canary').join('***');
    const { values, cuts } = changeOutputs(c, redact);
    const kept = JSON.parse(values['new-tags']) as unknown[];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(
      many.slice(0, kept.length).map((t) => ({ ...t, tag: t.tag.replace('hunter2-canary', '***') })),
    );
    expect(Buffer.byteLength(values['new-tags'])).toBeLessThanOrEqual(OUTPUT_BUDGET.utf8);
    expect(cuts).toEqual([{ output: 'new-tags', kept: kept.length, total: 1500, file: CHANGES_FILE }]);
    expect(JSON.parse(values['removed-tags'])).toHaveLength(2);
    expect(values.changed).toBe('true');
  });
});

describe('immutable-tags guard', () => {
  it('names each matching moved tag with its old and new digest', () => {
    const compiled = compileImmutableTags('^v?\\d+\\.\\d+\\.\\d+$');
    if (!('regex' in compiled)) throw new Error(compiled.error);
    const c = changes({
      movedTags: [
        { provider: 'hub', repository: 'acme/api', tag: 'v1.2.3', from: A, to: B },
        { provider: 'hub', repository: 'acme/api', tag: 'latest', from: A, to: B },
      ],
    });
    const r = immutableTagViolations(c, compiled.regex);
    expect(r.violations.map((v) => v.tag)).toEqual(['v1.2.3']);
    expect(r.message).toBe(
      `immutable-tags: 1 tag matching "^v?\\\\d+\\\\.\\\\d+\\\\.\\\\d+$" moved to another digest:\n  hub acme/api:v1.2.3 moved from ${A} to ${B}`,
    );
    expect(immutableTagViolations(changes(), compiled.regex)).toEqual({ violations: [] });
    expect(immutableTagViolations(undefined, compiled.regex)).toEqual({ violations: [] });
  });

  it('an invalid regex is a clear error naming the input', () => {
    expect(compileImmutableTags('v(')).toEqual({
      error: expect.stringMatching(
        /^inputs\.immutable-tags: "v\(" is not a valid regular expression \(.+\); fix the pattern/,
      ),
    });
  });
});
