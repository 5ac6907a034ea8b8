/**
 * A read consumer that writes into a file (the download's target: a temp file the sync layer
 * places, or a cache staging object): positional, vectored writes of whole chain views (no
 * stream pipes, no copies), with the flush spread over the transfer — an fdatasync of what is
 * already written every `syncEvery` bytes, so the final fsync has little left to do.
 *
 *   deliver(fpos, views) -> pwritev(fd, views, fpos) (looped on short writes)
 *                           every syncEvery bytes: fdatasync in the background (one at a time)
 *   finish(size)         -> wait for it, truncate to size, fsync, close
 *   discard()            -> close and unlink (nothing partial is left under any name)
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import { skipViews } from './waits.js';
import type { ReadConsumer } from './read-request.js';

export interface FileSinkOptions {
  /** Flush what is written every this many bytes (default 64 MiB; 0: only at the end). */
  syncEvery?: number;
}

export class FileSink implements ReadConsumer {
  private written = 0;
  private sinceSync = 0;
  private syncing: Promise<void> | null = null;
  private syncError: unknown = null;
  private closed = false;

  private constructor(readonly path: string, private readonly fh: FileHandle, private readonly syncEvery: number) {}

  static async create(path: string, options: FileSinkOptions = {}): Promise<FileSink> {
    try {
      const fh = await open(path, 'w', 0o600);
      return new FileSink(path, fh, options.syncEvery ?? 64 * 1024 * 1024);
    } catch (e) {
      throw new NetfsError((e as NodeJS.ErrnoException).code === 'ENOSPC' ? 'INSUFFICIENT_STORAGE' : 'IO', `cannot create ${path}: ${(e as Error).message}`);
    }
  }

  get bytesWritten(): number {
    return this.written;
  }

  async deliver(fpos: number, views: readonly Uint8Array[]): Promise<void> {
    if (this.syncError !== null) throw this.mapError(this.syncError);
    let rest = views as Uint8Array[];
    let pos = fpos;
    let total = 0;
    for (const v of views) total += v.length;
    try {
      while (total > 0) {
        const { bytesWritten } = await this.fh.writev(rest, pos);
        if (bytesWritten <= 0) throw new NetfsError('IO', `${this.path}: write made no progress`);
        total -= bytesWritten;
        pos += bytesWritten;
        this.written += bytesWritten;
        this.sinceSync += bytesWritten;
        if (total > 0) rest = skipViews(rest, bytesWritten);
      }
    } catch (e) {
      throw this.mapError(e);
    }
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

  /** Everything is written: make it durable, at exactly `size` bytes. */
  async finish(size: number): Promise<void> {
    try {
      if (this.syncing !== null) await this.syncing;
      if (this.syncError !== null) throw this.syncError;
      await this.fh.truncate(size);
      await this.fh.sync();
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
