/**
 * Stream 1 of an upload: the same bytes go to the file's cache object, in whole cache blocks
 * (digest §3.3, §3.5; behaviours 47, 48), so the cache stays current without a download.
 *
 *   chain (loaded by the pass)   |....block....|....block....|..tail|  EOF
 *   cache position ──> issuedTo  [ WRIT 0..1M ][ WRIT 1M..2M ]  ...      at most 2 in flight
 *      window = cacheWriteWindow(issuedTo, min(loaded, issuedTo + wsize), blockSize, size)
 *        leading unaligned part: skipped (counted as done, not cached)
 *        trailing partial block: written only when it ends at EOF, else it waits for more data
 *        nothing aligned and no more data coming: complete without I/O, fscache IO mis++
 *
 *   terminate: ok -> ws++            error -> ws++ wf++, CANCELLED (never FAILED), CACHE_STOP,
 *                                             + CACHE_ERROR unless "no space" (NoSpace nwr++)
 *   collect (file order): contiguous finished writes grow a run; a hole (cancelled write or a
 *      skipped part) ends it -> collectWrite(run); the last run at the end of the request.
 *   after CACHE_STOP: later windows are not written (recorded as holes), memory passes on.
 *   end: CACHE_ERROR -> invalidate('write-error'); the upload failed after bytes were cached
 *      -> invalidate('upload-failed'); else collectWrite(last run).
 *
 * A cache failure never fails or pauses the upload. A slow cache does slow it: the loader
 * stays within wsize of the slowest stream, as writeback waits for both streams in the kernel.
 */
import { NetfsError } from '../api/errors.js';
import { bvecqPosAdvance, bvecqSlice } from './bvecq.js';
import type { CacheObjectIo } from './cache-api.js';
import { RREQ, SREQ, type NetfsSubrequest } from './objects.js';
import type { UploadPass } from './write-issue.js';
import { asNetfsError, type UploadCacheOutcome, type UploadRequest } from './write-request.js';

/** Cache writes in flight per upload. */
export const CACHE_WRITES_IN_FLIGHT = 2;

export type CacheWindow =
  /** Write [from, to); [start, from) is skipped (not cached). */
  | { kind: 'write'; from: number; to: number }
  /** Not enough data yet for a whole block: wait for more. */
  | { kind: 'wait' }
  /** No aligned block in [start, end) and no more data will come: complete without I/O. */
  | { kind: 'misfit' };

/**
 * The block-aligned part of [start, end) a cache write may cover (behaviour 48), for a file
 * of `size` bytes whose data continues past `end` unless `end === size`.
 */
export function cacheWriteWindow(start: number, end: number, blockSize: number, size: number): CacheWindow {
  const from = Math.ceil(start / blockSize) * blockSize;
  const atEof = end >= size;
  const to = atEof ? end : Math.floor(end / blockSize) * blockSize;
  if (to > from) return { kind: 'write', from, to };
  return atEof ? { kind: 'misfit' } : { kind: 'wait' };
}

export class CacheStream {
  /** Cache writes were issued (or skipped) up to here; never goes back, across attempts too. */
  issuedTo = 0;
  /** The finished contiguous run not yet handed to collectWrite. */
  runStart: number | null = null;
  runEnd = 0;
  /** Bytes written to the cache object. */
  written = 0;
  /** Ranges not cached: skipped heads, failed writes, everything after CACHE_STOP. */
  readonly holes: Array<[number, number]> = [];
  inFlight = 0;
  /** collectWrite calls, in order. */
  #collecting: Promise<void> = Promise.resolve();
  readonly #pending = new Set<Promise<void>>();

  constructor(readonly up: UploadRequest, readonly cache: CacheObjectIo) {}

  get stopped(): boolean {
    return this.up.req.has(RREQ.CACHE_STOP);
  }

  /** The lowest file position this stream still needs in `pass` (Infinity when none). */
  lowWater(pass: UploadPass): number {
    if (this.stopped || this.issuedTo >= this.up.size) return Infinity;
    let low = Math.max(pass.cacheAt, Math.min(this.issuedTo, pass.loadedTo));
    for (const s of this.up.req.streams[1]) if (s.has(SREQ.IN_PROGRESS)) low = Math.min(low, s.start);
    return low;
  }

