/**
 * Read termination and collection (netfs_read_subreq_terminated, netfs_collect_read_results,
 * digest §2.4–2.6).
 *
 * terminate (once per issue):
 *   error from the cache ............... NEED_RETRY, to the server (behaviour 18)
 *   more data than asked (TOO_LARGE) .... FAILED, transferred = 0, never retried (13); a server that
 *                                         ignored Range is remembered (NO_RANGES: redo from 0)
 *   412 on If-Match ..................... the request is abandoned: CHANGED_ON_SERVER
 *   TRANSIENT (reset, timeout, 5xx) ..... NEED_RETRY (+ MADE_PROGRESS when bytes landed: resume, 16)
 *   other errors ........................ FAILED (19)
 *   short + EOF ......................... HIT_EOF: the tail is zero-filled, success (14)
 *   short + progress .................... NEED_RETRY for the remainder (16)
 *   short, no progress .................. FAILED "no data" (17)
 *   NEED_RETRY or FAILED pause issuing (20); only the head of the stream wakes the collector (28).
 *
 * collect (one pass per wake, strictly in file order, behaviour 21):
 *   front landed bytes -> consumer (and the collected point moves, freeing pool blocks)
 *   front in flight -> stop;  FAILED -> first error wins (26), abandon;  NEED_RETRY -> stop, and
 *   once nothing is in flight run the retry pass (57);  done -> consume, count (24), next.
 *   ALL_QUEUED and nothing left -> complete.
 *
 * a failed request, once nothing is in flight, keeps for the cache what is valid (F2: the next
 * try resumes from there, not from 0) - never for the consumer:
 *   front:  [start, landed) cut down to whole granules (or to EOF) --copyToCache--> cache
 *   later:  completed whole (transferred == len, not failed)      --copyToCache--> cache
 *   none:   CHANGED_ON_SERVER / PRECONDITION_FAILED (another version), TOO_LARGE or a server
 *           that ignores Range (suspect answers; the redo from 0 must find nothing cached),
 *           a cache that failed, subrequests not DOWN + COPY_TO_CACHE
 */
import { isNetfsError, NetfsError } from '../api/errors.js';
import { bvecqPosAdvance, bvecqRange } from './bvecq.js';
import { RREQ, SREQ, type NetfsSubrequest } from './objects.js';
import type { ReadState } from './read-request.js';
import { retryReads } from './read-retry.js';
import { skipViews, takeViews } from './waits.js';

/** A source's answer: bytes placed, and why it stopped short (end of file, or the rest is known zeros). */
type Result = { transferred: number; eof: boolean; clearTail?: boolean } | { error: unknown };

