/**
 * Unbuffered writes (netfs_unbuffered_write, origin UW, counter Writes DW; digest §3.7):
 * the caller's bytes go to the server as ranged writes, strictly one after another.
 *
 *   netfsUnbufferedWrite(ctx, { path, offset, data })
 *     backend.writeRange missing (plain WebDAV) ............ UNSUPPORTED, nothing sent
 *     writeback lock of the path (an upload of it in progress finishes first)
 *     cache object given: invalidated first (behaviour 54)
 *     extraction (the pinning of the caller's pages; §2.10, §4.5 C, behaviour 56):
 *       data = Uint8Array ..... a chain over the caller's memory (disposal 'none': no pool, no copy)
 *       data = { file, fileOffset?, length } .... pread into pool blocks of the chain
 *                               (direct-source.ts), ALL of it before the first ranged write:
 *         all obtained ........ the write as asked
 *         a prefix, then an error or the source's end ... a SHORT write of exactly that prefix:
 *                               request len = obtained, `short` says why (EXTRACT-SHORT)
 *         nothing, or no memory (or cancelled) ..... fails; every pool block is back
 *     loop:  k = one subrequest covering everything remaining, at most wsize
 *            issue k ──> backend.writeRange(offset, views) ──> terminate k
 *              done ........... collect k (transferred += len, consume), then k+1 (behaviour 52)
 *              NEED_RETRY ..... (TRANSIENT error, or short with progress) renegotiate() if given,
 *                               and re-issue the SAME k for exactly its remaining bytes, also
 *                               when there is no hook (behaviour 53, scenario A); at most
 *                               maxRetries times, then its last error (62)
 *              FAILED ......... stop: the request fails with that error
 *     -> { written, short, request }: written = bytes collected (all obtained on success)
 *
 * Only stream 0 exists. Subrequest k+1 is created only after k was collected: never two ranged
 * writes of one request in flight, so a failure leaves a clean prefix written. A consumed
 * subrequest gives its pool blocks back at once.
 */
import { NetfsError } from '../api/errors.js';
import { Bvecq, bvecqSlice } from './bvecq.js';
import type { CacheObjectIo } from './cache-api.js';
import type { EngineContext } from './context.js';
import { NetfsRequest, RREQ, SREQ, type NetfsSubrequest, type RequestListEntry } from './objects.js';
import { skipViews } from './waits.js';
import { terminateWriteSubrequest, type WriteResultOrError } from './write-collect.js';
import { asNetfsError } from './write-request.js';
import { checkFileRegion, extractFileRegion, isFileRegion, type FileRegion, type ShortExtraction } from './direct-source.js';
import { retryDirectWrite, type RenegotiateHook } from './write-retry.js';

export interface UnbufferedWriteParams {
  path: string;
  /** Where the first byte goes in the existing remote file. */
  offset: number;
  /**
   * The bytes: the caller's memory (used in place, not copied, not kept afterwards), or a region
   * of a local file, read into pool blocks before anything is sent (at most half the pool).
   */
  data: Uint8Array | FileRegion;
  /** A file region's extraction waits at most this long for pool blocks (default 10 s). */
  memoryWaitMs?: number;
  signal?: AbortSignal;
  /** Called before a subrequest is re-issued (the fs's retry_request); optional (scenario A). */
  renegotiate?: RenegotiateHook;
  /** The file's cache object: invalidated before the write (behaviour 54). */
  cache?: CacheObjectIo;
}

export interface UnbufferedWriteOutcome {
  /** Bytes written: all of them, or with `short` the prefix the extraction obtained. */
  written: number;
  /** Set when a file region could be read only in part: the write was short (digest §4.5 C). */
  short: ShortExtraction | null;
  request: RequestListEntry;
}

