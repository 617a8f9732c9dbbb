// One way to read a paged listing. Registries and vendor APIs point at their next page in
// different ways (a Link header, a `next` URL in the body, an opaque cursor, a page number), but
// the rules for following them are the same everywhere and live only here: a next-page URL is
// resolved against the page that named it and followed only on the listing's own origin (a link
// to a metadata address must never be requested with our credentials), max_pages caps the walk,
// and a page or cursor seen before ends the walk rather than looping. Every way a walk can stop
// short is worded once, below, and leaves the listing marked incomplete: a receipt that says
// "complete" must mean that nothing was left unread.
import type { z } from 'zod';
import { RegistryError } from '../errors.js';

/** One page as its reader understood it. */
export interface Page<T> {
  items: T[];
  /** One sentence for each row the page's schema refused, naming the row and the field. */
  rejected?: string[];
  /**
   * The next page: on a link walk a URL, absolute or relative to this page; on a cursor walk the
   * cursor to send back. Absent or empty at the end of the listing.
   */
  next?: string | undefined;
  /** The URL finally read, when the reader had to ask another than the one it was given. */
  url?: string;
  /** Why the rest of the listing cannot be read although there is more (a spent API budget). */
  end?: string;
}

export interface WalkLimits {
  /** Who sends the pages, for messages: "the registry", "the Hub API". */
  source: string;
  maxPages: number;
  /** Pages already read by walks sharing the same max_pages budget (several namespaces). */
  pagesBefore?: number;
}

export interface LinkWalkSpec<T> extends WalkLimits {
  first: string;
  /** The only origin whose pages are read; the first page's by default. */
  origin?: string;
  /** What is asked instead of a (resolved) next-page URL, for a server known to send wrong links. */
  rewrite?: (next: URL) => string;
  read(url: string, index: number): Promise<Page<T>>;
}

export interface CursorWalkSpec<T> extends WalkLimits {
  /** Reads a page; `cursor` is undefined for the first one. */
  read(cursor: string | undefined, index: number): Promise<Page<T>>;
}

export interface WalkVerdict {
  /** Pages read, those of `pagesBefore` included. */
  pages: number;
  /** False when the walk stopped early or a row could not be read; `problem` says why. */
  complete: boolean;
  problem?: string;
}

export interface Collected<T> extends WalkVerdict {
  items: T[];
}

/** Rows named one by one in a problem; the rest are counted. */
const ROWS_NAMED = 3;

function maxPagesProblem(pages: number): string {
  return `stopped after ${pages} pages (max_pages); raise max_pages to list everything`;
}

function otherOriginProblem(source: string, next: URL): string {
  return `${source}'s next-page link points to another origin (${next.host || next.protocol}); not followed`;
}

function repeatedPageProblem(source: string): string {
  return `${source}'s next page repeats a page already read; stopped`;
}

function unreadableLinkProblem(source: string): string {
  return `${source}'s next-page link is not a URL; not followed`;
}

