/**
 * The netfs engine's front door: one per account, over one backend.
 *
 *   NetfsEngine
 *     download(path → file)   origin download (RA): whole file, durable (fsync), nothing left on failure
 *     stage(path → cache object)    origin download (RA) into a synced file's staging object: only
 *                                   the missing ranges, bytes to the cache only (resumes; stage.ts)
 *     read(path, range → consumer)  origin read (RP) or unbuffered read (UR)
 *     upload(path ← local file)     origin upload (WB): one PUT, + the cache stream; one per file at a time
 *     unbufferedWrite(path, offset, bytes | file region)  origin unbuffered write (UW): ranged writes
 *                                   in strict sequence; a file region is read into the pool first
 *                                   and written short if it could be read only in part
 *     stats() / formatStats() / requests() / trace()     /proc/fs/netfs-style observability
 */
import { NetfsError } from '../api/errors.js';
import type { Expected } from '../remote/backend.js';
import type { CacheObjectIo } from './cache-api.js';
import { createEngineContext, type EngineContext, type EngineOptions } from './context.js';
import { NetfsEventStream, type NetfsSnapshot } from './events.js';
import { netfsUnbufferedWrite, type UnbufferedWriteOutcome, type UnbufferedWriteParams } from './direct-write.js';
import { FileSink } from './file-sink.js';
import type { RequestListEntry } from './objects.js';
import { netfsRead } from './read.js';
import { netfsStage, type StageOutcome, type StageParams } from './stage.js';
import type { ReadConsumer, ReadOutcome } from './read-request.js';
import { formatNetfsStats, type NetfsStats } from './stats.js';
import type { TraceEvent } from './trace.js';
import { netfsUpload } from './upload.js';
import type { UploadOutcome, UploadParams } from './write-request.js';

/** engine.upload's options: the local file, the precondition, optionally the expected size, mtime, cache. */
export type UploadOptions = Omit<UploadParams, 'path'>;

/** engine.unbufferedWrite's options. */
export type UnbufferedWriteOptions = Omit<UnbufferedWriteParams, 'path'>;

export interface DownloadOptions {
  /** The size the listing gave. */
  size: number;
  /** The version the listing gave; a change during the download fails it with CHANGED_ON_SERVER. */
  expect?: Expected;
  /** Where the bytes go (created or truncated, mode 0600): a temp file the caller places afterwards. */
  target: string;
  cache?: CacheObjectIo;
  localCopy?: string;
  signal?: AbortSignal;
  /** Flush what is written every this many bytes (default 64 MiB). */
  syncEvery?: number;
  /** false: the target is left to the page cache, no fsync (a copy to look at, like `cat > file`). Default true. */
  durable?: boolean;
  /** The target's mode once whole (it is created 0600); set before the final fsync. */
  mode?: number;
  /** The target's modification time once whole (the server's); set before the final fsync. */
  mtimeMs?: number;
}

/** engine.stage's options: the size and version the listing gave, the staging cache object. */
export type StageOptions = Omit<StageParams, 'path'>;

export interface RangeReadOptions {
  offset: number;
  length: number;
  size: number;
  expect?: Expected;
  consumer: ReadConsumer;
  cache?: CacheObjectIo;
  localCopy?: string;
  signal?: AbortSignal;
  /** No cache, server only (origin UR). */
  unbuffered?: boolean;
  /** Bytes read from `localCopy` are copied into `cache` too (free up space). */
  fillCacheFromLocal?: boolean;
}

export class NetfsEngine {
  readonly ctx: EngineContext;
  private readonly events: NetfsEventStream;

  constructor(options: EngineOptions) {
    this.ctx = createEngineContext(options);
    this.events = new NetfsEventStream(this.ctx);
  }

  /** Coalesced snapshots of requests and counters, at most 10 a second; returns the unsubscribe. */
  onSnapshot(listener: (s: NetfsSnapshot) => void): () => void {
    return this.events.subscribe(listener);
  }

