/**
 * One open backing file, shared by the I/O in flight on it. Invalidation retires it: the file
 * has already been moved to the graveyard, and the descriptor closes when the last read or
 * write that started on it ends (so those can finish, and report themselves stale).
 *
 *   open ──> acquire/release ... ──> retire ──> (refs == 0) close
 *
 * Plus the positional I/O loops (short reads and writes continue; ENOSPC/EDQUOT map to
 * INSUFFICIENT_STORAGE, anything else to IO).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';

export class BackingFile {
  #refs = 0;
  #retired = false;
  #closing: Promise<void> | null = null;

  private constructor(readonly fh: FileHandle, public path: string) {}

  /** Opens `path`: 'create' makes a new empty file (truncating a leftover), 'existing' opens one. */
  static async open(path: string, how: 'create' | 'existing'): Promise<BackingFile> {
    const fh = await open(path, how === 'create' ? 'w+' : 'r+', 0o600).catch((e: unknown) => {
      throw ioError(e, `cache: open ${path}`);
    });
    return new BackingFile(fh, path);
  }

  acquire(): void {
    this.#refs++;
  }

  release(): void {
    this.#refs--;
    if (this.#retired && this.#refs === 0) void this.#close();
  }

  /** No new I/O; closes once the I/O in flight has ended. */
  retire(): Promise<void> {
    this.#retired = true;
    return this.#refs === 0 ? this.#close() : Promise.resolve();
  }

  #close(): Promise<void> {
    this.#closing ??= this.fh.close().catch(() => {});
    return this.#closing;
  }

  async readFull(pos: number, into: Uint8Array): Promise<void> {
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await this.fh.read(into, done, into.length - done, pos + done).catch((e: unknown) => {
        throw ioError(e, `cache read ${this.path}`);
      });
      if (bytesRead === 0) throw new NetfsError('IO', `cache read ${this.path}: backing file ends at ${pos + done}`);
      done += bytesRead;
    }
  }

  async writeFull(pos: number, views: readonly Uint8Array[]): Promise<void> {
    let offset = pos;
    for (const v of views) {
      let done = 0;
      while (done < v.length) {
        const { bytesWritten } = await this.fh.write(v, done, v.length - done, offset + done).catch((e: unknown) => {
          throw ioError(e, `cache write ${this.path}`);
        });
        if (bytesWritten <= 0) throw new NetfsError('IO', `cache write ${this.path}: no progress`);
        done += bytesWritten;
      }
      offset += v.length;
    }
  }

  async size(): Promise<number> {
    const st = await this.fh.stat().catch((e: unknown) => {
      throw ioError(e, `cache stat ${this.path}`);
    });
    return st.size;
  }

  async truncate(len: number): Promise<void> {
    await this.fh.truncate(len).catch((e: unknown) => {
      throw ioError(e, `cache truncate ${this.path}`);
    });
  }
}

export function ioError(e: unknown, what: string): NetfsError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return new NetfsError(code === 'ENOSPC' || code === 'EDQUOT' ? 'INSUFFICIENT_STORAGE' : 'IO', `${what}: ${message}`, { cause: e });
}
