// The "many tags" repository every vendor fake serves, so that each vendor test proves paging and
// newest-first selection against the same content. Tag `b-<i>` is pushed at hour (i·37 mod count)
// of 2023-01-01: push order and tag-name order disagree, so an adapter that keeps the lexically
// last tags instead of the newest ones fails.
import { buildImage, RepositoryBuilder, type RepositoryContent } from '../../../src/demo/image-builder.js';

const BASE = Date.parse('2023-01-01T00:00:00Z');

export function manyTag(i: number): string {
  return `b-${String(i).padStart(3, '0')}`;
}

function pushHour(i: number, count: number): number {
  return (i * 37) % count;
}

/** A repository of `count` single-platform images, one per tag. */
export function manyTagsRepository(name: string, count: number): RepositoryContent {
  const repo = new RepositoryBuilder(name);
  for (let i = 0; i < count; i++) {
    const created = new Date(BASE + pushHour(i, count) * 3_600_000).toISOString().replace('.000Z', 'Z');
    repo.addImage(buildImage({ created, seed: `${name}-${i}`, layerCount: 1, layerSize: 32 }), manyTag(i));
  }
  return repo.build();
}

/** The `keep` newest tags of manyTagsRepository(…, count), newest first. */
export function newestOfMany(count: number, keep: number): string[] {
  return Array.from({ length: count }, (_, i) => i)
    .sort((a, b) => pushHour(b, count) - pushHour(a, count))
    .slice(0, keep)
    .map(manyTag);
}