  /** Issues what the loaded bytes allow; called when bytes were loaded and when a write ends. */
  pump(pass: UploadPass): void {
    const { up, cache } = this;
    const { ctx, req } = up;
    if (pass.closed || pass.cachePos === null) return;
    if (this.stopped) {
      // After a cache error nothing more is written: the rest is a hole; the memory passes on.
      if (pass.loadedTo > this.issuedTo) {
        this.#hole(this.issuedTo, pass.loadedTo);
        this.issuedTo = pass.loadedTo;
      }
      this.#skipTo(pass, pass.loadedTo);
      return;
    }
    // Bytes an earlier attempt already cached are passed over.
    this.#skipTo(pass, Math.min(this.issuedTo, pass.loadedTo));
    while (this.inFlight < CACHE_WRITES_IN_FLIGHT && this.issuedTo < up.size && pass.cacheAt === this.issuedTo) {
      const start = this.issuedTo;
      const end = Math.min(pass.loadedTo, start + up.wsize);
      if (end <= start) break;
      const w = cacheWriteWindow(start, end, cache.blockSize, up.size);
      if (w.kind === 'wait') break;
      if (w.kind === 'misfit') {
        ctx.stats.fscache.io.mis++;
        ctx.trace.add({ kind: 'sreq', rreq: req.debugId, source: 'WRIT', what: 'MISFIT', start, len: end - start, note: 'no whole cache block: not cached' });
        this.#hole(start, end);
        this.issuedTo = end;
        this.#skipTo(pass, end);
        continue;
      }
      if (w.from > start) {
        this.#hole(start, w.from);
        this.#skipTo(pass, w.from);
      }
      const slice = bvecqSlice(pass.cachePos, w.to - w.from);
      if (slice.len !== w.to - w.from) {
        slice.release();
        throw new NetfsError('IO', `upload ${up.params.path}: internal error: cache window [${w.from}, ${w.to}) is not loaded (${slice.len} bytes)`);
      }
      pass.cacheAt = w.to;
      this.issuedTo = w.to;
      const sreq = req.newSubrequest(1, 'WRIT', w.from, slice.len, slice);
      ctx.stats.caWrOps.WR++;
      ctx.stats.objs.sr++;
      up.traceSreq(sreq, 'ADD');
      this.#issue(pass, sreq);
    }
  }

  #issue(pass: UploadPass, sreq: NetfsSubrequest): void {
    const { ctx } = this.up;
    sreq.set(SREQ.IN_PROGRESS);
    this.inFlight++;
    ctx.stats.fscache.io.wr++;
    this.up.traceSreq(sreq, 'SUBMT');
    let p: Promise<void>;
    try {
      p = this.cache.write(sreq.start, sreq.slice!.views);
    } catch (e) {
      p = Promise.reject(e);
    }
    const done = p
      .then(
        () => null,
        (e: unknown) => asNetfsError(e, `cache write of ${this.up.params.path} [${sreq.start}+${sreq.len}]`),
      )
      .then((error) => {
        try {
          this.#terminate(pass, sreq, error);
        } catch (e) {
          this.#internalError(e);
        }
      })
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  /** pump() wrapped: a fault in the cache stream stops caching, never the upload. */
  safePump(pass: UploadPass): void {
    try {
      this.pump(pass);
    } catch (e) {
      this.#internalError(e);
    }
  }