function asNetfsError(e: unknown, what: string): NetfsError {
  if (isNetfsError(e)) return e as NetfsError;
  return new NetfsError('IO', `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

export function terminateReadSubrequest(rs: ReadState, sreq: NetfsSubrequest, base: number, result: Result): void {
  const { ctx, req } = rs;
  const stats = ctx.stats;
  const trace = (what: string, extra: { error?: string; note?: string } = {}): void =>
    ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what, start: sreq.start, transferred: sreq.transferred, len: sreq.len, ...extra });
  if (sreq.source === 'DOWN') stats.downOps.ds++;
  if (sreq.source === 'READ') stats.caRdOps.rs++;
  sreq.clear(SREQ.RETRYING);

  if ('error' in result) {
    const e = asNetfsError(result.error, `read ${req.path} [${sreq.start}+${sreq.len}]`);
    sreq.error = e;
    if (typeof e.transferred === 'number' && e.transferred > 0) {
      sreq.transferred = base + e.transferred;
      sreq.set(SREQ.MADE_PROGRESS);
    }
    if (e.code === 'CANCELLED' || req.has(RREQ.FAILED)) {
      sreq.set(SREQ.FAILED);
      trace('CANCL', { error: e.code });
    } else if (sreq.source === 'READ' || sreq.source === 'LOCL') {
      // A failed cache (or local copy) read is fetched from the server instead (behaviour 18).
      if (sreq.source === 'READ') stats.caRdOps.rf++;
      sreq.set(SREQ.NEED_RETRY);
      trace('RDOWN', { error: e.code, note: e.message });
    } else if (e.code === 'TOO_LARGE') {
      sreq.transferred = 0;
      sreq.set(SREQ.FAILED);
      stats.downOps.df++;
      if (e.rangeIgnored) {
        ctx.noRanges.add(rs.origin);
        req.set(RREQ.NO_RANGES);
      }
      trace('!TOOM', { error: e.code, note: e.message });
    } else if (e.code === 'PRECONDITION_FAILED') {
      sreq.set(SREQ.FAILED);
      stats.downOps.df++;
      sreq.error = new NetfsError('CHANGED_ON_SERVER', `${req.path} changed on the server during the read (${e.message})`, { status: 412 });
      trace('FAIL', { error: 'CHANGED_ON_SERVER' });
    } else if (e.code === 'TRANSIENT') {
      sreq.set(SREQ.NEED_RETRY);
      trace(sreq.transferred > base ? 'PARTR' : 'ND-RT', { error: e.code, note: e.message });
    } else {
      sreq.set(SREQ.FAILED);
      stats.downOps.df++;
      trace('FAIL', { error: e.code, note: e.message });
    }
  } else {
    sreq.transferred = base + result.transferred;
    if (result.transferred > 0) sreq.set(SREQ.MADE_PROGRESS);
    if (sreq.transferred > sreq.len) {
      // More than asked for (behaviour 13): discard, fail, do not retry.
      sreq.transferred = 0;
      sreq.error = new NetfsError('TOO_LARGE', `read ${req.path}: more data than asked for`);
      sreq.set(SREQ.FAILED);
      trace('!TOOM');
    } else if (sreq.transferred < sreq.len) {
      if (result.eof) {
        sreq.set(SREQ.HIT_EOF);
        trace('EOF');
      } else if (result.clearTail === true) {
        // The source says the rest of its slice is zeros (behaviour 15): like EOF, but not the end.
        sreq.set(SREQ.CLEAR_TAIL);
        trace('CLEAR');
      } else if (result.transferred > 0) {
        sreq.set(SREQ.NEED_RETRY);
        trace('PARTR');
      } else {
        sreq.error = new NetfsError('IO', `read ${req.path} [${sreq.start}+${sreq.len}]: short read with no progress (no data)`);
        sreq.set(SREQ.FAILED);
        stats.downOps.df++;
        trace('FAIL', { error: 'IO', note: 'no data' });
      }
    } else {
      trace('TERM');
      if (sreq.source === 'DOWN') ctx.pacer.success(rs.origin);
    }
  }

  sreq.clear(SREQ.IN_PROGRESS);
  rs.inFlight--;
  rs.perRequest.release();
  if (sreq.has(SREQ.NEED_RETRY) || sreq.has(SREQ.FAILED)) rs.pause();
  // Only the head of the stream (or a running retry pass) wakes the collector (behaviour 28) -
  // and the last one to stop while a retry waits for the stream to go idle (behaviour 57).
  if (req.streams[0][0] === sreq || req.has(RREQ.RETRYING) || req.has(RREQ.FAILED) || (req.has(RREQ.PAUSE) && rs.inFlight === 0)) {
    rs.wakeCollector();
  }
}

/** Hands [collectedTo, to) to the consumer and moves the collected point (freeing pool blocks). */
async function deliverUpTo(rs: ReadState, to: number): Promise<void> {
  if (to <= rs.collectedTo) return;
  const from = rs.collectedTo;
  const views: Uint8Array[] = [];
  for (const { view } of bvecqRange(rs.collectPos, from, to)) views.push(view);
  await rs.params.consumer.deliver(from, views);
  bvecqPosAdvance(rs.collectPos, to - from);
  rs.collectedTo = to;
}

/** One collection pass (run by the request's Waker; never two at once). */
export async function collectReads(rs: ReadState): Promise<void> {
  const { req, ctx } = rs;
  const stream = req.streams[0];
  ctx.trace.add({ kind: 'collect', rreq: req.debugId, what: 'PASS', start: rs.collectedTo, note: `to ${req.end}` });
  let needRetry = false;
  let progressed = false;

  while (stream.length > 0) {
    const front = stream[0]!;
    const inFlight = front.has(SREQ.IN_PROGRESS);
    if (!req.has(RREQ.FAILED) && !req.has(RREQ.SHORT_TRANSFER) && !front.has(SREQ.FAILED) && front.transferred > 0) {
      const landed = front.start + front.transferred;
      if (landed > rs.collectedTo) {
        await deliverUpTo(rs, landed);
        progressed = true;
      }
    }
    if (inFlight) break;
    if (front.has(SREQ.FAILED)) {
      req.fail(front.error ?? new NetfsError('IO', `read ${req.path}: subrequest failed`));
      // Once only: cancel() wakes this collector, and waking it again on every pass while
      // subrequests are still in flight would spin in microtasks and starve their I/O.
      if (!rs.abort.signal.aborted) rs.cancel(req.error!);
      if (rs.inFlight > 0) return; // the rest must stop before the request can end
      await abandon(rs, stream.splice(0));
      break;
    }
    if (front.has(SREQ.NEED_RETRY)) {
      needRetry = true;
      break;
    }
    if (front.transferred < front.len && front.has(SREQ.HIT_EOF)) {
      const at = front.start + front.transferred;
      if (rs.shortAt === null && at < rs.params.size) rs.shortAt = at;
    }
    if (front.transferred < front.len && (front.has(SREQ.HIT_EOF) || front.has(SREQ.CLEAR_TAIL))) {
      if (req.origin === 'unbuffered-read' && front.has(SREQ.HIT_EOF)) {
        // DIO semantics (behaviour 24): the read ends short here; nothing after it counts.
        req.transferred += front.transferred;
        req.set(RREQ.SHORT_TRANSFER);
        stream.shift();
        consume(rs, front);
        progressed = true;
        continue;
      }
      // Short at end of file or with a clear tail (behaviours 14, 15): zero the tail and count it.
      for (const v of skipViews(front.slice!.views, front.transferred)) v.fill(0);
      front.transferred = front.len;
      await deliverUpTo(rs, front.end);
    }
    if (!req.has(RREQ.SHORT_TRANSFER)) req.transferred += front.transferred;
    if (front.has(SREQ.COPY_TO_CACHE)) await copyToCache(rs, front);
    stream.shift();
    consume(rs, front);
    progressed = true;
  }

  if (req.has(RREQ.FAILED)) {
    if (rs.inFlight === 0) {
      await abandon(rs, stream.splice(0));
      if (req.has(RREQ.ALL_QUEUED)) rs.done.resolve();
    }
    return;
  }
  if (needRetry) {
    // A retry pass starts only when nothing in the stream is in flight (behaviour 57).
    if (stream.every((s) => !s.has(SREQ.IN_PROGRESS))) {
      await retryReads(rs);
    }
    return;
  }
  if (progressed) rs.resume();
  if (req.has(RREQ.ALL_QUEUED) && stream.length === 0) {
    ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'DONE' });
    rs.done.resolve();
  }
}

/**
 * Downloaded bytes go to the cache from the same buffers (the subrequest's slice still pins them),
 * in whole cache blocks: the unaligned head is skipped, a partial tail block is written only when
 * it ends at EOF (behaviour 48). A cache write error never fails the read: later copies of this
 * request are skipped and the object is invalidated at the end unless it was "no space" (47) -
 * except when the cache is where the bytes are going (staging: cacheRequired), which fails.
 */
async function copyToCache(rs: ReadState, sreq: NetfsSubrequest, upTo = sreq.start + sreq.transferred): Promise<void> {
  const cache = rs.params.cache;
  if (cache === undefined || rs.cacheState !== 'ok') return;
  const { ctx, req } = rs;
  const b = cache.blockSize;
  const start = Math.ceil(sreq.start / b) * b;
  const dataEnd = upTo;
  const end = dataEnd >= rs.params.size ? Math.min(dataEnd, rs.params.size) : Math.floor(dataEnd / b) * b;
  ctx.stats.caWrOps.WR++;
  if (end <= start) {
    ctx.stats.fscache.io.mis++;
    ctx.stats.caWrOps.ws++;
    return;
  }
  const views = takeViews(skipViews(sreq.slice!.views, start - sreq.start), end - start);
  ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'WRIT', what: 'CA-WR', start, len: end - start });
  try {
    await cache.write(start, views);
    await cache.collectWrite(start, end - start);
    ctx.stats.caWrOps.ws++;
    ctx.stats.fscache.io.wr++;
  } catch (e) {
    ctx.stats.caWrOps.wf++;
    const code = (e as { code?: unknown }).code;
    rs.cacheState = code === 'INSUFFICIENT_STORAGE' || code === 'ENOSPC' || code === 'ENOBUFS' ? 'no-space' : 'failed';
    if (rs.cacheState === 'no-space') ctx.stats.fscache.noSpace.nwr++;
    ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'WRIT', what: 'CA-NW', error: String(code ?? 'IO'), note: (e as Error).message });
    // Staging: the cache is the destination, so its failure is the request's (if it has not failed already).
    if (rs.params.cacheRequired === true && !req.has(RREQ.FAILED)) rs.cancel(asNetfsError(e, `cache write of ${req.path} [${start}+${end - start}]`));
  }
}

/** Codes after which nothing a request downloaded is kept: another version, or suspect answers. */
const KEEP_NOTHING = new Set(['CHANGED_ON_SERVER', 'PRECONDITION_FAILED', 'TOO_LARGE']);

/**
 * A failed request, nothing in flight: what is left of its stream is kept for the cache where it
 * is valid (bytes of the version the If-Match pinned), then consumed. The front keeps its landed
 * bytes cut down to whole granules (the cache serves and checksums whole granules only; the
 * last one ends at EOF); later subrequests only when they completed whole. The consumer gets
 * nothing more. Used for retries exhausted, hard errors and cancellation alike.
 */
async function abandon(rs: ReadState, left: NetfsSubrequest[]): Promise<void> {
  try {
    await keepForCache(rs, left);
  } finally {
    for (const s of left) consume(rs, s);
  }
}

async function keepForCache(rs: ReadState, left: readonly NetfsSubrequest[]): Promise<void> {
  const cache = rs.params.cache;
  const { req, params } = rs;
  if (cache === undefined || rs.cacheState !== 'ok' || left.length === 0) return;
  const bad = (e: NetfsError | null | undefined): boolean => e != null && KEEP_NOTHING.has(e.code);
  if (req.has(RREQ.NO_RANGES) || bad(req.error) || left.some((s) => bad(s.error))) return;
  for (const [i, s] of left.entries()) {
    if (s.source !== 'DOWN' || !s.has(SREQ.COPY_TO_CACHE) || s.slice === null) continue;
    let upTo: number;
    if (i === 0) {
      const landed = s.start + s.transferred;
      upTo = landed >= params.size ? landed : Math.floor(landed / cache.granule) * cache.granule;
    } else if (s.transferred === s.len && !s.has(SREQ.FAILED) && !s.has(SREQ.NEED_RETRY)) {
      upTo = s.end;
    } else continue;
    if (upTo <= Math.ceil(s.start / cache.blockSize) * cache.blockSize) continue;
    rs.ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: s.index, source: s.source, what: 'KEEP', start: s.start, transferred: upTo - s.start, len: s.len, error: req.error?.code });
    await copyToCache(rs, s, upTo);
    if (rs.cacheState !== 'ok') break;
  }
}

/** The collector is done with a subrequest: its slice goes, and with it its hold on pool blocks. */
function consume(rs: ReadState, sreq: NetfsSubrequest): void {
  rs.ctx.trace.add({ kind: 'sreq', rreq: rs.req.debugId, sreq: sreq.index, source: sreq.source, what: 'CONSM', start: sreq.start, transferred: sreq.transferred, len: sreq.len });
  sreq.slice?.release();
  sreq.slice = null;
  rs.ctx.stats.objs.sr--;
}
