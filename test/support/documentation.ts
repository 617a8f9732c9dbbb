// The documentation a user reads (README.md and docs/**/*.md), read for the tests that keep it true:
// its code blocks, its links and its headings' anchors as GitHub renders them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');

export interface DocFile {
  /** Relative to the repository, with `/`. */
  path: string;
  text: string;
}

export interface CodeBlock {
  path: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
}

/** README.md and every Markdown file under docs/. */
export function documentationFiles(): DocFile[] {
  const paths = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) paths.push(path);
    }
  };
  walk('docs');
  return paths.sort().map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}

const FENCE = /^(\s*)```(\S*)\s*$/;

export function codeBlocks(file: DocFile): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = file.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(FENCE);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) body.push(lines[j++]!);
    blocks.push({ path: file.path, line: i + 1, lang: open[2] ?? '', text: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** The text outside fenced blocks and inline code spans, where links and headings live. */
export function prose(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let inFence = false;
  for (const line of lines) {
    if (FENCE.test(line)) {
      inFence = !inFence;
      out.push('');
      continue;
    }
    out.push(inFence ? '' : line);
  }
  return out.join('\n');
}

/** Relative link targets (`[text](target)`), with the line each is on; URLs with a scheme are left out. */
export function relativeLinks(file: DocFile): Array<{ line: number; target: string }> {
  const links: Array<{ line: number; target: string }> = [];
  for (const [i, line] of prose(file.text).split('\n').entries()) {
    const outsideCode = line.replace(/`[^`]*`/g, '');
    for (const m of outsideCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ line: i + 1, target });
    }
  }
  return links;
}

/** The anchors GitHub gives a Markdown file's headings (lowercased, punctuation dropped, `-` for spaces, `-1`… for repeats). */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(text).split('\n')) {
    const m = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!m) continue;
    const rendered = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = rendered
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}
