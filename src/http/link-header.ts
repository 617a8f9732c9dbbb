/**
 * The `rel="next"` target of an RFC 8288 `Link` header as sent (it may be relative), or undefined
 * when there is no next page. Following it is the page walker's business (page-walker.ts).
 */
export function nextLinkTarget(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const link of parseLinks(header)) {
    const rels = (link.params.rel ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return link.target;
  }
  return undefined;
}

interface Link {
  target: string;
  params: Record<string, string>;
}

/**
 * A small scanner rather than regexes: commas and semicolons inside `<...>` or inside quoted
 * parameter values (with `\"` escapes) must not split links or parameters.
 */
function parseLinks(header: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  const n = header.length;
  while (i < n) {
    while (i < n && /[\s,]/.test(header[i]!)) i++;
    if (header[i] !== '<') {
      // Not a link-value: skip to the next top-level comma.
      i = skipToComma(header, i);
      continue;
    }
    const end = header.indexOf('>', i);
    if (end < 0) break;
    const link: Link = { target: header.slice(i + 1, end), params: {} };
    i = end + 1;
    while (i < n) {
      while (i < n && /\s/.test(header[i]!)) i++;
      if (header[i] !== ';') break;
      i++;
      while (i < n && /\s/.test(header[i]!)) i++;
      const keyStart = i;
      while (i < n && /[^\s=;,]/.test(header[i]!)) i++;
      const key = header.slice(keyStart, i).toLowerCase();
      while (i < n && /\s/.test(header[i]!)) i++;
      let value = '';
      if (header[i] === '=') {
        i++;
        while (i < n && /\s/.test(header[i]!)) i++;
        if (header[i] === '"') {
          i++;
          while (i < n && header[i] !== '"') {
            if (header[i] === '\\' && i + 1 < n) i++;
            value += header[i];
            i++;
          }
          i++;
        } else {
          const start = i;
          while (i < n && /[^\s;,]/.test(header[i]!)) i++;
          value = header.slice(start, i);
        }
      }
      // RFC 8288 §3.3: only the first occurrence of a parameter counts.
      if (key && !(key in link.params)) link.params[key] = value;
    }
    links.push(link);
    i = skipToComma(header, i);
  }
  return links;
}

function skipToComma(header: string, from: number): number {
  let i = from;
  let quoted = false;
  while (i < header.length) {
    const ch = header[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ',') return i + 1;
    i++;
  }
  return i;
}
