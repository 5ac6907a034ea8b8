/**
 * One attempt of an upload (netfs_writepages' issue side, digest §3.2, §3.3): the local file
 * is read into the buffer chain and fed, without copies, to the PUT's body and to the cache.
 *
 *   local file --pread--> pool block --load--> chain (one block per segment)
 *     loader: at most wsize ahead of the slowest stream; waits in the pool when it is empty
 *                                     |
 *             +-----------------------+------------------------------+
 *             v                                                      v
 *   upload position: body() yields the chain's views     cache position: CacheStream.pump()
 *   to backend.write's source, in order, as UPLD          writes whole cache blocks
 *   subrequests of at most wsize (behaviour 44)           (write-cache.ts)
 *             |
 *   a view stays pinned until TRANSPORT_SLACK more bytes were taken (the socket may still be
 *   flushing what it accepted); a block goes back to the pool when both positions passed it.
 *
 * The PUT is ONE request: WebDAV has no standard ranged PUT, so an UPLD subrequest is a window
 * of its body. One terminates when the transport has taken its last byte; the last one
 * terminates with the PUT's answer, which commits them all. The loader stops at the end of the
 * file and checks that nothing changed (one byte more? fstat the same?) before the body hands
 * over its last bytes: a file that changed fails the body, so the server never commits a mixed
 * file; a file that shrank fails at the short read (B7: never a hang).
 */
import { NetfsError } from '../api/errors.js';
import { Bvecq, bvecqSlice, type BvecqPos, type BvecqSlice } from './bvecq.js';
import { SREQ, type NetfsSubrequest } from './objects.js';
import { deferred } from './waits.js';
import { asNetfsError, changedLocally, localVersionOf, versionChange, type UploadRequest } from './write-request.js';

/**
 * Bytes handed to the transport that stay pinned after it asked for more. undici's socket
 * buffers up to 64 KiB (its highWaterMark) before it waits for 'drain', and those bytes are
 * referenced, not copied, until the kernel has them.
 */
export const TRANSPORT_SLACK = 256 * 1024;

/** Where an attempt's error came from: only a failure of the PUT itself is worth a retry. */
export type PassErrorSource = 'server' | 'local' | 'cancelled';

export class UploadPass {
  readonly chain: Bvecq;
  readonly uploadPos: BvecqPos;
  readonly cachePos: BvecqPos | null;
  readonly abort = new AbortController();
  /** Bytes loaded into the chain (from 0). */
  loadedTo = 0;
  /** Bytes the transport has taken. */
  sentTo = 0;
  /** Where the cache position stands. */
  cacheAt = 0;
  error: NetfsError | null = null;
  errorSource: PassErrorSource | null = null;
  /** Set once torn down: nothing touches the chain any more. */
  closed = false;
  /** The upload subrequest whose bytes are being handed over. */
  current: NetfsSubrequest | null = null;
  /** The last upload subrequest: it terminates with the PUT's answer. */
  last: NetfsSubrequest | null = null;
  readonly slack: number;
  readonly #held: BvecqSlice[] = [];
  #changed = deferred<void>();
  readonly #finalCheck = deferred<void>();
  #loader: Promise<void> | null = null;
  readonly #onAbort: () => void;

