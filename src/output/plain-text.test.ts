import { describe, expect, it } from 'vitest';
import { markdownToText } from './plain-text.js';
import { escapeMarkdown } from './summary-markdown.js';

describe('markdownToText', () => {
  it('undoes escapeMarkdown, whatever the text', () => {
    for (const text of [
      'lab (registry)',
      'a|b `c` *d* _e_ [f](g) #1 @someone <b>&amp;</b> \\ ~h~ {i} !j +k',
      'team/app:v1.0',
    ])
      expect(markdownToText(escapeMarkdown(text))).toBe(text);
  });

  it('headings lose their marks, code spans and bold their markers', () => {
    expect(markdownToText('# Registry inventory\n\nSome **Discovery was incomplete**: `abc123`.\n')).toBe(
      'Registry inventory\n==================\n\nSome Discovery was incomplete: abc123.\n',
    );
    expect(markdownToText('## Failures\n\n- lab \\(registry\\): denied\n')).toBe(
      'Failures\n--------\n\n- lab (registry): denied\n',
    );
  });

  it('a table becomes padded columns; an escaped pipe stays in its cell', () => {
    const table = [
      '| Repository | Tags | Complete |',
      '|---|---|---|',
      `| ${escapeMarkdown('a|b')} | 1 / 2 | yes |`,
      '| library/nginx | 10 / 812 | **no** |',
    ].join('\n');
    expect(markdownToText(`${table}\n`)).toBe(
      [
        'Repository     Tags      Complete',
        '-------------  --------  --------',
        'a|b            1 / 2     yes',
        'library/nginx  10 / 812  no',
        '',
      ].join('\n'),
    );
  });

  it('the storage table lines up, a lower bound keeping its mark', () => {
    const table = [
      '| Registry | Repository | Total | Shared |',
      '|---|---|---|---|',
      `| lab | ${escapeMarkdown('team/app_1')} | ≥ 12.3 KB | 0 B |`,
      '| lab | x | 1.0 MB | 1.0 MB |',
    ].join('\n');
    expect(markdownToText(`${table}\n`)).toBe(
      [
        'Registry  Repository  Total      Shared',
        '--------  ----------  ---------  ------',
        'lab       team/app_1  ≥ 12.3 KB  0 B',
        'lab       x           1.0 MB     1.0 MB',
        '',
      ].join('\n'),
    );
  });

  it('nothing can reach the terminal as a control character', () => {
    expect(markdownToText('tag \u001b[31mred')).toBe('tag  [31mred');
  });
});
