// User regexes (selectors, exclude_tags, the immutable-tags input) are matched against names and
// tags a registry sends, so a backtracking engine would let one careless pattern such as
// `^(a+)+$` and one long hostile tag hang the run. RE2 matches in time linear in the input, at
// the price of backreferences and lookaround, which are refused with a message saying so.
import { RE2JS, RE2JSSyntaxException } from 're2js';

/** A user pattern compiled the way Devgraph's `re.match(p, s, re.IGNORECASE)` reads it. */
export interface Pattern {
  source: string;
  test(value: string): boolean;
}

/**
 * Largest compiled program a pattern may have. Matching costs program size × input length, so
 * this keeps even a pattern written to defeat RE2's DFA cheap on every tag; a realistic pattern,
 * even an alternation of a few hundred repository names, stays well below it.
 */
export const MAX_PATTERN_SIZE = 5000;

/**
 * Compiles a user regex with Devgraph's semantics: Python's `re.match(p, s, re.IGNORECASE)`,
 * i.e. case-insensitive and anchored at the start only.
 */
export function compilePattern(source: string): { pattern: Pattern } | { error: string } {
  // Devgraph configs write "everything but X" as a leading lookahead, `^(?!X)…`. At the start of
  // the text a lookahead is only a second anchored match, so it is kept as one (linear too).
  const { guards, rest } = leadingLookaheads(source);
  const checks: Array<{ re: RE2JS; want: boolean }> = [];
  for (const g of guards) {
    const compiled = compileLinear(g.body, `^(?:${g.body})`, RE2JS.CASE_INSENSITIVE);
    if ('error' in compiled) return compiled;
    checks.push({ re: compiled.re, want: g.positive });
  }
  const compiled = compileLinear(rest, `^(?:${rest})`, RE2JS.CASE_INSENSITIVE);
  if ('error' in compiled)
    return guards.length > 0
      ? { error: compiled.error.replace(JSON.stringify(rest), JSON.stringify(source)) }
      : compiled;
  const re = compiled.re;
  return {
    pattern: { source, test: (value) => checks.every((c) => c.re.test(value) === c.want) && re.test(value) },
  };
}

/**
 * Splits `^(?!a)(?=b)rest` into its leading lookaheads and the rest; lookaround anywhere else is
 * left in `rest` (and refused by RE2 with a message that says so).
 */
export function leadingLookaheads(source: string): {
  guards: Array<{ body: string; positive: boolean }>;
  rest: string;
} {
  const guards: Array<{ body: string; positive: boolean }> = [];
  let at = source.startsWith('^') ? 1 : 0;
  while (source.startsWith('(?!', at) || source.startsWith('(?=', at)) {
    const close = closingParen(source, at);
    if (close < 0) break;
    guards.push({ body: source.slice(at + 3, close), positive: source[at + 2] === '=' });
    at = close + 1;
  }
  return guards.length > 0 ? { guards, rest: source.slice(at) } : { guards, rest: source };
}

/** Index of the `)` closing the group opened at `open`, minding escapes and [classes]; -1 if none. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Compiles `source` on RE2; `wrapped`, the form actually matched, is compiled only once `source`
 * is known to be valid on its own, so the wrapper never shows in a message and an unbalanced `)`
 * in the source cannot close the wrapper's group.
 */
export function compileLinear(
  source: string,
  wrapped = source,
  flags = 0,
): { re: RE2JS } | { error: string } {
  let re: RE2JS;
  try {
    // Flags do not change what parses; compiled without them, the message quotes the user's text
    // rather than the `(?i)` the engine would put in front of it.
    re = RE2JS.compile(source);
    if (wrapped !== source || flags !== 0) re = RE2JS.compile(wrapped, flags);
  } catch (err) {
    return { error: explain(source, err) };
  }
  if (re.programSize() > MAX_PATTERN_SIZE) {
    return {
      error: `${JSON.stringify(source)} is too large (${re.programSize()} instructions compiled, the limit is ${MAX_PATTERN_SIZE}); shorten it, e.g. use smaller {n} counts or split a long alternation across several selectors`,
    };
  }
  return { re };
}

const ENGINE = 'patterns run on RE2, a linear-time engine, so that no pattern can hang a run';

function explain(source: string, err: unknown): string {
  const quoted = JSON.stringify(source);
  if (!(err instanceof RE2JSSyntaxException)) {
    return `${quoted} is not a valid regular expression (${err instanceof Error ? err.message : String(err)}); fix the pattern`;
  }
  const what = err.error;
  const at = err.input ?? '';
  const unsupported = (feature: string, fix: string) =>
    `${quoted} uses ${feature}, which is not supported (${ENGINE}); ${fix}`;
  if (/^\(\?<?[=!]/.test(at))
    return unsupported(
      'lookaround',
      'rewrite it without (?=, (?!, (?<= or (?<! (a config pattern may open with lookaheads, as in ^(?!test-).*), e.g. match the names you want and list what to leave out in exclude_tags',
    );
  if (/^\\[1-9k]$/.test(at) || (at === '(?P' && source.includes('(?P=')))
    return unsupported(
      'a backreference',
      'rewrite it without \\1 or (?P=name), e.g. spell out the alternatives',
    );
  if (at === '(?>' || (what === 'invalid nested repetition operator' && /^[*+?}]\+$/.test(at.slice(-2))))
    return unsupported(
      'an atomic group or possessive quantifier',
      'drop it ((?>x) → (?:x), a++ → a+): RE2 never backtracks, so the plain form is already safe',
    );
  if (at === '\\Z') return `${quoted}: \\Z is not supported; write $ (or \\z) for the end of the text`;
  if (at === '\\u')
    return `${quoted}: \\uXXXX escapes are not supported; write \\x{XXXX} (e.g. \\x{00e9}) or the character itself`;
  if (what === 'invalid repeat count')
    return `${quoted}: invalid repeat count ${at}; counts go from 0 to 1000 with min ≤ max, and nested counts multiplied must stay within 1000`;
  return `${quoted} is not a valid regular expression (${what}${at ? ` at ${JSON.stringify(at)}` : ''}); fix the pattern or escape special characters with \\`;
}