export async function netfsUnbufferedWrite(ctx: EngineContext, params: UnbufferedWriteParams): Promise<UnbufferedWriteOutcome> {
  const { path, offset, data } = params;
  const what = `unbuffered write of ${path}`;
  const writeRange = ctx.backend.writeRange?.bind(ctx.backend);
  if (writeRange === undefined) {
    throw new NetfsError('UNSUPPORTED', `${what}: the ${ctx.backend.kind} backend cannot write a range into an existing file (WebDAV has no standard ranged PUT)`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) throw new NetfsError('INVALID_ARGUMENT', `${what}: bad offset ${offset}`);
  if (isFileRegion(data)) checkFileRegion(data, what);
  else if (!(data instanceof Uint8Array)) throw new NetfsError('INVALID_ARGUMENT', `${what}: data must be a Uint8Array or a { file, fileOffset?, length } region`);
  const wait = params.memoryWaitMs;
  if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0)) throw new NetfsError('INVALID_ARGUMENT', `${what}: bad memoryWaitMs ${String(wait)}`);
  const requested = data.length;
  if (!Number.isSafeInteger(offset + requested)) throw new NetfsError('INVALID_ARGUMENT', `${what}: the write ends out of range`);

  const release = await ctx.wbLocks.lock(path, params.signal);
  const req = new NetfsRequest('unbuffered-write', path, offset, requested);
  const abort = new AbortController();
  const onAbort = (): void => abort.abort(new NetfsError('CANCELLED', `${what}: cancelled`));
  if (params.signal?.aborted === true) onAbort();
  else params.signal?.addEventListener('abort', onAbort, { once: true });
  const chain = new Bvecq({ pool: ctx.pool, fpos: offset });
  const dispatch = chain.pos();
  ctx.live.add(req);
  ctx.stats.objs.rr++;
  ctx.stats.writes.DW++;
  ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'NEW', start: offset, len: requested, note: `unbuffered-write ${path}` });
  let short: ShortExtraction | null = null;
  try {
    if (params.cache !== undefined) {
      ctx.stats.fscache.invals.n++;
      ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'INVAL-CACHE', note: 'unbuffered-write' });
      await params.cache.invalidate('unbuffered-write').catch((e: unknown) => {
        const error = asNetfsError(e, `invalidating the cache object of ${path}`);
        ctx.trace.add({ kind: 'failure', rreq: req.debugId, what: 'INVAL-CACHE', error: error.code, note: error.message });
      });
    }
    if (data instanceof Uint8Array) {
      if (data.length > 0) chain.load(data, { disposal: 'none' });
    } else {
      const got = await extractFileRegion(ctx, chain, data, {
        signal: abort.signal,
        what,
        ...(params.memoryWaitMs === undefined ? {} : { memoryWaitMs: params.memoryWaitMs }),
      }).catch((e: unknown) => {
        // Nothing obtained, no memory, or cancelled: the write fails; no pool block is kept.
        const error = asNetfsError(e, what);
        ctx.trace.add({ kind: 'failure', rreq: req.debugId, what: 'EXTRACT', error: error.code, note: error.message });
        throw error;
      });
      ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'EXTRACT', start: offset, len: got.obtained, note: `${data.file} @${data.fileOffset ?? 0}` });
      if (got.short !== null) {
        // A short DIO for what was obtained (the fix of scenario C): the request follows.
        short = got.short;
        req.len = got.obtained;
        ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'EXTRACT-SHORT', start: offset, len: got.obtained, error: short.error.code, note: short.error.message });
      }
    }
    chain.release();
    req.set(RREQ.UPLOAD_TO_SERVER);
    let pos = offset;
    const end = req.end;
    while (pos < end) {
      if (abort.signal.aborted) throw abort.signal.reason as NetfsError;
      // One subrequest for everything remaining, trimmed to wsize (the issue contract).
      const slice = bvecqSlice(dispatch, Math.min(ctx.limits.wsize, end - pos));
      const sreq = req.newSubrequest(0, 'UPLD', pos, slice.len, slice);
      ctx.stats.upldOps.UL++;
      ctx.stats.objs.sr++;
      req.submitted = sreq.end - offset;
      ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'UPLD', what: 'ADD', start: sreq.start, len: sreq.len });
      for (;;) {
        await issueAndWait(ctx, req, sreq, writeRange, abort.signal);
        if (sreq.has(SREQ.FAILED)) throw sreq.error ?? new NetfsError('IO', `unbuffered write of ${path}: subrequest failed`);
        if (!sreq.has(SREQ.NEED_RETRY)) break;
        req.set(RREQ.PAUSE);
        const failed = await retryDirectWrite({ ctx, req, origin: ctx.backend.origin, renegotiate: params.renegotiate }, sreq);
        req.clear(RREQ.PAUSE);
        if (failed !== null) throw failed;
      }
      // Collected before the next one is even created (behaviour 52).
      req.transferred += sreq.transferred;
      pos = sreq.end;
      consume(ctx, req, sreq);
    }
    ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'DONE' });
    return { written: req.transferred, short, request: req.describe() };
  } catch (e) {
    const error = asNetfsError(e, what);
    req.fail(error);
    throw error;
  } finally {
    for (const s of req.streams[0].splice(0)) consume(ctx, req, s);
    dispatch.detach();
    chain.clear();
    params.signal?.removeEventListener('abort', onAbort);
    req.clear(RREQ.IN_PROGRESS);
    ctx.live.delete(req);
    ctx.stats.objs.rr--;
    ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'FREE', ...(req.error === null ? {} : { error: req.error.code }) });
    release();
  }
}

type WriteRange = NonNullable<EngineContext['backend']['writeRange']>;

/** Issues `sreq` for its remaining bytes and waits for its termination. */
async function issueAndWait(ctx: EngineContext, req: NetfsRequest, sreq: NetfsSubrequest, writeRange: WriteRange, signal: AbortSignal): Promise<void> {
  const base = sreq.transferred;
  const remaining = sreq.len - base;
  const views = skipViews(sreq.slice!.views, base);
  sreq.set(SREQ.IN_PROGRESS);
  let result: WriteResultOrError;
  try {
    await ctx.pacer.ready(ctx.backend.origin, signal);
    await ctx.slots.acquire(signal);
    try {
      ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'UPLD', what: 'SUBMT', start: sreq.start + base, len: remaining });
      const r = await writeRange(req.path, { offset: sreq.start + base, length: remaining, source: viewsSource(views), signal });
      result = { transferred: r.written };
    } finally {
      ctx.slots.release();
    }
  } catch (e) {
    result = { error: asNetfsError(e, `unbuffered write of ${req.path} [${sreq.start + base}+${remaining}]`) };
  }
  sreq.clear(SREQ.RETRYING);
  terminateWriteSubrequest(ctx, req, sreq, base, result);
  if (!sreq.has(SREQ.NEED_RETRY) && !sreq.has(SREQ.FAILED)) ctx.pacer.success(ctx.backend.origin);
}

async function* viewsSource(views: readonly Uint8Array[]): AsyncGenerator<Uint8Array, void, undefined> {
  for (const v of views) yield v;
}

function consume(ctx: EngineContext, req: NetfsRequest, sreq: NetfsSubrequest): void {
  const i = req.streams[0].indexOf(sreq);
  if (i !== -1) req.streams[0].splice(i, 1);
  ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what: 'CONSM', start: sreq.start, transferred: sreq.transferred, len: sreq.len });
  sreq.slice?.release();
  sreq.slice = null;
  ctx.stats.objs.sr--;
}
