/**
 * An upload's request-level state (netfs_io_request of origin WB, digest §3.2): what lives
 * across the attempts of one upload — the request and its subrequests, the local file and the
 * version of it being uploaded, the cache stream, cancellation.
 *
 *   upload(path, { localFile, precondition, cache? })
 *     UploadRequest R=0000002a  origin WB  [0, size)
 *       local file: open once, version = (dev, ino, size, mtime ns, ctime ns) at the start
 *       stream 0 (server)  UPLD [0] 0..8M  [1] 8M..16M  [2] 16M..size    windows of ONE PUT
 *       stream 1 (cache)   WRIT [3] 0..1M  [4] 1M..2M ...                 whole cache blocks
 *       attempt 1: UploadPass (chain, loader, PUT body) --TRANSIENT--> retry: attempt 2 from 0
 *
 * Per-attempt state (the buffer chain, the loader, the PUT's body) is an UploadPass
 * (write-issue.ts); the cache stream (write-cache.ts) carries on across attempts, so bytes
 * cached by an attempt whose PUT failed are not written again.
 */
import type { FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { isNetfsError, NetfsError } from '../api/errors.js';
import type { Precondition, WriteResult } from '../remote/backend.js';
import type { CacheObjectIo } from './cache-api.js';
import type { EngineContext } from './context.js';
import { NetfsRequest, type NetfsSubrequest, type RequestListEntry } from './objects.js';
import type { TraceEvent } from './trace.js';
import type { CacheStream } from './write-cache.js';

export interface UploadParams {
  /** Remote path. */
  path: string;
  /** The local file whose bytes are uploaded. */
  localFile: string;
  /** The size the caller saw (the scan); a file of another size fails at once as changed locally. */
  size?: number;
  /** `absent` (If-None-Match: *) for a new file, `match` (If-Match) for an existing one. */
  precondition: Precondition;
  /** Modification time to set where the backend can (passed through to backend.write). */
  mtimeMs?: number;
  /** Stream 1: the file's cache object, written with the same bytes in whole cache blocks. */
  cache?: CacheObjectIo;
  signal?: AbortSignal;
  /** Background writeback: skip (status 'skipped') rather than wait when one is in progress. */
  opportunistic?: boolean;
}

/**
 * What became of the cache object: `none` (no cache given), `current` (every byte written and
 * collected), `stopped` (no space: what was written first is kept, the rest is a hole),
 * `invalidated` (a cache write failed otherwise, or the upload failed), `untouched` (the upload
 * failed before anything was written to it).
 */
export type UploadCacheOutcome = 'none' | 'current' | 'stopped' | 'invalidated' | 'untouched';

export type UploadOutcome =
  | { status: 'uploaded'; result: WriteResult; bytes: number; cache: UploadCacheOutcome; request: RequestListEntry }
  | { status: 'skipped'; reason: string };

/** The identity and version of the local file: any change to it during the upload shows here. */
export interface LocalVersion {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function localVersionOf(s: BigIntStats): LocalVersion {
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
}

/** What differs between two versions, or null when they are the same. */
export function versionChange(a: LocalVersion, b: LocalVersion): string | null {
  if (a.dev !== b.dev || a.ino !== b.ino) return 'it was replaced';
  if (a.size !== b.size) return `its size went from ${a.size} to ${b.size} bytes`;
  if (a.mtimeNs !== b.mtimeNs || a.ctimeNs !== b.ctimeNs) return 'it was modified';
  return null;
}

/**
 * The local file changed under the upload: TRANSIENT, so the sync layer re-plans and uploads
 * the new content later; the engine itself does not retry it (the file may still be changing).
 */
export function changedLocally(path: string, localFile: string, what: string): NetfsError {
  return new NetfsError('TRANSIENT', `upload ${path}: the local file ${JSON.stringify(localFile)} changed during the upload (${what}); nothing was committed`);
}

export function asNetfsError(e: unknown, what: string): NetfsError {
  if (e instanceof NetfsError) return e;
  if (isNetfsError(e)) return new NetfsError(e.code, e.message, { cause: e });
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return new NetfsError(code === 'ENOSPC' || code === 'EDQUOT' ? 'INSUFFICIENT_STORAGE' : 'IO', `${what}: ${message}`, { cause: e });
}

export class UploadRequest {
  readonly req: NetfsRequest;
  /** Cancels the whole upload: the caller's signal, or the engine giving up. */
  readonly abort = new AbortController();
  /** Set once the local file is open. */
  fh: FileHandle | null = null;
  version: LocalVersion | null = null;
  size = 0;
  cache: CacheStream | null = null;
  readonly #onAbort: () => void;

  constructor(readonly ctx: EngineContext, readonly params: UploadParams) {
    this.req = new NetfsRequest('upload', params.path, 0, 0);
    this.#onAbort = () => this.abort.abort(new NetfsError('CANCELLED', `upload ${params.path}: cancelled`));
    if (params.signal?.aborted === true) this.#onAbort();
    else params.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get origin(): string {
    return this.ctx.backend.origin;
  }

  get wsize(): number {
    return this.ctx.limits.wsize;
  }

  /** The error a cancelled upload reports. */
  cancelled(): NetfsError {
    const reason: unknown = this.abort.signal.reason;
    return reason instanceof NetfsError ? reason : new NetfsError('CANCELLED', `upload ${this.params.path}: cancelled`);
  }

  traceRreq(what: string, extra: Partial<Omit<TraceEvent, 'seq' | 'timeMs' | 'kind' | 'rreq' | 'what'>> = {}): void {
    this.ctx.trace.add({ kind: 'rreq', rreq: this.req.debugId, what, ...extra });
  }

  traceSreq(sreq: NetfsSubrequest, what: string, extra: { error?: string; note?: string; start?: number; len?: number } = {}): void {
    this.ctx.trace.add({
      kind: 'sreq', rreq: this.req.debugId, sreq: sreq.index, source: sreq.source, what,
      start: sreq.start, transferred: sreq.transferred, len: sreq.len, ...extra,
    });
  }

  /** Stops listening to the caller's signal (the upload is over). */
  detachSignal(): void {
    this.params.signal?.removeEventListener('abort', this.#onAbort);
  }
}
