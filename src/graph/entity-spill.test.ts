import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EntitySpill } from './entity-spill.js';

describe('EntitySpill', () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.TMPDIR;
    dir = mkdtempSync(join(tmpdir(), 'spill-test-'));
    process.env.TMPDIR = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads back every text by its position, across batches, before and after they are written', () => {
    const spill = new EntitySpill();
    const texts: string[] = [];
    const at: Array<{ offset: number; length: number }> = [];
    for (let i = 0; i < 5000; i++) {
      // Multi-byte characters make byte offsets differ from string lengths.
      // Now and then one longer than a read block.
      const text = `{"n":${i},"s":"${'é→𝄞x'.repeat(i % 500 === 0 ? 9000 : i % 37)}"}\n`;
      texts.push(text);
      at.push(spill.append(text));
      // Some reads come while the text is still in the unwritten batch.
      if (i % 997 === 0) expect(spill.read(at[i]!.offset, at[i]!.length)).toBe(text);
    }
    for (let i = texts.length - 1; i >= 0; i -= 7)
      expect(spill.read(at[i]!.offset, at[i]!.length)).toBe(texts[i]);
    spill.close();
    expect(() => spill.read(0, 1)).toThrow(/after close/);
  });

  it('leaves nothing in the temporary directory, closed or not', () => {
    const kept = new EntitySpill();
    kept.append('{"a":1}\n');
    const closed = new EntitySpill();
    closed.append('{"b":2}\n');
    closed.close();
    // On Linux the file is unlinked while open; the open one still reads.
    expect(readdirSync(dir)).toEqual([]);
    expect(kept.read(0, 8)).toBe('{"a":1}\n');
    kept.close();
    expect(readdirSync(dir)).toEqual([]);
  });
});
