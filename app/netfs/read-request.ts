/**
 * A read request's state and its life (netfs_read_request + netfs_wait_for_read, digest §2).
 *
 *                 issue loop (read-issue.ts)                    collector (read-collect.ts)
 *   pool --load--> chain --slice--> subrequest --backend.read--> terminate --wake (head only)--> collect
 *                    ^                 |  DOWN / READ / ZERO / LOCL                 |  in file order:
 *                    |                 +-- NEED_RETRY -> PAUSE ----------------------+  deliver to consumer,
 *                    +------------- blocks freed as the collect position passes <----+  retry pass (read-retry.ts),
 *                                                                                       complete
 *
 * Consumers get finished ranges strictly in file order; the views they are handed stay valid
 * until their deliver() settles. Nothing partial is ever handed on as complete: on failure or
 * cancellation the request ends with its first error.
 */
import type { FileHandle } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { Expected } from '../remote/backend.js';
import { Bvecq, type BvecqPos } from './bvecq.js';
import type { CacheObjectIo } from './cache-api.js';
import type { EngineContext } from './context.js';
import { type NetfsOrigin, NetfsRequest, RREQ, type RequestListEntry } from './objects.js';
import { deferred, Semaphore } from './waits.js';

export interface ReadConsumer {
  /** Bytes [fpos, fpos + total) in file order; the views are valid until this settles. */
  deliver(fpos: number, views: readonly Uint8Array[]): Promise<void> | void;
}

export interface ReadParams {
  origin: Extract<NetfsOrigin, 'download' | 'read' | 'unbuffered-read'>;
  path: string;
  start: number;
  len: number;
  /** The file's size when the request started (i_size). */
  size: number;
  /** Beyond this the engine zero-fills without asking the server (default: size). */
  zeroPoint?: number;
  /** The version the request started with: sent as If-Match; a change abandons the request. */
  expect?: Expected;
  consumer: ReadConsumer;
  /** Stream 1, when the file has a cache object. */
  cache?: CacheObjectIo;
  /**
   * The cache is where the bytes are going (staging, stage.ts): a failed copy to it fails the
   * request instead of being skipped.
   */
  cacheRequired?: boolean;
  /** A synced local copy the caller knows is unchanged since the last sync: a third source. */
  localCopy?: string;
  /**
   * Bytes read from `localCopy` go to the cache too, from the same buffers (origin copy-to-cache:
   * "free up space" moves a synced file's bytes into the cache before the file is removed).
   */
  fillCacheFromLocal?: boolean;
  signal?: AbortSignal;
  /** Overrides the engine's rsize for this request (one whole GET from a server without ranges). */
  rsize?: number;
}

export interface ReadOutcome {
  /** Bytes delivered (zero-fill included). */
  transferred: number;
  /** The server said end of file before `size`: the file is shorter than expected. */
  shortAt: number | null;
  request: RequestListEntry;
}

export class ReadState {
  readonly req: NetfsRequest;
  readonly chain: Bvecq;
  readonly dispatch: BvecqPos;
  readonly collectPos: BvecqPos;
  readonly abort = new AbortController();
  readonly perRequest: Semaphore;
  readonly done = deferred<void>();
  readonly limit: number;
  collectedTo: number;
  inFlight = 0;
  /** Where a server said EOF before `size`, if it did. */
  shortAt: number | null = null;
  local: FileHandle | null = null;
  /** Copy-to-cache health for this request: a failed cache write stops further copies. */
  cacheState: 'ok' | 'failed' | 'no-space' = 'ok';
  /** Resolved when the collector clears PAUSE (issuer waits on it). */
  private unpause = deferred<void>();
  wakeCollector: () => void = () => {};

  constructor(readonly ctx: EngineContext, readonly params: ReadParams) {
    this.req = new NetfsRequest(params.origin, params.path, params.start, params.len);
    // One pool block per segment: a block goes back to the pool as soon as the collected point
    // has passed it, so a request holds no more than its subrequests in flight plus one block.
    this.chain = new Bvecq({ pool: ctx.pool, fpos: params.start, maxSlots: 1 });
    this.dispatch = this.chain.pos();
    this.collectPos = this.chain.pos();
    this.perRequest = new Semaphore(ctx.limits.maxInFlightPerRequest);
    this.collectedTo = params.start;
    this.limit = Math.min(params.size, params.zeroPoint ?? params.size);
    if (params.signal?.aborted === true) this.onAbort(); // no 'abort' event comes for a signal aborted already
    else params.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => this.cancel(new NetfsError('CANCELLED', `read ${this.params.path}: cancelled`));

  /** Stops listening to the caller's signal (one signal may serve thousands of reads: a whole sync pass). */
  detachSignal(): void {
    this.params.signal?.removeEventListener('abort', this.onAbort);
  }

  get origin(): string {
    return this.ctx.backend.origin;
  }

  pause(): void {
    if (!this.req.has(RREQ.PAUSE)) {
      this.req.set(RREQ.PAUSE);
      this.unpause = deferred<void>();
      this.ctx.trace.add({ kind: 'rreq', rreq: this.req.debugId, what: 'PAUSE' });
    }
  }

  resume(): void {
    if (this.req.has(RREQ.PAUSE)) {
      this.req.clear(RREQ.PAUSE);
      this.ctx.trace.add({ kind: 'rreq', rreq: this.req.debugId, what: 'UNPAUSE' });
      this.unpause.resolve();
    }
  }

  /** Waits while the request is paused (behaviour 20) or until it fails. */
  async waitUnpaused(): Promise<void> {
    while (this.req.has(RREQ.PAUSE) && !this.req.has(RREQ.FAILED)) await this.unpause.promise;
  }

  /** Fails the request and aborts everything in flight. */
  cancel(error: NetfsError): void {
    this.req.fail(error);
    this.abort.abort(error);
    this.unpause.resolve();
    this.wakeCollector();
  }
}
