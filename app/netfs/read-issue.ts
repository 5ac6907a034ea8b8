/**
 * Read issue (netfs_read_to_pagecache / netfs_issue_read, digest §2.2): walk the request from
 * front to back and tile it into subrequests, each from one source.
 *
 *   pos ──> cache extent covers pos?        READ (DATA) or ZERO (ZERO extent)   len to extent end
 *           pos >= min(size, zero_point)?   ZERO for the rest of the request (behaviour 8)
 *           a synced local copy?            LOCL
 *           else                            DOWN, flagged COPY_TO_CACHE when a cache is attached
 *      len bounded by rsize, the next cached extent, the request end and min(size, zero_point)
 *      (behaviour 9); a zero length is an internal error that stops issuing (behaviour 10).
 *
 * Pool blocks for each subrequest are taken under the engine's allocation lock (waiting in the
 * pool is the backpressure onto the sockets), then the subrequest gets its slice of the chain
 * and is issued; at most maxInFlightPerRequest are in flight per request, maxInFlight overall.
 */
import { open } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import { bvecqSlice } from './bvecq.js';
import type { OccupancyExtent } from './cache-api.js';
import { type NetfsSource, type NetfsSubrequest, RREQ, SREQ } from './objects.js';
import type { ReadState } from './read-request.js';
import { terminateReadSubrequest } from './read-collect.js';
import { skipViews } from './waits.js';

interface Tile {
  source: NetfsSource;
  len: number;
  copyToCache: boolean;
}

/** Decides the source and length of the next subrequest at `pos` (digest §2.2 steps 1-3). */
async function nextTile(rs: ReadState, pos: number, extents: OccupancyExtent[], cacheDone: { value: boolean }): Promise<Tile> {
  const { params, ctx } = rs;
  const end = rs.req.end;
  const cache = params.cache;
  while (extents.length > 0 && extents[0]!.end <= pos) extents.shift();
  if (cache !== undefined && !cacheDone.value && extents.length === 0 && pos < rs.limit) {
    const found = await cache.queryOccupancy(pos, end);
    // Trim inward to the cache's granularity (behaviour 5): partial blocks come from the server.
    const g = cache.blockSize;
    for (const e of found.slice(0, 2)) {
      const s = Math.ceil(e.start / g) * g;
      const t = e.end >= params.size ? e.end : Math.floor(e.end / g) * g;
      if (t > s) extents.push({ start: s, end: t, type: e.type });
    }
    if (extents.length === 0) cacheDone.value = true;
  }
  while (extents.length > 0 && extents[0]!.end <= pos) extents.shift();
  const first = extents[0];
  // Every tile is bounded by rsize, whatever its source: a subrequest's buffer must fit the pool.
  const rsize = params.rsize ?? ctx.limits.rsize;
  if (first !== undefined && pos >= first.start) {
    return { source: first.type === 'DATA' ? 'READ' : 'ZERO', len: Math.min(first.end, end, pos + rsize) - pos, copyToCache: false };
  }
  if (pos >= rs.limit) return { source: 'ZERO', len: Math.min(end - pos, rsize), copyToCache: false };
  const bound = Math.min(rs.limit, end, first?.start ?? Infinity);
  if (params.localCopy !== undefined) return { source: 'LOCL', len: Math.min(bound - pos, rsize), copyToCache: cache !== undefined && params.fillCacheFromLocal === true };
  return { source: 'DOWN', len: Math.min(bound - pos, rsize), copyToCache: cache !== undefined };
}

/** Loads pool blocks into the chain until it reaches `to`. */
async function ensureLoaded(rs: ReadState, to: number): Promise<void> {
  const { chain, ctx } = rs;
  if (chain.end >= to) return;
  await ctx.allocLock.run(async () => {
    while (chain.end < to) {
      const block = await ctx.pool.allocAsync(rs.abort.signal);
      chain.load(block, { len: Math.min(ctx.pool.blockSize, rs.req.end - chain.end) });
    }
  }, rs.abort.signal);
}

/** The issue loop: runs until the whole range is queued, the request fails or is cancelled. */
export async function issueReads(rs: ReadState): Promise<void> {
  const { req, ctx } = rs;
  const extents: OccupancyExtent[] = [];
  const cacheDone = { value: rs.params.cache === undefined };
  let pos = req.start;
  try {
    while (pos < req.end && !req.has(RREQ.FAILED)) {
      await rs.waitUnpaused();
      if (req.has(RREQ.FAILED)) break;
      await rs.perRequest.acquire(rs.abort.signal);
      if (req.has(RREQ.PAUSE) || req.has(RREQ.FAILED)) {
        // Paused while waiting for the slot (a subrequest needs a retry): wait again (behaviour 20).
        rs.perRequest.release();
        continue;
      }
      let tile: Tile;
      try {
        tile = await nextTile(rs, pos, extents, cacheDone);
        if (tile.len <= 0) {
          ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'ZERO-LEN', start: pos, note: 'internal error: zero-length subrequest' });
          throw new NetfsError('IO', `read ${req.path}: internal error: zero-length subrequest at ${pos}`);
        }
        await ensureLoaded(rs, pos + tile.len);
      } catch (e) {
        rs.perRequest.release();
        throw e;
      }
      const slice = bvecqSlice(rs.dispatch, tile.len);
      const sreq = req.newSubrequest(0, tile.source, pos, slice.len, slice);
      if (tile.copyToCache) sreq.set(SREQ.COPY_TO_CACHE);
      ctx.stats.objs.sr++;
      pos += slice.len;
      req.submitted = pos - req.start;
      ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: sreq.source, what: 'ADD', start: sreq.start, len: sreq.len });
      issueSubrequest(rs, sreq, false);
    }
  } catch (e) {
    // Issuing stopped early: whatever was issued still completes (digest §2.2 step 6).
    rs.req.fail(e instanceof NetfsError ? e : new NetfsError('IO', `read ${req.path}: ${(e as Error).message}`));
  } finally {
    req.set(RREQ.ALL_QUEUED);
    ctx.trace.add({ kind: 'rreq', rreq: req.debugId, what: 'ALL-Q' });
    rs.wakeCollector();
  }
}

