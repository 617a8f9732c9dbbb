import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.js';

describe('interpolate', () => {
  it.each<[string, unknown, Record<string, string | undefined>, unknown]>([
    ['a plain string', 'abc', {}, 'abc'],
    ['one variable inside text', 'x-${A}-y', { A: '1' }, 'x-1-y'],
    ['two variables', '${A}${B}', { A: 'a', B: 'b' }, 'ab'],
    ['default used when unset', 'x-${A:-d}', {}, 'x-d'],
    ['default used when empty', 'x-${A:-d}', { A: '' }, 'x-d'],
    ['empty default', 'x-${A:-}-y', {}, 'x--y'],
    ['default with colons and slashes', '${URL:-https://r.example:5000/v2}', {}, 'https://r.example:5000/v2'],
    ['escape', '$${A}', { A: 'no' }, '${A}'],
    ['escape next to a variable', '$${A}${A}', { A: 'v' }, '${A}v'],
    ['a lone $ is kept', 'a$b $ {A}', {}, 'a$b $ {A}'],
    ['$VAR without braces is kept', '$A', { A: 'x' }, '$A'],
    ['whole value in a numeric field → number', { timeout: '${N}' }, { N: '42' }, { timeout: 42 }],
    ['whole value in a numeric field → float', { timeout: '${N}' }, { N: '1.5' }, { timeout: 1.5 }],
    [
      'whole value in a boolean field → boolean',
      { discover_vulnerabilities: '${B:-false}' },
      {},
      { discover_vulnerabilities: false },
    ],
    [
      'whole value in a string field stays a string (tags like 1.10)',
      { include_tags: ['${T}'] },
      { T: '1.10' },
      { include_tags: ['1.10'] },
    ],
    ['whole value that is not a scalar stays a string', '${S}', { S: '[1, 2]' }, '[1, 2]'],
    ['whole value null stays a string', '${S}', { S: 'null' }, 'null'],
    ['whole value with a colon stays a string', '${S}', { S: 'a: b' }, 'a: b'],
    ['numbers pass through', 5, {}, 5],
    ['null passes through', null, {}, null],
  ])('%s', (_name, doc, env, expected) => {
    expect(interpolate(doc, env)).toEqual({ value: expected, problems: [] });
  });

  it.each(['password', 'token', 'username', 'opaque_token'])('keeps %s a string', (key) => {
    const { value } = interpolate({ a: [{ [key]: '${V}' }] }, { V: '1234' });
    expect(value).toEqual({ a: [{ [key]: '1234' }] });
  });

  it('walks nested mappings and lists, leaving keys alone', () => {
    const { value, problems } = interpolate({ '${K}': { list: ['${A}', 'b-${A}'] } }, { A: 'x', K: 'no' });
    expect(problems).toEqual([]);
    expect(value).toEqual({ '${K}': { list: ['x', 'b-x'] } });
  });

  it('reports each unset variable with its path', () => {
    const { problems } = interpolate(
      { providers: [{ config: { password: '${PW}', selectors: [{ x: ['${T}'] }] } }] },
      {},
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]!.path).toBe('providers[0].config.password');
    expect(problems[0]!.message).toMatch(/^providers\[0\]\.config\.password: .*PW/);
    expect(problems[1]!.message).toMatch(/^providers\[0\]\.config\.selectors\[0\]\.x\[0\]: .*\bT\b/);
  });

  it('names the root for a top-level string', () => {
    expect(interpolate('${NOPE}', {}).problems[0]!.message).toMatch(/^\(root\): .*NOPE/);
  });

  it('does not mutate its input', () => {
    const doc = { a: '${A}' };
    interpolate(doc, { A: 'x' });
    expect(doc).toEqual({ a: '${A}' });
  });
});
