// Entities parked in a temporary file while a run goes on, so a large registry's graph does not
// sit in the heap (which V8 grows well past what is live). Each is written once as compact JSON
// and read back by position when an output needs it.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Appends are gathered to about this size before one write. */
const BATCH = 1 << 16;
/**
 * Reads fetch at least this much: an output reads entities in name order, and a repository's
 * entities sit together in the file, so most reads are served from the previous one's block
 * rather than costing a read call per entity.
 */
const BLOCK = 1 << 14;

const open = new Set<EntitySpill>();
let exitHooked = false;

export class EntitySpill {
  private readonly dir: string;
  private fd: number | undefined;
  private written = 0;
  private batch: string[] = [];
  private batchBytes = 0;
  private removed = false;
  /** The last block read, and where in the file it starts. */
  private block: Buffer = Buffer.alloc(0);
  private blockStart = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'devgraph-docker-'));
    // Owner-only: the texts are redacted as written, but a registry's labels are still private.
    this.fd = openSync(join(this.dir, 'entities.jsonl'), 'w+', 0o600);
    try {
      // Unlinked at once where the system allows it (Linux, macOS): the open descriptor still
      // reads and writes it, and nothing is left behind however the process ends.
      rmSync(this.dir, { recursive: true });
      this.removed = true;
    } catch {
      // Windows keeps an open file: removed on close, or at exit for a run that never closes.
      open.add(this);
      if (!exitHooked) {
        exitHooked = true;
        process.once('exit', () => {
          for (const spill of open) spill.close();
        });
      }
    }
  }

  /** Stores `text`; the returned position reads it back. */
  append(text: string): { offset: number; length: number } {
    const length = Buffer.byteLength(text, 'utf8');
    const offset = this.written + this.batchBytes;
    this.batch.push(text);
    this.batchBytes += length;
    if (this.batchBytes >= BATCH) this.flush();
    return { offset, length };
  }

  read(offset: number, length: number): string {
    if (offset + length > this.written) this.flush();
    const at = offset - this.blockStart;
    if (at < 0 || at + length > this.block.length) {
      this.block = this.readAt(offset, Math.max(length, Math.min(BLOCK, this.written - offset)));
      this.blockStart = offset;
      if (this.block.length < length)
        throw new Error(`entity spill: ${length} bytes at ${offset} are past the end of the file`);
    }
    const from = offset - this.blockStart;
    return this.block.toString('utf8', from, from + length);
  }

  /** Removes the file; the spill cannot be read after. */
  close(): void {
    open.delete(this);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (!this.removed) rmSync(this.dir, { recursive: true, force: true });
    this.removed = true;
  }

  /** Up to `length` bytes at `offset`; fewer only at the end of the file. */
  private readAt(offset: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.handle(), buffer, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const text = this.batch.join('');
    this.batch = [];
    let buffer = Buffer.from(text, 'utf8');
    while (buffer.length > 0) {
      const n = writeSync(this.handle(), buffer, 0, buffer.length, this.written);
      this.written += n;
      buffer = buffer.subarray(n);
    }
    this.batchBytes = 0;
  }

  private handle(): number {
    if (this.fd === undefined) throw new Error('entity spill: read after close');
    return this.fd;
  }
}
