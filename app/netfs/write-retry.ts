/**
 * Write retries (netfs_retry_writes and the unbuffered-write retry, digest §4.3, §3.7, §4.5 A).
 *
 *   upload (one PUT, WebDAV):                     unbuffered write (ranged writes, strict sequence):
 *     TRANSIENT failure of the PUT                  subrequest k NEED_RETRY (TRANSIENT error, or a
 *       -> wq++, the pacer decides when               short write that made progress)
 *       -> the WHOLE upload again from byte 0:         -> wq++, renegotiate() if the caller gave one
 *          a PUT cannot be resumed, the server         (and still re-issued when not: scenario A)
 *          keeps nothing of a broken one              -> the pacer's backoff after an error
 *       -> each window re-issued counts ws            -> the SAME subrequest for exactly its
 *     412: CHANGED_ON_SERVER, never retried              remaining bytes, ws++ (behaviour 53)
 *     at most maxRetries retries, then the last     at most maxRetries re-issues, then it fails
 *     error (behaviour 62)                            with its last error
 *   A wait the pacer refuses (Retry-After over its limit) fails at once as TRANSIENT with
 *   retryAfterMs: the sync layer reschedules the item.
 */
import { NetfsError } from '../api/errors.js';
import type { EngineContext } from './context.js';
import { RREQ, SREQ, type NetfsRequest, type NetfsSubrequest } from './objects.js';
import type { UploadPass } from './write-issue.js';
import type { UploadRequest } from './write-request.js';

/** Whether the upload goes again after `error`: null to retry, or the error it ends with. */
export function retryUpload(up: UploadRequest, pass: UploadPass, error: NetfsError): NetfsError | null {
  const { ctx, req } = up;
  if (pass.errorSource !== 'server' || error.code !== 'TRANSIENT') return error;
  if (req.retryPasses >= ctx.limits.maxRetries) {
    up.traceRreq('!RETR', { error: error.code, note: `gave up after ${req.retryPasses} retries: ${error.message}` });
    return error;
  }
  req.retryPasses++;
  ctx.stats.retries.wq++;
  let delay: number;
  try {
    delay = ctx.pacer.backoff(up.origin, req.retryPasses, error.retryAfterMs);
  } catch (e) {
    ctx.trace.add({ kind: 'pacer', rreq: req.debugId, what: 'TOO-LONG', error: 'TRANSIENT', note: (e as Error).message });
    return e as NetfsError;
  }
  ctx.trace.add({ kind: 'pacer', rreq: req.debugId, what: 'BACKOFF', note: `${delay} ms${error.retryAfterMs !== undefined ? ' (Retry-After)' : ''}` });
  up.traceRreq('RETRY', { note: `pass ${req.retryPasses}: the whole PUT again from byte 0 (a WebDAV PUT cannot be resumed; ${error.message})` });
  req.clear(RREQ.PAUSE);
  return null;
}

/** What the caller of an unbuffered write may do before a subrequest is re-issued. */
export interface RenegotiateInfo {
  /** Debug id of the request and index of the subrequest. */
  request: number;
  subrequest: number;
  /** Re-issues of this subrequest so far, this one included. */
  attempt: number;
  /** The remaining range the re-issue will cover. */
  offset: number;
  length: number;
  /** Why: the error, or null for a short write. */
  error: NetfsError | null;
}

/** The fs's retry_request (e.g. reopen a handle). Throwing abandons the write with that error. */
export type RenegotiateHook = (info: RenegotiateInfo) => Promise<void> | void;

export interface DirectRetryContext {
  ctx: EngineContext;
  req: NetfsRequest;
  origin: string;
  renegotiate: RenegotiateHook | undefined;
}

/**
 * Prepares `sreq` (NEED_RETRY) to be re-issued for its remaining bytes. Returns null when it
 * may go again, or the error it fails with (the cap, the hook, or the pacer).
 */
export async function retryDirectWrite(rc: DirectRetryContext, sreq: NetfsSubrequest): Promise<NetfsError | null> {
  const { ctx, req } = rc;
  const last = sreq.error;
  const fail = (error: NetfsError, what: string): NetfsError => {
    sreq.clear(SREQ.NEED_RETRY);
    sreq.set(SREQ.FAILED);
    sreq.error = error;
    ctx.stats.upldOps.uf++;
    ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what, error: error.code, note: error.message });
    return error;
  };
  if (sreq.retryCount >= ctx.limits.maxRetries) {
    // Behaviour 62: fails with its last error.
    return fail(last ?? new NetfsError('IO', `write ${req.path} [${sreq.start}+${sreq.len}]: still short after ${sreq.retryCount} retries`), '!RETR');
  }
  req.retryPasses++;
  ctx.stats.retries.wq++;
  const offset = sreq.start + sreq.transferred;
  const length = sreq.len - sreq.transferred;
  if (rc.renegotiate !== undefined) {
    ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what: 'RENEG', start: offset, len: length });
    try {
      await rc.renegotiate({ request: req.debugId, subrequest: sreq.index, attempt: sreq.retryCount + 1, offset, length, error: last });
    } catch (e) {
      const error = e instanceof NetfsError ? e : new NetfsError('IO', `write ${req.path}: renegotiation failed: ${(e as Error).message}`, { cause: e });
      return fail(error, 'ABNDN');
    }
  }
  if (last !== null) {
    try {
      const delay = ctx.pacer.backoff(rc.origin, sreq.retryCount + 1, last.retryAfterMs);
      ctx.trace.add({ kind: 'pacer', rreq: req.debugId, sreq: sreq.index, what: 'BACKOFF', note: `${delay} ms${last.retryAfterMs !== undefined ? ' (Retry-After)' : ''}` });
    } catch (e) {
      return fail(e as NetfsError, 'TOO-LONG');
    }
  }
  sreq.retryCount++;
  ctx.stats.retries.ws++;
  sreq.clear(SREQ.NEED_RETRY);
  sreq.error = null;
  sreq.set(SREQ.RETRYING);
  ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what: 'RETRY', start: offset, transferred: 0, len: length, note: `the same subrequest, its remaining ${length} bytes` });
  return null;
}
