/**
 * Staging a synced file's download into its cache object (DESIGN §6, cache issue item 7):
 * origin download, the bytes go to the cache object only (no temp file, no consumer), and only
 * the ranges the cache does not hold yet are fetched, so a download that was interrupted (even
 * by SIGKILL) resumes from the cache's occupancy. Placing the whole object in the sync folder
 * is the cache's job (app/cache/staging.ts).
 *
 *   netfsStage(ctx, { path, size, expect, cache })
 *     holes = [0, size) minus the cache's DATA extents (asked two at a time, behaviour 7)
 *     for each hole: netfsRead(origin download, [hole], cache, cacheRequired)
 *        DOWN subrequests (ranged GETs, If-Match) --same buffers--> cache.write + collectWrite
 *        a failed cache write fails the request (the cache is the destination)
 *        a request that fails for good (retries exhausted, an error, cancelled) still keeps what
 *        it downloaded validly (read-collect.ts abandon: the front's landed bytes in whole
 *        granules, later subrequests that completed), so the next stage resumes there (F2);
 *        nothing on CHANGED_ON_SERVER or TOO_LARGE
 *     holes again: none left, or IO (never a silent gap)
 *   -> { fetched, reused, requests }
 */
import { NetfsError } from '../api/errors.js';
import type { Expected } from '../remote/backend.js';
import type { CacheObjectIo } from './cache-api.js';
import type { EngineContext } from './context.js';
import type { RequestListEntry } from './objects.js';
import { netfsRead } from './read.js';

export interface StageParams {
  path: string;
  /** The size the listing gave. */
  size: number;
  /** The version the listing gave: sent as If-Match; a change fails with CHANGED_ON_SERVER. */
  expect?: Expected;
  /** The file's staging object (app/cache/staging.ts beginStaging). */
  cache: CacheObjectIo;
  signal?: AbortSignal;
}

export interface StageOutcome {
  /** Bytes fetched from the server by this call. */
  fetched: number;
  /** Bytes the cache already held (an earlier, interrupted download). */
  reused: number;
  /** One read request per missing range, in file order. */
  requests: RequestListEntry[];
}

/** The ranges of [0, size) the cache does not hold, in file order. */
export async function missingRanges(cache: CacheObjectIo, size: number): Promise<Array<[number, number]>> {
  const holes: Array<[number, number]> = [];
  let pos = 0;
  while (pos < size) {
    const extents = (await cache.queryOccupancy(pos, size)).filter((e) => e.type === 'DATA' && e.end > pos);
    if (extents.length === 0) {
      holes.push([pos, size]);
      break;
    }
    for (const e of extents) {
      if (e.start > pos) holes.push([pos, e.start]);
      pos = Math.max(pos, e.end);
    }
  }
  return holes;
}

export async function netfsStage(ctx: EngineContext, params: StageParams): Promise<StageOutcome> {
  const { path, size, cache } = params;
  if (!Number.isSafeInteger(size) || size < 0) throw new NetfsError('INVALID_ARGUMENT', `stage ${path}: bad size ${size}`);
  const holes = await missingRanges(cache, size);
  const missing = holes.reduce((n, [a, b]) => n + (b - a), 0);
  ctx.trace.add({ kind: 'rreq', rreq: 0, what: 'STAGE', start: 0, len: size, note: `${path}: ${holes.length} missing range(s), ${missing} bytes; ${size - missing} reused from the cache` });
  const requests: RequestListEntry[] = [];
  let fetched = 0;
  for (const [start, end] of holes) {
    const out = await netfsRead(ctx, {
      origin: 'download',
      path,
      start,
      len: end - start,
      size,
      cache,
      cacheRequired: true,
      consumer: { deliver: () => {} },
      ...(params.expect === undefined ? {} : { expect: params.expect }),
      ...(params.signal === undefined ? {} : { signal: params.signal }),
    });
    if (out.shortAt !== null) {
      throw new NetfsError('CHANGED_ON_SERVER', `${path}: the server's file ends at ${out.shortAt} bytes, not ${size}: it changed`);
    }
    fetched += end - start;
    requests.push(out.request);
  }
  const left = await missingRanges(cache, size);
  if (left.length > 0) {
    throw new NetfsError('IO', `stage ${path}: the cache object is not whole after the download (missing ${JSON.stringify(left)})`);
  }
  return { fetched, reused: size - missing, requests };
}
