import type { Pattern } from './settings.js';

/**
 * Compiles a user regex with Devgraph's semantics: Python's `re.match(p, s, re.IGNORECASE)`,
 * i.e. case-insensitive and anchored at the start only.
 */
export function compilePattern(source: string): { pattern: Pattern } | { error: string } {
  try {
    // No `u` flag: Python's re accepts identity escapes such as `\-` and `\_`, and so must we.
    const re = new RegExp(`^(?:${source})`, 'i');
    return { pattern: { source, test: (value) => re.test(value) } };
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
    return {
      error: `${JSON.stringify(source)} is not a valid regular expression (${why}); fix the pattern or escape special characters with \\`,
    };
  }
}
