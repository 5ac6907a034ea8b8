/**
 * Write termination and collection (netfs_write_subrequest_terminated and
 * netfs_collect_write_results, digest §3.4, §3.5) for the server stream; the cache stream's
 * own are in write-cache.ts.
 *
 * terminate (once per issue), for an upload window or an unbuffered write:
 *   error TRANSIENT (reset, timeout, 5xx, 429/503) ... NEED_RETRY (+ MADE_PROGRESS when bytes landed)
 *   error 412 on the precondition ..................... FAILED, CHANGED_ON_SERVER, never retried
 *   error CANCELLED .................................... FAILED
 *   any other error .................................... FAILED (uf++): 507, 403, 409, 413 ...
 *   more than asked ..................................... clamped (the kernel warns and clamps)
 *   short with progress ................................. NEED_RETRY for the rest (45)
 *   short, nothing written .............................. FAILED "no progress"
 *   every termination counts us, failures also uf.
 *
 * collect (an upload):
 *   the PUT's answer terminates the last window and so commits them all; on a retryable
 *   failure every window of the attempt is NEED_RETRY (WebDAV acknowledges nothing before the
 *   answer, so nothing of it is kept); at the end every subrequest is consumed, and the
 *   request's transferred is the upload stream's figure (the cache's is not a valid one once
 *   it stopped).
 */
import { NetfsError } from '../api/errors.js';
import { RREQ, SREQ, type NetfsRequest, type NetfsSubrequest } from './objects.js';
import type { EngineContext } from './context.js';
import type { UploadPass } from './write-issue.js';
import type { UploadRequest } from './write-request.js';

export type WriteResultOrError = { transferred: number } | { error: NetfsError };

/** Marks one termination of a server write subrequest (digest §3.4); `base` = bytes done before this issue. */
export function terminateWriteSubrequest(ctx: EngineContext, req: NetfsRequest, sreq: NetfsSubrequest, base: number, result: WriteResultOrError): void {
  const stats = ctx.stats;
  const trace = (what: string, extra: { error?: string; note?: string } = {}): void =>
    ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what, start: sreq.start, transferred: sreq.transferred, len: sreq.len, ...extra });
  stats.upldOps.us++;
  sreq.clear(SREQ.IN_PROGRESS | SREQ.NEED_RETRY);
  if ('error' in result) {
    const e = result.error;
    sreq.error = e;
    if (typeof e.transferred === 'number' && e.transferred > 0) {
      sreq.transferred = Math.min(sreq.len, base + e.transferred);
      sreq.set(SREQ.MADE_PROGRESS);
    }
    if (e.code === 'TRANSIENT') {
      sreq.set(SREQ.NEED_RETRY);
      trace(sreq.transferred > base ? 'PARTW' : 'ND-RT', { error: e.code, note: e.message });
    } else if (e.code === 'PRECONDITION_FAILED') {
      sreq.set(SREQ.FAILED);
      stats.upldOps.uf++;
      sreq.error = new NetfsError('CHANGED_ON_SERVER', `${req.path} changed on the server: the write's precondition failed (${e.message})`, { status: 412, cause: e });
      trace('FAIL', { error: 'CHANGED_ON_SERVER' });
    } else {
      sreq.set(SREQ.FAILED);
      stats.upldOps.uf++;
      trace(e.code === 'CANCELLED' ? 'CANCL' : 'FAIL', { error: e.code, note: e.message });
    }
    return;
  }
  let n = result.transferred;
  if (base + n > sreq.len) {
    trace('!OVER', { note: `the backend reported ${n} bytes written of ${sreq.len - base}: clamped` });
    n = sreq.len - base;
  }
  sreq.transferred = base + n;
  if (n > 0) sreq.set(SREQ.MADE_PROGRESS);
  if (sreq.transferred >= sreq.len) {
    trace('TERM');
  } else if (n > 0) {
    sreq.set(SREQ.NEED_RETRY);
    trace('PARTW', { note: 'short write: the rest is re-issued' });
  } else {
    sreq.error = new NetfsError('IO', `write ${req.path} [${sreq.start}+${sreq.len}]: short write with no progress`);
    sreq.set(SREQ.FAILED);
    stats.upldOps.uf++;
    trace('FAIL', { error: 'IO', note: 'no progress' });
  }
}

/**
 * The PUT of `pass` settled: terminate the window in flight (the last one on success) and, on a
 * retryable failure of the PUT itself, mark the whole attempt for retry. Returns the error the
 * attempt ends with (412 as CHANGED_ON_SERVER), or null. A local change or a cancellation is
 * never retried here: it is not the server's failure.
 */
export function collectUploadAttempt(up: UploadRequest, pass: UploadPass): NetfsError | null {
  const { ctx, req } = up;
  const error = pass.error;
  if (error === null) {
    const last = pass.last;
    if (last !== null) terminateWriteSubrequest(ctx, req, last, 0, { transferred: last.len });
    ctx.pacer.success(up.origin);
    return null;
  }
  const fromServer = pass.errorSource === 'server';
  const inFlight = pass.current ?? pass.last;
  let final = error;
  if (inFlight !== null && inFlight.has(SREQ.IN_PROGRESS)) {
    terminateWriteSubrequest(ctx, req, inFlight, 0, { error });
    if (!fromServer && inFlight.has(SREQ.NEED_RETRY)) {
      inFlight.clear(SREQ.NEED_RETRY);
      inFlight.set(SREQ.FAILED);
      ctx.stats.upldOps.uf++;
    }
    final = inFlight.error ?? error;
  }
  if (final.code === 'PRECONDITION_FAILED') {
    final = new NetfsError('CHANGED_ON_SERVER', `${req.path} changed on the server: the write's precondition failed (${final.message})`, { status: 412, cause: final });
  }
  if (fromServer && final.code === 'TRANSIENT') {
    // Nothing of this attempt was committed: every window of it goes again.
    for (const s of req.streams[0]) {
      if (s.start < pass.sentTo || s === inFlight) {
        s.clear(SREQ.IN_PROGRESS);
        s.set(SREQ.NEED_RETRY);
      }
    }
    req.set(RREQ.PAUSE);
  }
  return final;
}

/** End of the request: every subrequest is consumed; the first (final) error is kept. */
export function completeUpload(up: UploadRequest, error: NetfsError | null): void {
  const { ctx, req } = up;
  if (error !== null) req.fail(error);
  else req.transferred = up.size;
  req.clear(RREQ.PAUSE);
  for (const s of req.streams[0].splice(0)) {
    if (error !== null && s.has(SREQ.NEED_RETRY)) {
      s.clear(SREQ.NEED_RETRY);
      s.set(SREQ.FAILED);
    }
    ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: s.index, source: s.source, what: 'CONSM', start: s.start, transferred: s.transferred, len: s.len });
    ctx.stats.objs.sr--;
  }
  ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: error === null ? 'DONE' : 'FAILED', ...(error === null ? {} : { error: error.code, note: error.message }) });
}