  async download(path: string, options: DownloadOptions): Promise<{ bytes: number; request: RequestListEntry }> {
    const sink = await FileSink.create(options.target, {
      ...(options.syncEvery === undefined ? {} : { syncEvery: options.syncEvery }),
      ...(options.durable === undefined ? {} : { durable: options.durable }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.mtimeMs === undefined ? {} : { mtimeMs: options.mtimeMs }),
    });
    try {
      const outcome = await netfsRead(this.ctx, {
        origin: 'download',
        path,
        start: 0,
        len: options.size,
        size: options.size,
        consumer: sink,
        ...(options.expect === undefined ? {} : { expect: options.expect }),
        ...(options.cache === undefined ? {} : { cache: options.cache }),
        ...(options.localCopy === undefined ? {} : { localCopy: options.localCopy }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      if (outcome.shortAt !== null) {
        throw new NetfsError('CHANGED_ON_SERVER', `${path}: the server's file ends at ${outcome.shortAt} bytes, not ${options.size}: it changed`);
      }
      await sink.finish(options.size);
      return { bytes: options.size, request: outcome.request };
    } catch (e) {
      await sink.discard();
      throw e;
    }
  }

  /**
   * Downloads what `options.cache` (a synced file's staging object, app/cache/staging.ts) does not
   * hold yet into it, and nothing anywhere else; fails unless the object is whole afterwards.
   * The caller then places the object in the sync folder (app/cache/staging.ts placeStaged).
   */
  stage(path: string, options: StageOptions): Promise<StageOutcome> {
    return netfsStage(this.ctx, { ...options, path });
  }

  read(path: string, options: RangeReadOptions): Promise<ReadOutcome> {
    const size = options.size;
    const start = Math.min(options.offset, size);
    const len = Math.max(0, Math.min(options.offset + options.length, size) - start);
    return netfsRead(this.ctx, {
      origin: options.unbuffered === true ? 'unbuffered-read' : 'read',
      path,
      start,
      len,
      size,
      consumer: options.consumer,
      ...(options.expect === undefined ? {} : { expect: options.expect }),
      ...(options.cache === undefined || options.unbuffered === true ? {} : { cache: options.cache }),
      ...(options.localCopy === undefined ? {} : { localCopy: options.localCopy }),
      ...(options.fillCacheFromLocal === true ? { fillCacheFromLocal: true, cacheRequired: true } : {}),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /**
   * Streams `localFile` into one PUT of `remotePath` through the buffer chain (and into `cache`
   * in whole blocks). Fails if the local file changes meanwhile; retries a TRANSIENT failure of
   * the PUT from byte 0 at most maxRetries times; 412 is CHANGED_ON_SERVER. One upload per path
   * at a time: `opportunistic` ones skip instead of waiting.
   */
  upload(remotePath: string, options: UploadOptions): Promise<UploadOutcome> {
    return netfsUpload(this.ctx, { ...options, path: remotePath });
  }

  /**
   * Writes `data` at `offset` into the existing remote file with ranged writes in strict
   * sequence; UNSUPPORTED where the backend has no writeRange (plain WebDAV). `data` is the
   * caller's memory or a `{ file, fileOffset?, length }` region of a local file, read into pool
   * blocks before anything is sent: when only a prefix of it can be read (an I/O error, the
   * file ends early) that prefix is written and `short` says why; when nothing can be read, or
   * the pool cannot lend the memory, the write fails (digest §4.5 C, behaviour 56).
   */
  unbufferedWrite(path: string, options: UnbufferedWriteOptions): Promise<UnbufferedWriteOutcome> {
    return netfsUnbufferedWrite(this.ctx, { ...options, path });
  }

  stats(): NetfsStats {
    return this.ctx.stats;
  }

  formatStats(): string {
    return formatNetfsStats(this.ctx.stats);
  }

  requests(): RequestListEntry[] {
    return [...this.ctx.live].map((r) => r.describe());
  }

  trace(sinceSeq = 0): TraceEvent[] {
    return this.ctx.trace.events(sinceSeq);
  }
}