  constructor(readonly up: UploadRequest, readonly attempt: number) {
    const { ctx } = up;
    const pool = ctx.pool;
    // One pool block per segment: a block goes back as soon as both positions have passed it.
    this.chain = new Bvecq({ pool, fpos: 0, maxSlots: 1 });
    this.uploadPos = this.chain.pos();
    this.cachePos = up.cache === null ? null : this.chain.pos();
    // The slack must never hold so much that the loader cannot get a block (a pool of 2: none),
    // nor a large share of a pool other requests use too.
    this.slack = Math.max(0, Math.min(TRANSPORT_SLACK, (pool.blocks - 2) * pool.blockSize, Math.floor(pool.capacity / 8)));
    this.#finalCheck.promise.catch(() => {});
    this.#onAbort = () => this.fail(up.cancelled(), 'cancelled');
    if (up.abort.signal.aborted) this.#onAbort();
    else up.abort.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The first error wins; the loader and the PUT are stopped. */
  fail(error: NetfsError, source: PassErrorSource): void {
    if (this.error === null) {
      this.error = error;
      this.errorSource = source;
    }
    if (!this.abort.signal.aborted) this.abort.abort(error);
    this.notify();
  }

  /** Something moved (bytes loaded or taken, a cache write ended, an error): wake the waiters. */
  notify(): void {
    const d = this.#changed;
    this.#changed = deferred<void>();
    d.resolve();
  }

  #throwIfFailed(): void {
    if (this.error !== null) throw this.error;
    if (this.closed) throw new NetfsError('CANCELLED', `upload ${this.up.params.path}: the attempt is over`);
  }

