// Some registries cannot list what a selector would be matched against (Docker Hub and Quay
// namespaces, GHCR owners, Google projects, a GITHUB_TOKEN's view of an organisation, an ACR
// scoped token's catalog, ECR Public for anonymous users). There, a selector can only be used
// when its pattern spells the names out, and every adapter has to read that the same way, or one
// config would mean different repositories on different registries. This module is that reading.
//
// Patterns are matched as Devgraph does (Python re.match, case-insensitive, anchored at the start
// only, see config/pattern.ts), so:
// - `^(api|web)$`, `api$`, `^api$|^web$`, `^team/app$`, `^my\.app$` are EXACT: they match those
//   names and nothing else;
// - `api`, `^(api|web)`, `team/app` are PREFIXES: they match those names and every name that
//   starts with one of them (`api` matches `api-gateway`), so they spell no complete list;
// - anything else (a class, `.`, a quantifier, a lookahead, `\d`, a nested anchor) is a regex.
// A repository is made from a pattern, without listing, only when the pattern is exact: a made-up
// name is never checked to exist, and a prefix would invent one (`team-a/ap` from `ap`). A
// namespace_pattern is read more loosely, because Devgraph configs write `library` for the
// namespace library: one name, anchored or not, names that namespace (the longer namespaces an
// unanchored one also matches cannot be reached where namespaces cannot be listed); anything
// else, an alternation included, names none.
import type { Selector } from '../config/settings.js';

/** The names a pattern spells out, lowercase; `exact` when it can match no other name. */
export interface SpelledNames {
  names: string[];
  exact: boolean;
}

/**
 * Groups one after another multiply (`(a|b)(c|d)…`); past this many names a pattern is read as
 * a regex rather than spelled out, so a short pattern cannot make a huge list.
 */
const MAX_NAMES = 1000;
/** Characters that spell themselves in a repository name, unescaped. */
const NAME_CHAR = /[a-z0-9_/-]/i;
/** Escapes that spell a name character: `\.` above all, since a bare `.` matches anything. */
const ESCAPED_NAME_CHAR = /[._/-]/;
/** A repository name or path segment as registries write them (lowercase once spelled). */
const NAME = /^[a-z0-9][a-z0-9._/-]*$/;

/**
 * One top-level alternative: the literal text its matches start with (one per combination of
 * its groups), whether that is all of it (`whole`), and whether it ended in `$`.
 */
interface Branch {
  heads: string[];
  whole: boolean;
  exact: boolean;
}

/**
 * Reads `pattern` as a list of names: see the module comment for what is exact, what is a
 * prefix and what is neither (undefined).
 */
export function spelledNames(pattern: string): SpelledNames | undefined {
  const branches = topBranches(pattern);
  if (!branches?.every((b) => b.whole)) return undefined;
  const names = new Set(branches.flatMap((b) => b.heads));
  const exact = branches.every((b) => b.exact);
  // `^$` spells the empty name: the namespace of a repository at the top level (`redis`).
  if (exact && names.size === 1 && names.has('')) return { names: [''], exact };
  if (![...names].every((n) => NAME.test(n))) return undefined;
  return { names: [...names].sort(), exact };
}

/**
 * The literal text every match of the pattern starts with, one entry per alternative (in the
 * pattern's order), e.g. `^team/.*` → `team/`, `(web|api)/.*` → `web/`, `api/`; the empty string
 * where an alternative starts with anything else. Undefined for unbalanced parentheses.
 */
export function literalPrefixes(pattern: string): string[] | undefined {
  const branches = topBranches(pattern);
  return branches && [...new Set(branches.flatMap((b) => b.heads))];
}

function topBranches(pattern: string): Branch[] | undefined {
  const branches: Branch[] = [];
  let i = 0;
  for (;;) {
    const b = branch(pattern, i, true);
    if (!b) return undefined;
    branches.push(b.branch);
    i = b.end;
    if (pattern[i] !== '|') return i === pattern.length ? branches : undefined;
    i++;
  }
}

/**
 * One alternative from `at`, up to `|`, a `)` or the end. At the top, it may carry its own `^`
 * and `$`, and reading stops at the first piece that is not a name (the rest is skipped); inside
 * a group (`top` false) an anchor or such a piece makes the whole group undefined, as the group
 * then spells nothing the caller could rely on.
 */
