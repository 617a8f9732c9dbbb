import { describe, expect, it } from 'vitest';
import { boundedJsonArray, cutNote, OUTPUT_BUDGET, outputCut } from './bounded-json.js';

/** A budget where only UTF-8 binds: UTF-16 never takes more than twice the bytes. */
const utf8Only = (bytes: number) => ({ utf8: bytes, utf16: 2 * bytes });

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

describe('boundedJsonArray', () => {
  // Each item's JSON is 12 bytes ("aaaaaaaaaa"); three make [12,12,12] = 2 + 36 + 2 commas = 40.
  const items = ['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10)];

  it('keeps every item when the array is exactly the budget', () => {
    const out = boundedJsonArray(items, { budget: utf8Only(40) });
    expect(out).toEqual({ json: JSON.stringify(items), kept: 3, total: 3 });
    expect(utf8(out.json)).toBe(40);
  });

  it('one byte less leaves the last item out, and the array stays valid JSON', () => {
    const out = boundedJsonArray(items, { budget: utf8Only(39) });
    expect(out).toEqual({ json: JSON.stringify(items.slice(0, 2)), kept: 2, total: 3 });
    expect(JSON.parse(out.json)).toEqual(items.slice(0, 2));
  });

  it('an empty list, or a budget too small for any item, is []', () => {
    expect(boundedJsonArray([], { budget: utf8Only(2) })).toEqual({ json: '[]', kept: 0, total: 0 });
    expect(boundedJsonArray(items, { budget: utf8Only(13) })).toEqual({ json: '[]', kept: 0, total: 3 });
  });

  it('a first item bigger than the budget gives [] with every item left out, small ones after it too', () => {
    const out = boundedJsonArray(['x'.repeat(100), 'y', 'z'], { budget: utf8Only(50) });
    expect(out).toEqual({ json: '[]', kept: 0, total: 3 });
  });

  it('a big item in the middle ends the prefix there', () => {
    const out = boundedJsonArray(['a', 'x'.repeat(100), 'b'], { budget: utf8Only(50) });
    expect(out).toEqual({ json: '["a"]', kept: 1, total: 3 });
  });

  it('counts the UTF-8 bytes of multi-byte characters, not the characters', () => {
    // é is 2 bytes, € 3, 😀 4 (a surrogate pair in the string): ["é€😀"] is 4 + 9 = 13 bytes.
    const item = 'é€😀';
    expect(boundedJsonArray([item], { budget: utf8Only(13) }).kept).toBe(1);
    expect(boundedJsonArray([item], { budget: utf8Only(12) }).kept).toBe(0);
    // Counting characters (7) or code units (8) would have kept it in 12.
    expect(`["${item}"]`.length).toBeLessThan(12);
  });

  it('counts two bytes a UTF-16 code unit, as GitHub sizes outputs', () => {
    // ["abcdefgh"] is 12 code units: 12 bytes of UTF-8 but 24 of UTF-16.
    expect(boundedJsonArray(['abcdefgh'], { budget: { utf8: 1000, utf16: 24 } }).kept).toBe(1);
    expect(boundedJsonArray(['abcdefgh'], { budget: { utf8: 1000, utf16: 23 } }).kept).toBe(0);
    // 😀 is one character but two code units: ["😀"] is 6 units, 12 bytes of UTF-16.
    expect(boundedJsonArray(['😀'], { budget: { utf8: 1000, utf16: 12 } }).kept).toBe(1);
    expect(boundedJsonArray(['😀'], { budget: { utf8: 1000, utf16: 11 } }).kept).toBe(0);
    // 漢 is 3 bytes of UTF-8 and 2 of UTF-16: here UTF-8 binds and UTF-16 does not.
    const han = '漢'.repeat(10);
    expect(boundedJsonArray([han], { budget: { utf8: 34, utf16: 1000 } }).kept).toBe(1);
    expect(boundedJsonArray([han], { budget: { utf8: 33, utf16: 1000 } }).kept).toBe(0);
    expect(boundedJsonArray([han], { budget: { utf8: 34, utf16: 28 } }).kept).toBe(1);
    expect(boundedJsonArray([han], { budget: { utf8: 34, utf16: 27 } }).kept).toBe(0);
  });

  it('measures what is set: each item redacted before it is measured', () => {
    const secret = 's3cret-value-that-is-long';
    const redact = (json: string) => json.split(secret).join('***');
    const out = boundedJsonArray([{ tag: secret }, { tag: secret }], { budget: utf8Only(30), redact });
    expect(out).toEqual({ json: '[{"tag":"***"},{"tag":"***"}]', kept: 2, total: 2 });
  });

  it('escapes what JSON must, and the output parses back to the items it kept', () => {
    const odd = ['quote " back \\ slash', 'line\nbreak\u2028separator', 'lone \ud800 surrogate', '\u0000'];
    const out = boundedJsonArray(odd, { budget: utf8Only(1000) });
    expect(out.kept).toBe(4);
    expect(JSON.parse(out.json)).toEqual(odd);
  });

  it('by default fits OUTPUT_BUDGET with as many items as fit', () => {
    const tags = Array.from({ length: 2000 }, (_, i) => ({
      provider: 'demo',
      repository: 'acme/api',
      tag: `build-${i}`,
      digest: `sha256:${'a'.repeat(64)}`,
    }));
    const out = boundedJsonArray(tags);
    expect(out.total).toBe(2000);
    expect(out.kept).toBeLessThan(2000);
    expect(utf8(out.json)).toBeLessThanOrEqual(OUTPUT_BUDGET.utf8);
    expect(2 * out.json.length).toBeLessThanOrEqual(OUTPUT_BUDGET.utf16);
    // The longest prefix: one more item would not have fit.
    expect(utf8(JSON.stringify(tags.slice(0, out.kept + 1)))).toBeGreaterThan(OUTPUT_BUDGET.utf8);
    expect(JSON.parse(out.json)).toEqual(tags.slice(0, out.kept));
  });
});

describe('OUTPUT_BUDGET', () => {
  it('fits one environment variable, and four outputs leave room in the 1 MB GitHub allows a job', () => {
    const MAX_ARG_STRLEN = 32 * 4096;
    // `NAME=value` and its terminating NUL, with a long name.
    expect(`${'POLICY_VIOLATIONS_OF_THE_IMAGES'}=`.length + OUTPUT_BUDGET.utf8 + 1).toBeLessThan(
      MAX_ARG_STRLEN,
    );
    expect(4 * OUTPUT_BUDGET.utf16).toBeLessThanOrEqual(0.8 * 1_000_000);
    expect(OUTPUT_BUDGET.utf16).toBeLessThanOrEqual(2 * OUTPUT_BUDGET.utf8);
  });
});

describe('outputCut and cutNote', () => {
  it('a cut only when items were left out, said with the output, the counts and the file', () => {
    expect(outputCut('new-tags', { json: '[]', kept: 0, total: 0 }, 'changes.json')).toEqual([]);
    const [cut] = outputCut('new-tags', { json: '[1]', kept: 1, total: 3 }, 'changes.json');
    expect(cut).toEqual({ output: 'new-tags', kept: 1, total: 3, file: 'changes.json' });
    expect(cutNote(cut!)).toBe(
      "The new-tags output holds the first 1 of 3 items (each JSON output is kept under 96 KiB so that it fits an environment variable and GitHub's limit on outputs); changes.json beside graph.json holds all 3.",
    );
  });
});
