/**
 * The upload entry point (netfs_writepages for one whole file, origin WB, counter Writes WP):
 * take the file's writeback lock, open the local file, run attempts until one commits or the
 * retries run out, finish the cache stream, tear down, report.
 *
 *   netfsUpload(ctx, params)
 *     writeback lock: free -> take it | held -> opportunistic ? "skipped" (WbLock skip)
 *                                                            : wait (WbLock wait)     (39)
 *     open + fstat the local file (its version; `size` given and different: changed locally)
 *     attempt n: UploadPass ── loader ──> chain ──> body() ──> backend.write (ONE PUT)
 *                                             └──> CacheStream (stream 1, whole blocks)
 *        PUT ok ............................ committed: the last window terminates
 *        TRANSIENT from the server ......... retry: wq++, pacer, attempt n+1 from byte 0 (45, 46)
 *        412 ............................... CHANGED_ON_SERVER, not retried
 *        local change / cancelled / other .. fail at once
 *     cache: collectWrite(last run) | invalidate (47); request consumed; every block back
 *     -> { status: 'uploaded', result (new ETag ...), cache, request } or the first final error
 *
 * Memory: the pool bounds it (a 10 GiB upload costs what a 10 MiB one does); every block is
 * back in the pool when this returns or throws, cancellation included. Nothing partial is ever
 * reported as uploaded: a failed or cancelled PUT commits nothing on a WebDAV server (mod_dav
 * writes a temp file) or on the local backend (temp + rename).
 */
import fs from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { WriteResult } from '../remote/backend.js';
import type { EngineContext } from './context.js';
import { RREQ } from './objects.js';
import { CacheStream } from './write-cache.js';
import { collectUploadAttempt, completeUpload } from './write-collect.js';
import { UploadPass } from './write-issue.js';
import {
  asNetfsError, changedLocally, localVersionOf, UploadRequest, type UploadCacheOutcome, type UploadOutcome, type UploadParams,
} from './write-request.js';
import { retryUpload } from './write-retry.js';

export async function netfsUpload(ctx: EngineContext, params: UploadParams): Promise<UploadOutcome> {
  // Tried synchronously: two uploads started in one tick are ordered as called.
  let release = ctx.wbLocks.tryLock(params.path);
  if (release === null) {
    if (params.opportunistic === true) {
      ctx.stats.wbLock.skip++;
      ctx.trace.add({ kind: 'rreq', rreq: 0, what: 'WB-SKIP', note: `upload ${params.path}: a writeback of it is in progress` });
      return { status: 'skipped', reason: `a writeback of ${params.path} is in progress` };
    }
    ctx.stats.wbLock.wait++;
    ctx.trace.add({ kind: 'rreq', rreq: 0, what: 'WB-WAIT', note: `upload ${params.path}: waiting for the writeback in progress` });
    release = await ctx.wbLocks.lock(params.path, params.signal);
  }
  try {
    return await uploadLocked(ctx, params);
  } finally {
    release();
  }
}

async function uploadLocked(ctx: EngineContext, params: UploadParams): Promise<UploadOutcome> {
  const up = new UploadRequest(ctx, params);
  const { req } = up;
  ctx.live.add(req);
  ctx.stats.objs.rr++;
  ctx.stats.writes.WP++;
  up.traceRreq('NEW', { start: 0, note: `upload ${params.path} <- ${params.localFile}` });
  let error: NetfsError | null = null;
  let result: WriteResult | null = null;
  let cacheOutcome: UploadCacheOutcome = 'none';
  try {
    if (ctx.pool.blocks < 2) throw new NetfsError('INVALID_ARGUMENT', `upload ${params.path}: the buffer pool must have at least 2 blocks (it has ${ctx.pool.blocks})`);
    await openLocal(up);
    if (params.cache !== undefined) up.cache = new CacheStream(up, params.cache);
    req.set(RREQ.UPLOAD_TO_SERVER);
    for (let attempt = 1; ; attempt++) {
      const pass = new UploadPass(up, attempt);
      result = await runAttempt(up, pass);
      await pass.teardown();
      const failed = collectUploadAttempt(up, pass);
      if (failed === null) break;
      result = null;
      const final = retryUpload(up, pass, failed);
      if (final !== null) {
        error = final;
        break;
      }
    }
  } catch (e) {
    error = asNetfsError(e, `upload ${params.path}`);
  } finally {
    try {
      if (up.cache !== null) cacheOutcome = await up.cache.finish(error === null);
    } finally {
      completeUpload(up, error);
      await up.fh?.close().catch(() => {});
      up.detachSignal();
      req.clear(RREQ.IN_PROGRESS);
      ctx.live.delete(req);
      ctx.stats.objs.rr--;
      up.traceRreq('FREE', { ...(req.error === null ? {} : { error: req.error.code }) });
    }
  }
  if (error !== null) throw error;
  return { status: 'uploaded', result: result!, bytes: up.size, cache: cacheOutcome, request: req.describe() };
}

/** One PUT. Resolves with the backend's answer, or null when the attempt failed (pass.error says why). */
async function runAttempt(up: UploadRequest, pass: UploadPass): Promise<WriteResult | null> {
  const { ctx, params } = up;
  try {
    await ctx.pacer.ready(up.origin, pass.abort.signal);
    await ctx.slots.acquire(pass.abort.signal);
  } catch (e) {
    pass.fail(asNetfsError(e, `upload ${params.path}`), 'cancelled');
    return null;
  }
  try {
    pass.start();
    up.traceRreq('SUBMT', { note: `attempt ${pass.attempt}: PUT of ${up.size} bytes` });
    const result = await ctx.backend.write(params.path, {
      length: up.size,
      source: pass.body(),
      precondition: params.precondition,
      ...(params.mtimeMs === undefined ? {} : { mtimeMs: params.mtimeMs }),
      signal: pass.abort.signal,
    });
    // Committed: a cancellation arriving now changes nothing on the server, so it is not one.
    pass.error = null;
    pass.errorSource = null;
    return result;
  } catch (e) {
    pass.fail(asNetfsError(e, `upload ${params.path}`), 'server');
    return null;
  } finally {
    ctx.slots.release();
  }
}

/** Opens the local file and records its version; a size other than the caller saw is a local change. */
async function openLocal(up: UploadRequest): Promise<void> {
  const { params, req } = up;
  try {
    up.fh = await fs.open(params.localFile, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NetfsError('NOT_FOUND', `upload ${params.path}: the local file ${JSON.stringify(params.localFile)} does not exist`, { cause: e });
    throw asNetfsError(e, `upload ${params.path}: opening ${JSON.stringify(params.localFile)}`);
  }
  const stats = await up.fh.stat({ bigint: true });
  if (!stats.isFile()) throw new NetfsError('INVALID_ARGUMENT', `upload ${params.path}: ${JSON.stringify(params.localFile)} is not a regular file`);
  up.version = localVersionOf(stats);
  up.size = Number(stats.size);
  if (params.size !== undefined && params.size !== up.size) {
    throw changedLocally(params.path, params.localFile, `it has ${up.size} bytes, not the ${params.size} expected`);
  }
  req.len = up.size;
}