/**
 * Issues (or re-issues) one subrequest for its remaining bytes. The per-request slot must be
 * held by the caller; it is released when the subrequest terminates.
 */
export function issueSubrequest(rs: ReadState, sreq: NetfsSubrequest, retry: boolean): void {
  const { ctx, req, params } = rs;
  sreq.set(SREQ.IN_PROGRESS);
  rs.inFlight++;
  const base = sreq.transferred;
  const remaining = sreq.len - base;
  const views = skipViews(sreq.slice!.views, base);
  const done = (result: { transferred: number; eof: boolean } | { error: unknown }): void => terminateReadSubrequest(rs, sreq, base, result);

  switch (sreq.source) {
    case 'ZERO': {
      ctx.stats.zeroOps.ZR++;
      for (const v of views) v.fill(0);
      ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'ZERO', what: 'SUBMT', start: sreq.start, len: sreq.len });
      queueMicrotask(() => done({ transferred: remaining, eof: false }));
      return;
    }
    case 'READ': {
      ctx.stats.caRdOps.RD++;
      ctx.stats.fscache.io.rd++;
      ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'READ', what: 'SUBMT', start: sreq.start, len: sreq.len });
      params.cache!.read(sreq.start + base, views, rs.abort.signal).then(
        (n) => done({ transferred: n, eof: false }),
        (error: unknown) => done({ error }),
      );
      return;
    }
    case 'LOCL': {
      ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'LOCL', what: 'SUBMT', start: sreq.start, len: sreq.len });
      readLocal(rs, sreq.start + base, views).then(
        (r) => done(r),
        (error: unknown) => done({ error }),
      );
      return;
    }
    default: {
      if (!retry) ctx.stats.downOps.DL++;
      void issueDownload(rs, sreq, base, remaining, views, done);
    }
  }
}

async function issueDownload(
  rs: ReadState,
  sreq: NetfsSubrequest,
  base: number,
  remaining: number,
  views: Uint8Array[],
  done: (r: { transferred: number; eof: boolean } | { error: unknown }) => void,
): Promise<void> {
  const { ctx, req, params } = rs;
  try {
    await ctx.pacer.ready(rs.origin, rs.abort.signal);
    await ctx.slots.acquire(rs.abort.signal);
  } catch (error) {
    done({ error });
    return;
  }
  ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'DOWN', what: 'SUBMT', start: sreq.start + base, len: remaining });
  // max(256 KiB, the front segment): one pool block per segment here (digest §2.6, scenario J).
  const floor = Math.max(ctx.limits.progressFloor, ctx.pool.blockSize);
  try {
    const r = await ctx.backend.read(params.path, {
      offset: sreq.start + base,
      length: remaining,
      buffers: views,
      ...(params.expect === undefined ? {} : { expect: params.expect }),
      signal: rs.abort.signal,
      onProgress: (n) => {
        sreq.transferred = base + n;
        sreq.set(SREQ.MADE_PROGRESS);
        // Wake the collector only for the head of the stream, and only for real progress (behaviour 27).
        if (req.streams[0][0] === sreq && sreq.start + sreq.transferred >= rs.collectedTo + floor) {
          ctx.trace.add({ kind: 'sreq', rreq: req.debugId, sreq: sreq.index, source: 'DOWN', what: 'PRGRS', start: sreq.start, transferred: sreq.transferred, len: sreq.len });
          rs.wakeCollector();
        }
      },
    });
    ctx.slots.release();
    done({ transferred: r.transferred, eof: r.eof });
  } catch (error) {
    ctx.slots.release();
    done({ error });
  }
}

async function readLocal(rs: ReadState, position: number, views: Uint8Array[]): Promise<{ transferred: number; eof: boolean }> {
  rs.local ??= await open(rs.params.localCopy!, 'r');
  let total = 0;
  let pos = position;
  let rest = views;
  while (rest.length > 0) {
    const { bytesRead } = await rs.local.readv(rest, pos);
    if (bytesRead === 0) return { transferred: total, eof: true };
    total += bytesRead;
    pos += bytesRead;
    rest = skipViews(rest, bytesRead);
  }
  return { transferred: total, eof: false };
}
