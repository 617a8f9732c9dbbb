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
// namespace is different: the namespace a selector spells (anchored or not, as Devgraph configs
// write `library`) is then listed, so only real repositories come of it.
import type { Selector } from '../config/settings.js';

/** The names a pattern spells out, lowercase; `exact` when it can match no other name. */
export interface SpelledNames {
  names: string[];
  exact: boolean;
}

/**
 * Beyond this many names (an alternation of alternations multiplies), a pattern is read as a
 * regex: the registries that need names could not be asked that many times anyway.
 */
const MAX_NAMES = 1000;
/** Characters that spell themselves in a repository name, unescaped. */
const NAME_CHAR = /[a-z0-9_/-]/i;
/** Escapes that spell a name character: `\.` above all, since a bare `.` matches anything. */
const ESCAPED_NAME_CHAR = /[._/-]/;
/** A repository name or path segment as registries write them (lowercase once spelled). */
const NAME = /^[a-z0-9][a-z0-9._/-]*$/;

/** One alternative: the names it spells, and whether it ended in `$`. */
interface Branch {
  names: string[];
  exact: boolean;
}

/**
 * Reads `pattern` as a list of names: see the module comment for what is exact, what is a
 * prefix and what is neither (undefined).
 */
export function spelledNames(pattern: string): SpelledNames | undefined {
  const parsed = alternation(pattern, 0, true);
  if (!parsed || parsed.end !== pattern.length) return undefined;
  const names = new Set<string>();
  let exact = true;
  for (const b of parsed.branches) {
    for (const n of b.names) names.add(n.toLowerCase());
    exact &&= b.exact;
  }
  // `^$` spells the empty name: the namespace of a repository at the top level (`redis`).
  if (exact && names.size === 1 && names.has('')) return { names: [''], exact };
  if (names.size > MAX_NAMES || ![...names].every((n) => NAME.test(n))) return undefined;
  return { names: [...names].sort(), exact };
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
 * `a|b|…` from `at` up to the end or (inside a group) a `)`; undefined as soon as anything in it
 * is not a name. `top`: the branches may carry their own `^` and `$` (inside a group, an anchor
 * would have to be reasoned about against what surrounds the group, so it is read as a regex).
 */
function alternation(
  pattern: string,
  at: number,
  top: boolean,
): { branches: Branch[]; end: number } | undefined {
  const branches: Branch[] = [];
  let i = at;
  for (;;) {
    const b = branch(pattern, i, top);
    if (!b) return undefined;
    branches.push(b.branch);
    i = b.end;
    if (pattern[i] !== '|') return { branches, end: i };
    i++;
  }
}

/** One alternative: names and groups one after another, with the anchors `top` allows. */
function branch(pattern: string, at: number, top: boolean): { branch: Branch; end: number } | undefined {
  let i = at;
  if (top && pattern[i] === '^') i++;
  let names = [''];
  let exact = false;
  while (i < pattern.length && pattern[i] !== '|' && pattern[i] !== ')') {
    const c = pattern[i]!;
    let piece: string[];
    if (top && c === '$') {
      // `$` ends the name only where the alternative ends; `a$b` can match nothing.
      i++;
      if (i < pattern.length && pattern[i] !== '|' && pattern[i] !== ')') return undefined;
      exact = true;
      break;
    } else if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined || !ESCAPED_NAME_CHAR.test(e)) return undefined;
      piece = [e];
      i += 2;
    } else if (c === '(') {
      const open = pattern.startsWith('(?:', i) ? 3 : 1;
      if (open === 1 && pattern[i + 1] === '?') return undefined; // lookaround, flags, named groups
      const inner = alternation(pattern, i + open, false);
      if (!inner || pattern[inner.end] !== ')') return undefined;
      piece = inner.branches.flatMap((b) => b.names);
      i = inner.end + 1;
    } else if (NAME_CHAR.test(c)) {
      piece = [c];
      i++;
    } else {
      return undefined;
    }
    // A quantifier makes the piece optional or repeated: no longer a fixed list of names.
    if (i < pattern.length && '*+?{'.includes(pattern[i]!)) return undefined;
    if (names.length * piece.length > MAX_NAMES) return undefined;
    names = names.flatMap((head) => piece.map((p) => head + p));
  }
  return { branch: { names, exact }, end: i };
}

/**
 * For a pattern that is a prefix: why it names no repository where nothing can be listed, and
 * the exact pattern that would name what it spells. Undefined for any other pattern.
 */
export function prefixAdvice(field: string, pattern: string): string | undefined {
  const spelled = spelledNames(pattern);
  if (!spelled || spelled.exact) return undefined;
  const names = spelled.names.map((n) => n.replaceAll('.', '\\.'));
  const anchored = names.length === 1 ? `^${names[0]}$` : `^(${names.join('|')})$`;
  return `${field} ${JSON.stringify(pattern)} also matches every longer name that starts with ${spelled.names.length === 1 ? 'it' : 'one of its names'}, so without a listing it names no repository; write ${JSON.stringify(anchored)} to name ${spelled.names.join(', ')} alone`;
}