function rejectedRowsProblem(named: readonly string[], count: number): string {
  const more = count - named.length;
  return `${count} unreadable ${count === 1 ? 'entry' : 'entries'} left out: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/** Where a walk goes next: a position to read, the end, or the reason it may not go on. */
type Step = { at: string } | { problem: string };

interface Follow<T> {
  start: string | undefined;
  read(at: string | undefined, index: number): Promise<Page<T>>;
  /** The position `next` names, read from the page at `from`. */
  next(next: string, from: string | undefined): Step;
}

/**
 * The pages of one listing, in order, as an async iterable; after the loop, `verdict` says how
 * many pages were read and whether the listing is whole. A reader's error ends the loop with it.
 */
export class PageWalk<T> implements AsyncIterable<Page<T>> {
  private pages: number;
  private stopped: string | undefined;
  /** The first rows refused, named in the problem; the rest are only counted. */
  private readonly rejected: string[] = [];
  private rejectedCount = 0;

  private constructor(
    private readonly limits: WalkLimits,
    private readonly follow: Follow<T>,
  ) {
    this.pages = limits.pagesBefore ?? 0;
  }

  /** A listing whose pages name the next one by URL (Link rel="next", a body's `next`). */
  static links<T>(spec: LinkWalkSpec<T>): PageWalk<T> {
    const origin = spec.origin ?? new URL(spec.first).origin;
    return new PageWalk(spec, {
      start: spec.first,
      read: (at, index) => spec.read(at!, index),
      next(next, from) {
        let url: URL;
        try {
          url = new URL(next, from);
        } catch {
          return { problem: unreadableLinkProblem(spec.source) };
        }
        if (spec.rewrite) url = new URL(spec.rewrite(url));
        if (url.origin !== origin) return { problem: otherOriginProblem(spec.source, url) };
        return { at: url.toString() };
      },
    });
  }

  /** A listing whose pages hand back a cursor (ECR nextToken, Quay next_page, a page number). */
  static cursors<T>(spec: CursorWalkSpec<T>): PageWalk<T> {
    return new PageWalk(spec, { start: undefined, read: spec.read, next: (next) => ({ at: next }) });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Page<T>> {
    const { source, maxPages } = this.limits;
    const seen = new Set<string | undefined>();
    let at = this.follow.start;
    let previous: string | undefined;
    for (let index = 0; ; index++) {
      if (this.pages >= maxPages) {
        this.stopped = maxPagesProblem(this.pages);
        return;
      }
      seen.add(at);
      const page = await this.follow.read(at, index);
      this.pages++;
      if (page.url !== undefined) seen.add(page.url);
      for (const row of page.rejected ?? []) {
        if (this.rejectedCount++ < ROWS_NAMED) this.rejected.push(`${row} (page ${index + 1})`);
      }
      // A server that ignores its own cursor (or page number) answers the same rows again, and
      // says there is more each time.
      const sameness = page.items.length > 0 ? pageSignature(page.items) : undefined;
      const again = !!page.next && sameness !== undefined && sameness === previous;
      previous = sameness;
      if (again) {
        this.stopped = repeatedPageProblem(source);
        return;
      }
      yield page;
      if (page.end) {
        this.stopped = page.end;
        return;
      }
      if (!page.next) return;
      const step = this.follow.next(page.next, page.url ?? at);
      if ('problem' in step) {
        this.stopped = step.problem;
        return;
      }
      if (seen.has(step.at)) {
        this.stopped = repeatedPageProblem(source);
        return;
      }
      at = step.at;
    }
  }

  /** Pages read so far and whether the listing is whole; final once the loop is over. */
  get verdict(): WalkVerdict {
    const problems = [
      ...(this.stopped ? [this.stopped] : []),
      ...(this.rejectedCount > 0 ? [rejectedRowsProblem(this.rejected, this.rejectedCount)] : []),
    ];
    if (problems.length === 0) return { pages: this.pages, complete: true };
    return { pages: this.pages, complete: false, problem: problems.join('; ') };
  }
}

/** A page told from the next by its size and its first and last rows. */
function pageSignature(items: readonly unknown[]): string {
  return `${items.length}:${JSON.stringify(items[0])}:${JSON.stringify(items[items.length - 1])}`;
}

/** Every item of every page, with the walk's verdict. */
export async function collectPages<T>(walk: PageWalk<T>): Promise<Collected<T>> {
  const items: T[] = [];
  for await (const page of walk) for (const item of page.items) items.push(item);
  return { items, ...walk.verdict };
}

/**
 * A fact a row may leave out, send as null or, in another API version, as another type: read as
 * absent rather than failing the row, which is still listed by the fields that identify it.
 */
export function optionalFact<S extends z.ZodType>(schema: S) {
  return schema.nullish().catch(undefined);
}

/**
 * A page's rows, each checked against `row`: the rows that fit, and for each that does not a
 * sentence naming it (its place on the page and its name when it has one) and the field at fault.
 * One bad row must neither fail the listing nor vanish from it unsaid.
 */
export function readRows<S extends z.ZodType>(
  rows: readonly unknown[],
  row: S,
  noun: string,
): { items: z.output<S>[]; rejected: string[] } {
  const items: z.output<S>[] = [];
  const rejected: string[] = [];
  rows.forEach((raw, i) => {
    const parsed = row.safeParse(raw, { reportInput: true });
    if (parsed.success) {
      items.push(parsed.data);
      return;
    }
    const name = (raw as { name?: unknown } | null)?.name;
    const label = typeof name === 'string' ? ` ${JSON.stringify(name.slice(0, 100))}` : '';
    rejected.push(`${noun} ${i + 1}${label}: ${issueText(parsed.error.issues[0])}`);
  });
  return { items, rejected };
}

/**
 * A whole page checked against its schema; a page that does not fit (no list where the listing
 * should be, another JSON document altogether) is an error naming the field, not an empty page,
 * for an empty listing read as complete would remove everything it used to hold.
 */
export function readPage<S extends z.ZodType>(doc: unknown, page: S, where: string): z.output<S> {
  const parsed = page.safeParse(doc, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new RegistryError(`${where}: ${issueText(parsed.error.issues[0])}`);
}

function issueText(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'not readable';
  const field = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return field ? `no "${field}" field` : 'nothing';
  const got = issue.code === 'invalid_type' ? ` (${describeInput(issue.input)})` : '';
  const what = issue.code === 'invalid_type' ? `not ${article(issue.expected)}` : issue.message;
  return field ? `"${field}" is ${what}${got}` : `${what}${got}`;
}

function article(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a JSON object';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'object' ? 'an object' : typeof input;
}
