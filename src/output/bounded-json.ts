// A list as a JSON array step output that fits a size budget: the longest prefix of whole items,
// always valid JSON, with a count of what was left out. The whole list goes to a file beside
// graph.json; the output only has to stay usable. Pure.

/** A size limit measured in the two encodings the limits on outputs are counted in. */
export interface ByteBudget {
  /** Bytes of UTF-8: what an environment variable holding the output takes. */
  utf8: number;
  /** Bytes of UTF-16 (two per code unit): how GitHub sizes outputs. */
  utf16: number;
}

/**
 * The budget of each JSON array output. Two limits bind:
 * - Workflows pass outputs to scripts through `env:`, and Linux refuses to start a program whose
 *   single environment string (`NAME=value` and its NUL) passes MAX_ARG_STRLEN, 128 KiB of UTF-8:
 *   the next step fails with E2BIG. The budget leaves room for any reasonable variable name.
 * - GitHub allows 1 MB of outputs per job, counted in UTF-16. Up to four JSON arrays are set
 *   (new-tags, moved-tags, removed-tags, policy-violations); all four at their budget still leave
 *   a fifth of it to the short outputs and to other steps of the job.
 * Since UTF-16 never takes more than twice the bytes of UTF-8, the UTF-8 budget alone would keep
 * the UTF-16 one; each is checked anyway so that neither rests on the other's number.
 */
export const OUTPUT_BUDGET: ByteBudget = { utf8: 96 * 1024, utf16: 192 * 1024 };

export interface BoundedArray {
  /** A JSON array of the first `kept` items. */
  json: string;
  kept: number;
  total: number;
}

/**
 * The longest prefix of `items` whose JSON array fits `budget`. `redact` is applied to each item's
 * JSON before it is measured, so what is measured is what is set. An item too big on its own ends
 * the prefix there: the items after it are left out too, so the output is always the list's start.
 */
export function boundedJsonArray(
  items: readonly unknown[],
  opts: { budget?: ByteBudget; redact?: (json: string) => string } = {},
): BoundedArray {
  const budget = opts.budget ?? OUTPUT_BUDGET;
  const redact = opts.redact ?? ((json: string) => json);
  const pieces: string[] = [];
  // The brackets; each item after the first adds a comma.
  let utf8 = 2;
  let utf16 = 4;
  for (const item of items) {
    const piece = redact(JSON.stringify(item));
    const separator = pieces.length > 0 ? 1 : 0;
    const nextUtf8 = utf8 + separator + Buffer.byteLength(piece, 'utf8');
    const nextUtf16 = utf16 + 2 * (separator + piece.length);
    if (nextUtf8 > budget.utf8 || nextUtf16 > budget.utf16) break;
    pieces.push(piece);
    utf8 = nextUtf8;
    utf16 = nextUtf16;
  }
  return { json: `[${pieces.join(',')}]`, kept: pieces.length, total: items.length };
}

/** An output that holds only the start of its list, and the file that holds all of it. */
export interface OutputCut {
  output: string;
  kept: number;
  total: number;
  file: string;
}

/** The cut of `output` when `bounded` left items out, else nothing: spread into a list of cuts. */
export function outputCut(output: string, bounded: BoundedArray, file: string): OutputCut[] {
  return bounded.kept < bounded.total ? [{ output, kept: bounded.kept, total: bounded.total, file }] : [];
}

/** The warning and summary line for a cut output. */
export function cutNote(cut: OutputCut): string {
  return `The ${cut.output} output holds the first ${cut.kept} of ${cut.total} items (each JSON output is kept under ${OUTPUT_BUDGET.utf8 / 1024} KiB so that it fits an environment variable and GitHub's limit on outputs); ${cut.file} beside graph.json holds all ${cut.total}.`;
}