  start(): void {
    this.#loader = this.#load().catch((e: unknown) => {
      const error = asNetfsError(e, `reading ${this.up.params.localFile}`);
      this.fail(error, error.code === 'CANCELLED' ? 'cancelled' : 'local');
      this.#finalCheck.reject(error);
    });
  }

  /**
   * The slowest stream's position: the loader stays within wsize of it. For the upload that is
   * what the transport has taken (the slack it still pins comes on top, at most `slack` bytes
   * plus a view), so the body is never left waiting for a loader that waits for the body.
   */
  #lowWater(): number {
    return Math.min(this.sentTo, this.up.cache?.lowWater(this) ?? Infinity);
  }

  async #load(): Promise<void> {
    const { up } = this;
    const { ctx } = up;
    const fh = up.fh!;
    const size = up.size;
    // Never less than a pool block, nor than the cache needs to see one whole block of its own.
    const window = Math.max(up.wsize, ctx.pool.blockSize, (up.cache?.cache.blockSize ?? 0) + ctx.pool.blockSize);
    while (this.loadedTo < size) {
      while (this.loadedTo >= this.#lowWater() + window) {
        this.#throwIfFailed();
        await this.#changed.promise;
      }
      this.#throwIfFailed();
      const block = await ctx.pool.allocAsync(this.abort.signal);
      const want = Math.min(block.length, size - this.loadedTo);
      let got = 0;
      try {
        while (got < want) {
          const { bytesRead } = await fh.read(block, got, want - got, this.loadedTo + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        this.#throwIfFailed();
      } catch (e) {
        ctx.pool.free(block);
        throw e;
      }
      if (got < want) {
        ctx.pool.free(block);
        throw changedLocally(up.params.path, up.params.localFile, `it ended at ${this.loadedTo + got} of ${size} bytes`);
      }
      this.chain.load(block, { len: got });
      this.loadedTo += got;
      up.cache?.safePump(this);
      this.notify();
    }
    // Everything is read: is it still the file we started with, and no longer?
    const probe = new Uint8Array(1);
    const { bytesRead } = await fh.read(probe, 0, 1, size);
    if (bytesRead !== 0) throw changedLocally(up.params.path, up.params.localFile, `it grew past ${size} bytes`);
    const change = versionChange(up.version!, localVersionOf(await fh.stat({ bigint: true })));
    if (change !== null) throw changedLocally(up.params.path, up.params.localFile, change);
    this.#finalCheck.resolve();
  }

  /**
   * The PUT's body: the chain's views in file order, as UPLD subrequests of at most wsize.
   * Resumed by the transport when it wants more, so everything before was taken.
   */
  async *body(): AsyncGenerator<Uint8Array, void, undefined> {
    const { up } = this;
    const size = up.size;
    try {
      if (size === 0) {
        this.last = this.current = startUploadSubrequest(up, this, 0);
        await this.#finalCheck.promise;
        this.#throwIfFailed();
        return;
      }
      while (this.sentTo < size) {
        while (this.loadedTo <= this.sentTo) {
          this.#throwIfFailed();
          await this.#changed.promise;
        }
        this.#throwIfFailed();
        const sreq = (this.current ??= startUploadSubrequest(up, this, this.sentTo));
        if (sreq.end >= size) this.last = sreq;
        // One fragment (at most one pool block) at a time, each pinned on its own.
        const slice = bvecqSlice(this.uploadPos, Math.min(sreq.end, this.loadedTo) - this.sentTo, 1);
        this.#held.push(slice);
        const view = slice.views[0]!;
        // Hand over the very last bytes only once the file is known not to have changed.
        if (this.sentTo + view.length >= size) await this.#finalCheck.promise;
        this.#throwIfFailed();
        yield view;
        if (this.closed) return;
        this.sentTo += view.length;
        sreq.transferred += view.length;
        sreq.set(SREQ.MADE_PROGRESS);
        this.up.req.submitted = Math.max(this.up.req.submitted, this.sentTo);
        this.#releaseTaken();
        this.notify();
        if (sreq.transferred >= sreq.len) {
          // Its bytes are all with the transport; the last one waits for the PUT's answer.
          if (sreq !== this.last) terminateTaken(up, sreq);
          this.current = null;
        }
      }
    } catch (e) {
      const error = asNetfsError(e, `upload ${up.params.path}`);
      this.fail(error, this.errorSource ?? (error.code === 'CANCELLED' ? 'cancelled' : 'local'));
      throw error;
    }
  }

  /** Unpins views the transport took more than `slack` bytes ago. */
  #releaseTaken(): void {
    const keepFrom = this.sentTo - this.slack;
    while (this.#held.length > 0) {
      const s = this.#held[0]!;
      if (s.fpos + s.len > keepFrom) break;
      this.#held.shift();
      s.release();
    }
  }

  /**
   * The attempt is over (the PUT settled): stop the loader, let cache writes in flight finish
   * (they hold views of the chain), then give every block back.
   */
  async teardown(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort(new NetfsError('CANCELLED', 'attempt over'));
    this.notify();
    await this.#loader;
    await this.up.cache?.settle();
    this.closed = true;
    this.up.abort.signal.removeEventListener('abort', this.#onAbort);
    for (const s of this.#held.splice(0)) s.release();
    this.uploadPos.detach();
    this.cachePos?.detach();
    this.chain.release();
    this.chain.clear();
  }
}

/**
 * Creates (or, on a retry, re-issues) the upload subrequest at `start`: at most wsize, never
 * past the end (behaviour 44). New ones count UL, re-issued ones Retries ws (behaviour 63).
 */
function startUploadSubrequest(up: UploadRequest, pass: UploadPass, start: number): NetfsSubrequest {
  const { ctx, req } = up;
  const len = Math.min(up.wsize, up.size - start);
  let sreq = req.streams[0].find((s) => s.start === start && s.len === len);
  if (sreq === undefined) {
    sreq = req.newSubrequest(0, 'UPLD', start, len, null);
    ctx.stats.upldOps.UL++;
    ctx.stats.objs.sr++;
    up.traceSreq(sreq, 'ADD');
  } else {
    sreq.retryCount++;
    sreq.flags = 0;
    sreq.error = null;
    sreq.transferred = 0;
    ctx.stats.retries.ws++;
    up.traceSreq(sreq, 'RETRY', { note: `attempt ${pass.attempt}` });
  }
  sreq.set(SREQ.IN_PROGRESS);
  up.traceSreq(sreq, 'SUBMT');
  return sreq;
}

/** A window of the body the transport has wholly taken (not yet committed: the PUT's answer does that). */
function terminateTaken(up: UploadRequest, sreq: NetfsSubrequest): void {
  up.ctx.stats.upldOps.us++;
  sreq.clear(SREQ.IN_PROGRESS);
  up.traceSreq(sreq, 'TERM', { note: 'taken by the transport' });
}
