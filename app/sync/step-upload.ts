/**
 * Upload of one local file, never overwriting someone else's edit.
 *
 *   precondition: the server had it at base  -> If-Match base ETag (strong; else size + date)
 *                 the server has nothing     -> If-None-Match: *
 *   server ignores that precondition (capabilities(); rclone serve webdav does)
 *     -> stat right before: still the base version (or still absent)?  no -> PRECONDITION_FAILED
 *     -> PUT to a temp name in the same folder, stat again, MOVE onto the name, or onto a
 *        conflict copy's name when the server's copy changed meanwhile (step-upload-temp.ts)
 *     -> stat right after:  our size?                                  no -> PRECONDITION_FAILED
 *   else engine.upload straight to the name (one PUT through the buffer chain; fails if the
 *   local file changes meanwhile; Apache refuses it with 412 when the precondition fails)
 *   stat -> journal row (Apache answers a PUT without an ETag)
 *
 * PRECONDITION_FAILED / CHANGED_ON_SERVER reach the caller, which makes a conflict copy (F11, F14);
 * UploadConflict (a PRECONDITION_FAILED) says the copy is already made, on both sides.
 */
import { NetfsError, isNetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import type { Precondition, WriteResult } from '../remote/backend.js';
import { etagsMatchWeakly } from '../remote/webdav/etag.js';
import { hashLocalFile, hashRemoteFile } from './content-hash.js';
import { localPath } from './local-path.js';
import { baseOf, localNow, sameLocal } from './local-state.js';
import type { BaseEntry, LocalEntry } from './model.js';
import type { PropagateContext } from './propagate-context.js';
import { statOrNull, UploadConflict, uploadViaTemp } from './step-upload-temp.js';

export { UploadConflict } from './step-upload-temp.js';

/** The server still holds the version `base` describes (or nothing, when base is null). */
export function sameRemote(now: RemoteEntry | null, base: BaseEntry | null): boolean {
  if (base === null || base.etag === null && base.remoteSize === null) return now === null;
  if (now === null || now.kind !== 'file') return false;
  if (base.etag !== null && now.etag !== null) return etagsMatchWeakly(base.etag, now.etag);
  return base.remoteSize !== null && now.size === base.remoteSize && base.remoteMtimeMs !== null && now.mtimeMs === base.remoteMtimeMs;
}

/** The precondition that protects the server's version `base` (null: the server must have nothing). */
export function preconditionFor(base: BaseEntry | null): Precondition {
  if (base === null) return { kind: 'absent' };
  return { kind: 'match', etag: base.etag, size: base.remoteSize, mtimeMs: base.remoteMtimeMs };
}

/**
 * Uploads `local` to `path`, expecting the server to hold `expected` (null: nothing).
 * Returns the journal row, or null when the local file changed since the plan (skipped).
 * A failed precondition where the server already holds exactly our bytes is no conflict: an
 * upload whose answer was lost (C3, F1), or the same bytes put there by someone else.
 */
export async function uploadFile(ctx: PropagateContext, path: string, local: LocalEntry, expected: BaseEntry | null): Promise<BaseEntry | null> {
  try {
    return await uploadChecked(ctx, path, local, expected);
  } catch (e) {
    if (e instanceof UploadConflict) throw e;
    if (isNetfsError(e) && (e.code === 'PRECONDITION_FAILED' || e.code === 'CHANGED_ON_SERVER')) {
      const same = await serverHoldsOurs(ctx, path, local);
      if (same !== null) return same;
    }
    throw e;
  }
}

/** The journal row when the server's file has our size and our bytes (hashed) and ours is unchanged; else null. */
async function serverHoldsOurs(ctx: PropagateContext, path: string, local: LocalEntry): Promise<BaseEntry | null> {
  try {
    const now = await statOrNull(ctx, path);
    if (now === null || now.kind !== 'file' || now.size !== local.size) return null;
    const file = localPath(ctx.root, path);
    if (!sameLocal(await localNow(file, path), local)) return null;
    const [ours, theirs] = await Promise.all([hashLocalFile(file, ctx.signal), hashRemoteFile(ctx.engine, now, ctx.signal)]);
    if (ours !== theirs || !sameLocal(await localNow(file, path), local)) return null;
    return baseOf(path, local, now);
  } catch {
    return null; // could not tell: the caller's precondition failure stands
  }
}

async function uploadChecked(ctx: PropagateContext, path: string, local: LocalEntry, expected: BaseEntry | null): Promise<BaseEntry | null> {
  const file = localPath(ctx.root, path);
  if (!sameLocal(await localNow(file, path), local)) return null;
  const precondition = preconditionFor(expected);
  const enforced = precondition.kind === 'absent' ? ctx.caps.ifNoneMatchOnPut : ctx.caps.ifMatchOnPut;
  if (!enforced || (precondition.kind === 'match' && precondition.etag === null)) {
    const before = await statOrNull(ctx, path);
    if (!sameRemote(before, expected)) {
      throw new NetfsError('PRECONDITION_FAILED', `${path}: changed on the server since the last sync (checked before the upload; this server ignores preconditions)`);
    }
  }
  let written: WriteResult | null;
  if (!enforced) {
    // The server would take our PUT over a version it got meanwhile: put ours beside it first.
    written = await uploadViaTemp(ctx, path, local, (now) => sameRemote(now, expected));
  } else {
    const outcome = await ctx.engine.upload(path, {
      localFile: file,
      size: local.size,
      precondition,
      mtimeMs: local.mtimeMs,
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    });
    written = outcome.status === 'skipped' ? null : outcome.result;
  }
  if (written === null) return null;
  const after = await statOrNull(ctx, path);
  if (after === null || after.kind !== 'file' || after.size !== local.size) {
    throw new NetfsError('PRECONDITION_FAILED', `${path}: the server's file is not what we uploaded (another writer?)`);
  }
  // The PUT's ETag is the temp's when it went through one: only the stat's describes the name.
  const remote: RemoteEntry = { ...after, etag: after.etag ?? (enforced ? written.etag : null) };
  return baseOf(path, local, remote);
}
