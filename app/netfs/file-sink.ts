/**
 * A read consumer that writes into a file (the download's target: a temp file the sync layer
 * places, or a cache staging object): positional, vectored writes of whole chain views (no
 * stream pipes, no copies), with the flush spread over the transfer — an fdatasync of what is
 * already written every `syncEvery` bytes, so the final fsync has little left to do.
 *
 *   deliver(fpos, views) -> pwritev(fd, ≤512 KiB of views, pos) × up to 4 at once (looped on
 *                           short writes): one big write costs far more system time than several
 *                           smaller concurrent ones on these machines (measured by npm run bench)
 *                           every syncEvery bytes: fdatasync in the background (one at a time)
 *   finish(size)         -> wait for it, truncate to size (when not already), mode and mtime
 *                           (when asked: set before the fsync, so they are as durable as the
 *                           bytes), fsync, close
 *   discard()            -> close and unlink (nothing partial is left under any name)
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import { skipViews, takeViews } from './waits.js';

/** Bytes per positional write, and how many run at once. */
const WRITE_CHUNK = 512 * 1024;
const WRITES_IN_FLIGHT = 4;
import type { ReadConsumer } from './read-request.js';

export interface FileSinkOptions {
  /** Flush what is written every this many bytes (default 64 MiB; 0: only at the end). */
  syncEvery?: number;
  /**
   * false: no fdatasync, no final fsync — the file is left to the page cache, as `cat > file`
   * or a shell redirect does (a copy for the user to look at, not a synced file). Default true.
   */
  durable?: boolean;
  /** Set on the file before the final fsync (it is created 0600). */
  mode?: number;
  /** Set as the file's modification (and access) time before the final fsync. */
  mtimeMs?: number;
}

export class FileSink implements ReadConsumer {
  private written = 0;
  /** The highest file position written + 1. */
  private highest = 0;
  private sinceSync = 0;
  private syncing: Promise<void> | null = null;
  private syncError: unknown = null;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly syncEvery: number,
    private readonly durable: boolean,
    private readonly finalMode: number | undefined,
    private readonly finalMtimeMs: number | undefined,
  ) {}

  static async create(path: string, options: FileSinkOptions = {}): Promise<FileSink> {
    try {
      const fh = await open(path, 'w', 0o600);
      const durable = options.durable ?? true;
      return new FileSink(path, fh, durable ? (options.syncEvery ?? 64 * 1024 * 1024) : 0, durable, options.mode, options.mtimeMs);
    } catch (e) {
      throw new NetfsError((e as NodeJS.ErrnoException).code === 'ENOSPC' ? 'INSUFFICIENT_STORAGE' : 'IO', `cannot create ${path}: ${(e as Error).message}`);
    }
  }

  get bytesWritten(): number {
    return this.written;
  }

  async deliver(fpos: number, views: readonly Uint8Array[]): Promise<void> {
    if (this.syncError !== null) throw this.mapError(this.syncError);
    let total = 0;
    for (const v of views) total += v.length;
    // Positional writes of at most WRITE_CHUNK bytes, several at once (libuv's pool has four
    // threads): large single writes cost far more system time here than several small ones.
    const chunks: Array<{ pos: number; views: Uint8Array[]; len: number }> = [];
    for (let off = 0; off < total; off += WRITE_CHUNK) {
      const len = Math.min(WRITE_CHUNK, total - off);
      chunks.push({ pos: fpos + off, views: takeViews(skipViews(views, off), len), len });
    }
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < chunks.length) {
          const c = chunks[next++]!;
          await this.writeAll(c.pos, c.views, c.len);
        }
      };
      await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, chunks.length) }, worker));
    } catch (e) {
      throw this.mapError(e);
    }
    this.written += total;
    this.highest = Math.max(this.highest, fpos + total);
    this.sinceSync += total;
    if (this.syncEvery > 0 && this.sinceSync >= this.syncEvery && this.syncing === null) {
      this.sinceSync = 0;
      this.syncing = this.fh.datasync().then(
        () => {
          this.syncing = null;
        },
        (e: unknown) => {
          this.syncError = e;
          this.syncing = null;
        },
      );
    }
  }

  private async writeAll(pos: number, views: Uint8Array[], len: number): Promise<void> {
    let rest = views;
    let left = len;
    let at = pos;
    while (left > 0) {
      const { bytesWritten } = await this.fh.writev(rest, at);
      if (bytesWritten <= 0) throw new NetfsError('IO', `${this.path}: write made no progress`);
      left -= bytesWritten;
      at += bytesWritten;
      if (left > 0) rest = skipViews(rest, bytesWritten);
    }
  }

  /** Everything is written: make it durable, at exactly `size` bytes. */
  async finish(size: number): Promise<void> {
    try {
      if (this.syncing !== null) await this.syncing;
      if (this.syncError !== null) throw this.syncError;
      // Created empty ('w'): written exactly to its size, there is nothing to cut.
      if (this.written !== size || this.highest !== size) await this.fh.truncate(size);
      if (this.finalMode !== undefined) await this.fh.chmod(this.finalMode);
      if (this.finalMtimeMs !== undefined) {
        const t = new Date(this.finalMtimeMs);
        await this.fh.utimes(t, t);
      }
      if (this.durable) await this.fh.sync();
    } catch (e) {
      throw this.mapError(e);
    } finally {
      await this.close();
    }
  }

  /** Gives up: nothing of it is left on disk. */
  async discard(): Promise<void> {
    await this.close();
    await unlink(this.path).catch(() => {});
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.syncing !== null) await this.syncing.catch(() => {});
    await this.fh.close().catch(() => {});
  }

  private mapError(e: unknown): NetfsError {
    if (e instanceof NetfsError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    return new NetfsError(code === 'ENOSPC' || code === 'EDQUOT' ? 'INSUFFICIENT_STORAGE' : 'IO', `writing ${this.path}: ${(e as Error).message}`);
  }
}
