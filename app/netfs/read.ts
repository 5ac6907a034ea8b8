/**
 * The read entry point (netfs_readahead / netfs_unbuffered_read + netfs_wait_for_read):
 * make the request, run the issue loop and the collector, wait, tear down, report.
 *
 *   netfsRead(ctx, params)
 *     ReadState ── issueReads ──┐                  ┌── collectReads (Waker: one pass at a time)
 *                               └── subrequests ───┘
 *     await done ─> release the chain (every pool block back) ─> first error, or the outcome
 *
 * A server found to ignore Range (a 200 to a ranged GET) fails that subrequest as too much
 * data; the request is then redone once as one GET from 0 (digest behaviour 13, DESIGN §4),
 * when the file fits in half the pool.
 */
import { NetfsError } from '../api/errors.js';
import type { EngineContext } from './context.js';
import { RREQ } from './objects.js';
import { collectReads } from './read-collect.js';
import { issueReads } from './read-issue.js';
import { type ReadConsumer, type ReadOutcome, type ReadParams, ReadState } from './read-request.js';
import { Waker } from './waits.js';

const COUNTER = { download: 'RA', read: 'RF', 'unbuffered-read': 'DR' } as const;

async function runOnce(ctx: EngineContext, params: ReadParams): Promise<{ rs: ReadState }> {
  const rs = new ReadState(ctx, params);
  const { req } = rs;
  ctx.live.add(req);
  ctx.stats.objs.rr++;
  ctx.stats.reads[COUNTER[params.origin]]++;
  ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'NEW', start: req.start, len: req.len, note: `${req.origin} ${req.path}` });
  const waker = new Waker(
    () => collectReads(rs),
    (e) => rs.cancel(e instanceof NetfsError ? e : new NetfsError('IO', `collecting ${req.path}: ${(e as Error).message}`)),
  );
  rs.wakeCollector = () => waker.wake();
  try {
    if (req.len > 0) {
      void issueReads(rs);
      await rs.done.promise;
    }
  } finally {
    rs.detachSignal();
    if (rs.cacheState === 'failed') await params.cache?.invalidate('write-error').catch(() => {});
    req.clear(RREQ.IN_PROGRESS);
    rs.dispatch.detach();
    rs.collectPos.detach();
    rs.chain.release();
    await rs.local?.close().catch(() => {});
    ctx.live.delete(req);
    ctx.stats.objs.rr--;
    ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'FREE', error: req.error?.code });
  }
  return { rs };
}

/** Passes on only the bytes in [start, end) of what a wider request delivers. */
export function windowConsumer(consumer: ReadConsumer, start: number, end: number): ReadConsumer {
  return {
    deliver: async (fpos, views) => {
      let at = fpos;
      const mine: Uint8Array[] = [];
      for (const v of views) {
        const a = Math.max(at, start);
        const b = Math.min(at + v.length, end);
        if (b > a) mine.push(v.subarray(a - at, b - at));
        at += v.length;
      }
      if (mine.length > 0) await consumer.deliver(Math.max(fpos, start), mine);
    },
  };
}

export async function netfsRead(ctx: EngineContext, params: ReadParams): Promise<ReadOutcome> {
  const cache = params.cache;
  if (cache !== undefined && params.origin !== 'unbuffered-read' && params.len > 0) {
    // With a cache, reads are widened to its granules (DESIGN §5); the caller sees only its range.
    const g = cache.granule;
    const start = Math.floor(params.start / g) * g;
    const end = Math.min(params.size, Math.ceil((params.start + params.len) / g) * g);
    if (start !== params.start || end !== params.start + params.len) {
      const out = await netfsRead(ctx, { ...params, start, len: end - start, consumer: windowConsumer(params.consumer, params.start, params.start + params.len) });
      return { ...out, transferred: Math.min(params.len, Math.max(0, out.transferred - (params.start - start))) };
    }
  }
  let { rs } = await runOnce(ctx, params);
  if (rs.req.has(RREQ.NO_RANGES) && rs.req.error?.code === 'TOO_LARGE') {
    // The server ignores Range: redo once as a single GET from 0 (the consumer sees only its range).
    if (params.size > ctx.limits.maxNoRangesBytes) {
      throw new NetfsError('UNSUPPORTED', `${params.path}: the server ignores Range and the file (${params.size} bytes) is larger than can be read whole (${ctx.limits.maxNoRangesBytes} bytes)`);
    }
    const whole: ReadParams = { ...params, start: 0, len: params.size, consumer: windowConsumer(params.consumer, params.start, params.start + params.len) };
    ({ rs } = await runOnce(ctx, { ...whole, rsize: Math.max(ctx.limits.rsize, params.size) }));
    if (rs.req.error === null) {
      return { transferred: params.len, shortAt: rs.shortAt, request: rs.req.describe() };
    }
  }
  if (rs.req.error !== null) throw rs.req.error;
  if (rs.req.submitted < rs.req.len && !rs.req.has(RREQ.SHORT_TRANSFER)) {
    // The issuer did not cover the whole range (behaviour 25): never a silent short success.
    throw new NetfsError('IO', `read ${params.path}: only ${rs.req.submitted} of ${rs.req.len} bytes were issued`);
  }
  return { transferred: rs.req.transferred, shortAt: rs.shortAt, request: rs.req.describe() };
}