function branch(pattern: string, at: number, top: boolean): { branch: Branch; end: number } | undefined {
  let i = at;
  if (top && pattern[i] === '^') i++;
  let heads = [''];
  const stop = (): { branch: Branch; end: number } | undefined => {
    if (!top) return undefined;
    const end = branchEnd(pattern, i);
    return end < 0 ? undefined : { branch: { heads, whole: false, exact: false }, end };
  };
  while (i < pattern.length && pattern[i] !== '|' && pattern[i] !== ')') {
    const c = pattern[i]!;
    let piece: string[];
    let next: number;
    if (top && c === '$') {
      // `$` ends the name only where the alternative ends; `a$b` can match nothing.
      if (i + 1 < pattern.length && pattern[i + 1] !== '|' && pattern[i + 1] !== ')') return stop();
      return { branch: { heads, whole: true, exact: true }, end: i + 1 };
    } else if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined || !ESCAPED_NAME_CHAR.test(e)) return stop();
      piece = [e];
      next = i + 2;
    } else if (c === '(') {
      const open = pattern.startsWith('(?:', i) ? 3 : 1;
      // `(?` other than `(?:` is lookaround, flags or a named group.
      if (open === 1 && pattern[i + 1] === '?') return stop();
      const inner = group(pattern, i + open);
      if (!inner) return stop();
      piece = inner.names;
      next = inner.end + 1;
    } else if (NAME_CHAR.test(c)) {
      piece = [c];
      next = i + 1;
    } else {
      return stop();
    }
    // A quantifier makes the piece optional or repeated: what came before is all that is certain.
    if (next < pattern.length && '*+?{'.includes(pattern[next]!)) return stop();
    if (heads.length * piece.length > MAX_NAMES) return stop();
    heads = heads.flatMap((head) => piece.map((p) => (head + p).toLowerCase()));
    i = next;
  }
  return { branch: { heads, whole: true, exact: false }, end: i };
}

/** The names a group spells, from just inside its `(` to its `)`; undefined if it spells none. */
function group(pattern: string, at: number): { names: string[]; end: number } | undefined {
  const names: string[] = [];
  let i = at;
  for (;;) {
    const b = branch(pattern, i, false);
    if (!b) return undefined;
    names.push(...b.branch.heads);
    i = b.end;
    if (pattern[i] === ')') return { names, end: i };
    if (pattern[i] !== '|') return undefined;
    i++;
  }
}

/** Where the alternative that `at` is inside ends (a top-level `|` or the end); -1 if unbalanced. */
function branchEnd(pattern: string, at: number): number {
  let depth = 0;
  for (let i = at; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') {
      // A class may open with `]` or `^]`, which is then one of its characters.
      i += pattern[i + 1] === '^' ? 2 : 1;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
    } else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return -1;
      depth--;
    } else if (c === '|' && depth === 0) return i;
  }
  return depth === 0 ? pattern.length : -1;
}

/** The repositories (or names inside a namespace) a pattern stands for: an exact list, or undefined. */
export function literalNames(pattern: string): string[] | undefined {
  const spelled = spelledNames(pattern);
  return spelled?.exact && spelled.names[0] !== '' ? spelled.names : undefined;
}

/**
 * The one namespace a namespace_pattern spells (anchored or not), or undefined; `^$` gives ``,
 * which only a registry with repositories outside any namespace can use.
 */
export function literalNamespace(pattern: string): string | undefined {
  const spelled = spelledNames(pattern);
  const only = spelled?.names.length === 1 ? spelled.names[0]! : undefined;
  return only?.includes('/') ? undefined : only;
}

/**
 * The namespaces the selectors name, sorted and without repeats. When a namespace_pattern is a
 * real regex: `refuse(pattern)` is thrown if given (the vendor cannot list without names),
 * otherwise the answer is undefined (the vendor lists namespaces and filters them instead).
 */
export function literalNamespaces(
  selectors: readonly Selector[],
  refuse: (pattern: string) => Error,
): string[];
export function literalNamespaces(selectors: readonly Selector[]): string[] | undefined;
export function literalNamespaces(
  selectors: readonly Selector[],
  refuse?: (pattern: string) => Error,
): string[] | undefined {
  const names = new Set<string>();
  for (const s of selectors) {
    const ns = literalNamespace(s.namespacePattern.source);
    if (!ns) {
      if (refuse) throw refuse(s.namespacePattern.source);
      return undefined;
    }
    names.add(ns);
  }
  return [...names].sort();
}

/**
 * For a pattern that reads like names but is not an exact list (a prefix such as `ap`, or a name
 * with a bare `.`, which matches any character): why it names no repository where nothing can
 * be listed, and the exact pattern that would. Undefined for any other pattern.
 */
export function namingAdvice(field: string, pattern: string): string | undefined {
  const escaped = pattern.replace(/(?<!\\)\./g, '\\.');
  const spelled = spelledNames(escaped);
  if (!spelled || (spelled.exact && escaped === pattern) || spelled.names[0] === '') return undefined;
  const why: string[] = [];
  if (escaped !== pattern) why.push('"." matches any character');
  if (!spelled.exact)
    why.push(
      `it also matches every longer name that starts with ${spelled.names.length === 1 ? 'it' : 'one of its names'}`,
    );
  const names = spelled.names.map((n) => n.replaceAll('.', '\\.'));
  const anchored = names.length === 1 ? `^${names[0]}$` : `^(${names.join('|')})$`;
  return `${field} ${JSON.stringify(pattern)} names no repository without a listing (${why.join('; ')}); write ${JSON.stringify(anchored)} to name ${spelled.names.join(', ')} alone`;
}
