// The summary as a terminal shows it: the same text as summary.md without the Markdown, so a
// person reads `lab (registry)`, not `lab \(registry\)`. It reads only what our own renderers
// write (headings, tables, lists, code spans, bold, escapeMarkdown's escapes and entities), the
// one Markdown source staying the only renderer of the summary. Pure.

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#8203;': '' };

/** One line of our Markdown as text: escapes undone, code-span and bold markers dropped. */
function inline(markdown: string): string {
  let out = '';
  let inCode = false;
  for (let i = 0; i < markdown.length; i++) {
    const c = markdown[i]!;
    if (inCode) {
      if (c === '`') inCode = false;
      else out += c;
      continue;
    }
    if (c === '\\' && i + 1 < markdown.length && /[\\`*_{}[\]()#+!|~]/.test(markdown[i + 1]!)) {
      out += markdown[++i];
    } else if (c === '`') {
      inCode = true;
    } else if (c === '*' && markdown[i + 1] === '*') {
      i++;
    } else if (c === '&') {
      const entity = /^&(?:amp|lt|gt|#8203);/.exec(markdown.slice(i))?.[0];
      if (entity) {
        out += ENTITIES[entity];
        i += entity.length - 1;
      } else out += c;
    } else out += c;
  }
  // Nothing a registry sent may drive the terminal (escapeMarkdown already blanks these).
  return out.replace(/\p{Cc}/gu, ' ');
}

/** A table row's cells, split at the pipes that are not escaped. */
function cells(row: string): string[] {
  const found: string[] = [];
  let cell = '';
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && i + 1 < body.length) {
      cell += body[i]! + body[i + 1]!;
      i++;
    } else if (body[i] === '|') {
      found.push(cell);
      cell = '';
    } else cell += body[i];
  }
  found.push(cell);
  return found.map((c) => inline(c.trim()));
}

const width = (s: string) => [...s].length;

/** Table rows as columns padded to their widest cell. */
function table(rows: string[]): string[] {
  const grid = rows.filter((r) => !/^\|[\s|:-]+\|?\s*$/.test(r)).map(cells);
  const widths: number[] = [];
  for (const row of grid) {
    for (const [i, c] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, width(c));
  }
  const line = (row: string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
      .join('  ')
      .trimEnd();
  const [header, ...body] = grid;
  if (!header) return [];
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

export function markdownToText(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('|')) {
      const rows: string[] = [];
      while (i < lines.length && lines[i]!.startsWith('|')) rows.push(lines[i++]!);
      i--;
      out.push(...table(rows));
      continue;
    }
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) {
      const title = inline(heading[2]!);
      out.push(title);
      if (heading[1]!.length <= 2) out.push((heading[1] === '#' ? '=' : '-').repeat(width(title)));
      continue;
    }
    out.push(inline(line));
  }
  return out.join('\n');
}