  #internalError(e: unknown): void {
    const { ctx, req } = this.up;
    const error = asNetfsError(e, `cache stream of ${this.up.params.path}`);
    req.set(RREQ.CACHE_STOP | RREQ.CACHE_ERROR);
    ctx.trace.add({ kind: 'failure', rreq: req.debugId, source: 'WRIT', what: 'INTERNAL', error: error.code, note: error.message });
  }

  /** netfs_write_subrequest_terminated for the cache source (digest §3.4). */
  #terminate(pass: UploadPass, sreq: NetfsSubrequest, error: NetfsError | null): void {
    const { ctx, req } = this.up;
    ctx.stats.caWrOps.ws++;
    this.inFlight--;
    sreq.clear(SREQ.IN_PROGRESS);
    // Pretend the whole length was transferred either way: the collected point must move on.
    sreq.transferred = sreq.len;
    if (error === null) {
      this.written += sreq.len;
      this.up.traceSreq(sreq, 'TERM');
    } else {
      ctx.stats.caWrOps.wf++;
      sreq.error = error;
      sreq.set(SREQ.CANCELLED);
      req.set(RREQ.CACHE_STOP);
      if (error.code === 'INSUFFICIENT_STORAGE') ctx.stats.fscache.noSpace.nwr++;
      else req.set(RREQ.CACHE_ERROR);
      this.up.traceSreq(sreq, 'CANCL', { error: error.code, note: `cache stopped for this request: ${error.message}` });
    }
    this.#collect();
    if (!pass.closed) {
      this.safePump(pass);
      pass.notify();
    }
  }

  /** Consumes finished cache writes in file order, growing runs and reporting them (digest §3.5). */
  #collect(): void {
    const stream = this.up.req.streams[1];
    while (stream.length > 0 && !stream[0]!.has(SREQ.IN_PROGRESS)) {
      const s = stream.shift()!;
      if (s.has(SREQ.CANCELLED)) {
        this.#hole(s.start, s.end);
        this.#flushRun();
      } else {
        if (this.runStart === null || s.start !== this.runEnd) {
          this.#flushRun();
          this.runStart = s.start;
        }
        this.runEnd = s.end;
      }
      this.#consume(s);
    }
  }

  /** Hands the finished run to the cache (not after CACHE_ERROR: the object will be invalidated). */
  #flushRun(): void {
    const start = this.runStart;
    if (start === null) return;
    const len = this.runEnd - start;
    this.runStart = null;
    if (this.up.req.has(RREQ.CACHE_ERROR) || len <= 0) return;
    const { ctx, req } = this.up;
    this.#collecting = this.#collecting.then(async () => {
      if (req.has(RREQ.CACHE_ERROR)) return;
      ctx.trace.add({ kind: 'collect', rreq: req.debugId, source: 'WRIT', what: 'COLLECT-WRITE', start, len });
      try {
        await this.cache.collectWrite(start, len);
      } catch (e) {
        const error = asNetfsError(e, `collect_write of ${this.up.params.path}`);
        req.set(RREQ.CACHE_STOP | RREQ.CACHE_ERROR);
        ctx.trace.add({ kind: 'failure', rreq: req.debugId, source: 'WRIT', what: 'COLLECT-WRITE', error: error.code, note: error.message });
      }
    });
  }

  #hole(start: number, end: number): void {
    if (end <= start) return;
    const last = this.holes[this.holes.length - 1];
    if (last !== undefined && last[1] === start) last[1] = end;
    else this.holes.push([start, end]);
  }

  /** Moves the pass's cache position up to `to` without writing (its memory may go). */
  #skipTo(pass: UploadPass, to: number): void {
    if (pass.cachePos === null || to <= pass.cacheAt) return;
    pass.cacheAt += bvecqPosAdvance(pass.cachePos, to - pass.cacheAt);
  }

  #consume(s: NetfsSubrequest): void {
    this.up.traceSreq(s, 'CONSM');
    s.slice?.release();
    s.slice = null;
    this.up.ctx.stats.objs.sr--;
  }

  /** Waits for every cache write in flight (they hold views of the pass's chain). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** End of the request: report the last run, or invalidate (behaviour 47). */
  async finish(uploaded: boolean): Promise<UploadCacheOutcome> {
    const { ctx, req } = this.up;
    await this.settle();
    this.#collect();
    const touched = req.streams[1].length > 0 || this.written > 0 || req.has(RREQ.CACHE_STOP);
    let invalidate: 'write-error' | 'upload-failed' | null = null;
    if (req.has(RREQ.CACHE_ERROR)) invalidate = 'write-error';
    else if (!uploaded && touched) invalidate = 'upload-failed';
    if (invalidate === null) {
      this.#flushRun();
      await this.#collecting;
      // A collectWrite failure turns into an invalidation too.
      if (req.has(RREQ.CACHE_ERROR)) invalidate = 'write-error';
    } else {
      await this.#collecting;
    }
    if (invalidate !== null) {
      ctx.stats.fscache.invals.n++;
      ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'INVAL-CACHE', note: invalidate });
      try {
        await this.cache.invalidate(invalidate);
      } catch (e) {
        const error = asNetfsError(e, `invalidating the cache object of ${this.up.params.path}`);
        ctx.trace.add({ kind: 'failure', rreq: req.debugId, what: 'INVAL-CACHE', error: error.code, note: error.message });
      }
      return 'invalidated';
    }
    if (!uploaded) return 'untouched';
    return req.has(RREQ.CACHE_STOP) ? 'stopped' : 'current';
  }
}
