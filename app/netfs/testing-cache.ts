/**
 * The engine's test cache, until app/cache lands: a small but REAL CacheObjectIo over one
 * file on disk with an extent list. It stores and returns real bytes (positional writes and
 * reads of its backing file), checks the alignment rules the engine must keep, and makes data
 * visible to readers only once collectWrite says its run is finished, as cachefiles does. It
 * is not a mock: tests break it the way a real cache breaks (a full tmpfs, an injected EIO).
 *
 *   backing file  [####data####][..hole..][##data##][written, not collected]
 *   written   : ranges written since they were last collected   (not visible to readers)
 *   committed : ranges collectWrite made visible                 (queryOccupancy, read)
 *
 *   write(start, views)     start on a block boundary; end on one too, or at objectSize (EOF)
 *                           -> pwritev loop; ENOSPC/EDQUOT -> INSUFFICIENT_STORAGE, else IO
 *   collectWrite(start,len) the range must have been written -> committed
 *   queryOccupancy(s, e)    at most two committed DATA extents within [s, e)
 *   read(start, buffers)    only committed bytes (else IO "not cached") -> preadv
 *   invalidate(reason)      truncate to 0, forget every extent, remember the reason
 *
 * Not here (app/cache's job): the sidecar with coherency data (ETag, size), culling, space
 * accounting, crash safety of the extent list (it lives in memory only).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { CacheInvalidateReason, CacheObjectIo, OccupancyExtent } from './cache-api.js';
import { skipViews } from './waits.js';

export interface FileCacheObjectOptions {
  /** Cache block size (default 4096): writes must be whole blocks, except a tail at objectSize. */
  blockSize?: number;
  /** Content tracking granule (default 65536). */
  granule?: number;
  /** The file's size (its EOF), when known: a trailing partial block may end there. */
  objectSize?: number;
}

type Range = [number, number];

/** Adds [s, e) to a sorted list of disjoint ranges, merging neighbours. */
export function addRange(list: Range[], s: number, e: number): void {
  if (e <= s) return;
  const out: Range[] = [];
  let a = s;
  let b = e;
  let placed = false;
  for (const [x, y] of list) {
    if (y < a) out.push([x, y]);
    else if (x > b) {
      if (!placed) out.push([a, b]);
      placed = true;
      out.push([x, y]);
    } else {
      a = Math.min(a, x);
      b = Math.max(b, y);
    }
  }
  if (!placed) out.push([a, b]);
  list.splice(0, list.length, ...out);
}

/** Removes [s, e) from a sorted list of disjoint ranges. */
export function removeRange(list: Range[], s: number, e: number): void {
  const out: Range[] = [];
  for (const [x, y] of list) {
    if (y <= s || x >= e) out.push([x, y]);
    else {
      if (x < s) out.push([x, s]);
      if (y > e) out.push([e, y]);
    }
  }
  list.splice(0, list.length, ...out);
}

/** True when [s, e) lies wholly inside one range of the list. */
export function coversRange(list: readonly Range[], s: number, e: number): boolean {
  if (e <= s) return true;
  return list.some(([x, y]) => x <= s && e <= y);
}

export class FileCacheObject implements CacheObjectIo {
  readonly blockSize: number;
  readonly granule: number;
  objectSize: number | null;
  /** Visible to readers. */
  readonly committed: Range[] = [];
  /** Written, not yet collected. */
  readonly written: Range[] = [];
  /** Every write and collect, for tests: [start, len]. */
  readonly writeLog: Range[] = [];
  readonly collectLog: Range[] = [];
  readonly invalidations: CacheInvalidateReason[] = [];
  #fh: FileHandle;

  private constructor(readonly path: string, fh: FileHandle, options: FileCacheObjectOptions) {
    this.#fh = fh;
    this.blockSize = options.blockSize ?? 4096;
    this.granule = options.granule ?? 65536;
    this.objectSize = options.objectSize ?? null;
  }

  /** A new, empty cache object backed by `path` (created or truncated). */
  static async create(path: string, options: FileCacheObjectOptions = {}): Promise<FileCacheObject> {
    const fh = await open(path, 'w+', 0o600);
    return new FileCacheObject(path, fh, options);
  }

  async queryOccupancy(start: number, end: number): Promise<OccupancyExtent[]> {
    const out: OccupancyExtent[] = [];
    for (const [x, y] of this.committed) {
      const s = Math.max(x, start);
      const e = Math.min(y, end);
      if (e > s) out.push({ start: s, end: e, type: 'DATA' });
      if (out.length === 2) break;
    }
    return out;
  }

  async read(start: number, buffers: readonly Uint8Array[], signal?: AbortSignal): Promise<number> {
    let total = 0;
    for (const b of buffers) total += b.length;
    if (!coversRange(this.committed, start, start + total)) {
      throw new NetfsError('IO', `cache ${this.path}: [${start}, ${start + total}) is not cached`);
    }
    let done = 0;
    let rest = [...buffers];
    while (done < total) {
      if (signal?.aborted === true) throw new NetfsError('CANCELLED', `cache read ${this.path}: cancelled`);
      const { bytesRead } = await this.#fh.readv(rest, start + done).catch((e: unknown) => {
        throw mapError(e, `cache read ${this.path}`);
      });
      if (bytesRead === 0) throw new NetfsError('IO', `cache ${this.path}: backing file ends at ${start + done}`);
      done += bytesRead;
      rest = skipViews(rest, bytesRead);
    }
    return done;
  }

  async write(start: number, views: readonly Uint8Array[]): Promise<void> {
    let len = 0;
    for (const v of views) len += v.length;
    const end = start + len;
    const bs = this.blockSize;
    if (start % bs !== 0 || (end % bs !== 0 && end !== this.objectSize)) {
      throw new NetfsError('INVALID_ARGUMENT', `cache ${this.path}: write [${start}, ${end}) is not in whole ${bs}-byte blocks (EOF ${this.objectSize ?? 'unknown'})`);
    }
    this.writeLog.push([start, len]);
    let done = 0;
    let rest = [...views];
    while (done < len) {
      const { bytesWritten } = await this.#fh.writev(rest, start + done).catch((e: unknown) => {
        throw mapError(e, `cache write ${this.path} [${start}+${len}]`);
      });
      if (bytesWritten <= 0) throw new NetfsError('IO', `cache write ${this.path}: no progress`);
      done += bytesWritten;
      rest = skipViews(rest, bytesWritten);
    }
    addRange(this.written, start, end);
  }

  async collectWrite(start: number, len: number): Promise<void> {
    if (!coversRange(this.written, start, start + len)) {
      throw new NetfsError('INVALID_ARGUMENT', `cache ${this.path}: collectWrite [${start}, ${start + len}) was not (wholly) written`);
    }
    this.collectLog.push([start, len]);
    removeRange(this.written, start, start + len);
    addRange(this.committed, start, start + len);
  }

  async invalidate(reason: CacheInvalidateReason): Promise<void> {
    this.invalidations.push(reason);
    this.committed.length = 0;
    this.written.length = 0;
    await this.#fh.truncate(0);
  }

  /** Bytes the object holds for readers (for tests). */
  get committedBytes(): number {
    return this.committed.reduce((n, [x, y]) => n + (y - x), 0);
  }

  async close(): Promise<void> {
    await this.#fh.close().catch(() => {});
  }
}

function mapError(e: unknown, what: string): NetfsError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return new NetfsError(code === 'ENOSPC' || code === 'EDQUOT' ? 'INSUFFICIENT_STORAGE' : 'IO', `${what}: ${message}`, { cause: e });
}
