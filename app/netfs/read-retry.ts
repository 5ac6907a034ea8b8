/**
 * Read retry pass (netfs_retry_reads, digest §4.2), run by the collector once nothing in the
 * stream is in flight (behaviour 57).
 *
 *   for each run of contiguous NEED_RETRY subrequests, in file order:
 *     re-tile the run for the server (59: a retried read never goes back to the cache)
 *     with the limits unchanged each subrequest keeps its slot (58: fewer or more only when the
 *     limits change) and is re-issued for exactly its remaining bytes (16)
 *     each subrequest is re-issued at most maxRetries times, then fails with its last error (62)
 *     the pacer decides when: backoff with jitter, or the server's Retry-After; a wait longer
 *     than it accepts fails the subrequest TRANSIENT with retryAfterMs (the sync layer reschedules)
 *   rq counts passes, rs counts re-issued subrequests (63)
 */
import { NetfsError } from '../api/errors.js';
import { RREQ, SREQ } from './objects.js';
import { issueSubrequest } from './read-issue.js';
import type { ReadState } from './read-request.js';

export async function retryReads(rs: ReadState): Promise<void> {
  const { req, ctx } = rs;
  req.retryPasses++;
  ctx.stats.retries.rq++;
  req.set(RREQ.RETRYING);
  ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'RETRY', note: `pass ${req.retryPasses}` });
  try {
    for (const sreq of req.streams[0]) {
      if (!sreq.has(SREQ.NEED_RETRY)) continue;
      if (sreq.retryCount >= ctx.limits.maxRetries) {
        sreq.clear(SREQ.NEED_RETRY);
        sreq.set(SREQ.FAILED);
        ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what: '!RETR', error: sreq.error?.code });
        // Fails with its last error (behaviour 62); the collector ends the request.
        sreq.error ??= new NetfsError('TRANSIENT', `read ${req.path}: too many retries`);
        break;
      }
      sreq.retryCount++;
      let delay = 0;
      try {
        delay = ctx.pacer.backoff(rs.origin, sreq.retryCount, sreq.error?.retryAfterMs);
      } catch (e) {
        sreq.clear(SREQ.NEED_RETRY);
        sreq.set(SREQ.FAILED);
        sreq.error = e as NetfsError;
        ctx.trace.add({ kind: 'pacer', rreq: req.debugId, sreq: sreq.index, what: 'TOO-LONG', error: 'TRANSIENT', note: (e as Error).message });
        break;
      }
      ctx.trace.add({ kind: 'pacer', rreq: req.debugId, sreq: sreq.index, what: 'BACKOFF', note: `${delay} ms${sreq.error?.retryAfterMs !== undefined ? ' (Retry-After)' : ''}` });
      ctx.stats.retries.rs++;
      if (sreq.source === 'READ' || sreq.source === 'LOCL') {
        ctx.stats.downOps.di++;
        sreq.source = 'DOWN';
      }
      sreq.clear(SREQ.NEED_RETRY);
      sreq.set(SREQ.RETRYING);
      await rs.perRequest.acquire(rs.abort.signal);
      ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what: 'RETRY', start: sreq.start, transferred: sreq.transferred, len: sreq.len });
      issueSubrequest(rs, sreq, true);
    }
  } catch (e) {
    // Cancelled while waiting for a slot: the request is already failing.
    if (!(e instanceof NetfsError)) throw e;
  } finally {
    req.clear(RREQ.RETRYING);
    rs.wakeCollector();
  }
}
