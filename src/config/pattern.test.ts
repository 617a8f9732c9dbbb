import { describe, expect, it } from 'vitest';
import { compilePattern, leadingLookaheads } from './pattern.js';

const matcher = (source: string) => {
  const compiled = compilePattern(source);
  if ('error' in compiled) throw new Error(compiled.error);
  return (value: string) => compiled.pattern.test(value);
};

describe('leading lookaheads (Devgraph\'s "everything but X" idiom)', () => {
  it('^(?!X).* keeps everything that does not start with X, as Python re.match would', () => {
    const test = matcher('^(?!test-|tmp).*');
    expect(['api', 'test-api', 'TMP-1', 'my-test-api'].map(test)).toEqual([true, false, false, true]);
  });

  it('several lookaheads and a positive one, each anchored at the start', () => {
    const test = matcher('(?=v\\d)(?!v0\\.)v[\\d.]+$');
    expect(['v1.2.3', 'v0.9.1', 'latest', 'v2'].map(test)).toEqual([true, false, false, true]);
  });

  it('splits at the closing parenthesis, minding escapes and classes', () => {
    expect(leadingLookaheads('^(?![)(]\\)x)rest')).toEqual({
      guards: [{ body: '[)(]\\)x', positive: false }],
      rest: 'rest',
    });
    expect(leadingLookaheads('plain')).toEqual({ guards: [], rest: 'plain' });
  });

  it('stays linear: a catastrophic body inside the lookahead completes on a long input', () => {
    const test = matcher('^(?!(a+)+$).*');
    expect(test(`${'a'.repeat(50_000)}!`)).toBe(true);
    expect(test('a'.repeat(50_000))).toBe(false);
  });

  it('an invalid lookahead body is reported with the whole pattern', () => {
    const compiled = compilePattern('^(?!a(b).*');
    expect('error' in compiled && compiled.error).toContain('"^(?!a(b).*"');
  });
});
