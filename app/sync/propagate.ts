/**
 * Carries out a plan: folders first (parents before children), then file transfers several at
 * a time, then deletes (children before parents). Each action ends in the journal: a synced
 * row, a forgotten row, or a failure with its reason and next retry.
 *
 *   actions --phase 1: mkdir-*, record*, forget --------------------------------- in order
 *           --folder moves (L4), one at a time in plan order; then phase 1 inside them
 *           --phase 2: download, upload, compare, conflict, move-remote ---------- `transfers` at once
 *             (what is inside a folder move that did not happen is skipped: next pass)
 *           --phase 3: delete-* --------------------------------------------------- deepest first
 *
 *   error policy (per action)
 *     UNREACHABLE, AUTH, 503 (maintenance, F7)  -> the whole pass stops (PassAborted)
 *     PRECONDITION_FAILED / CHANGED_ON_SERVER on an upload -> conflict copy (F11, F14)
 *     INSUFFICIENT_STORAGE on an upload of S bytes -> no more uploads >= S this pass (F10)
 *     anything else -> failure recorded with backoff (F6); LOCKED keeps the change pending (F9)
 */
import { NetfsError, isNetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import type { Action, LocalEntry } from './model.js';
import { localPath } from './local-path.js';
import type { PropagateContext } from './propagate-context.js';
import { hashLocalFile, hashRemoteFile } from './content-hash.js';
import { baseOf, localNow, sameLocal } from './local-state.js';
import { resolveByCopy } from './step-conflict.js';
import { downloadFile } from './step-download.js';
import { belowFolderMove, isFolderMove } from './plan.js';
import { deleteLocal, deleteRemote, makeLocalFolder, makeRemoteFolder, moveLocalFolder, moveRemote, moveRemoteFolder } from './step-tree.js';
import { ancestorsOf } from './tree-paths.js';
import { UploadConflict, uploadFile } from './step-upload.js';

export interface PropagateResult {
  done: number;
  /** Actions skipped because a side changed since the plan: another pass should follow. */
  skipped: number;
  failed: { path: string; code: string; message: string }[];
  conflicts: { path: string; copyPath: string }[];
  bytesDown: number;
  bytesUp: number;
}

/** The pass cannot go on (server unreachable, credentials refused, maintenance). */
export class PassAborted extends NetfsError {}

const PHASE: Record<Action['type'], 1 | 2 | 3> = {
  'mkdir-local': 1,
  'mkdir-remote': 1,
  record: 1,
  'record-online-only': 1,
  forget: 1,
  download: 2,
  upload: 2,
  compare: 2,
  conflict: 2,
  'move-remote': 2,
  'move-local': 2,
  'delete-local': 3,
  'delete-remote': 3,
};

function depth(path: string): number {
  return path.split('/').length;
}

function abortsPass(e: NetfsError): boolean {
  return e.code === 'UNREACHABLE' || e.code === 'AUTH' || e.code === 'CANCELLED' || (e.code === 'TRANSIENT' && e.status === 503);
}

export async function propagate(ctx: PropagateContext, actions: readonly Action[], transfers = 4): Promise<PropagateResult> {
  const result: PropagateResult = { done: 0, skipped: 0, failed: [], conflicts: [], bytesDown: 0, bytesUp: 0 };
  let uploadCeiling = Number.POSITIVE_INFINITY;
  let aborted: NetfsError | null = null;
  // Destinations of folder moves that did not happen: nothing inside them can be done this pass.
  const movesNotDone = new Set<string>();
  const insideMoveNotDone = (path: string): boolean => movesNotDone.size > 0 && ancestorsOf(path).some((p) => movesNotDone.has(p));

  const run = async (a: Action): Promise<void> => {
    if (aborted !== null) return;
    // Stopping (SIGTERM, quit): what runs finishes and is recorded; nothing new starts.
    if (ctx.draining?.aborted === true || insideMoveNotDone(a.path) || ((a.type === 'move-remote' || a.type === 'move-local') && insideMoveNotDone(a.from))) {
      if (isFolderMove(a)) movesNotDone.add(a.path);
      result.skipped++;
      return;
    }
    if (a.type === 'upload' && a.local.size >= uploadCeiling) {
      const message = `${a.path}: not uploaded, the server is out of space for files of ${uploadCeiling} bytes or more (507)`;
      ctx.journal.recordFailure(a.path, { code: 'INSUFFICIENT_STORAGE', message });
      result.failed.push({ path: a.path, code: 'INSUFFICIENT_STORAGE', message });
      return;
    }
    try {
      const ok = await step(ctx, a, result);
      if (ok) {
        result.done++;
        ctx.journal.clearFailure(a.path);
      } else {
        if (isFolderMove(a)) movesNotDone.add(a.path);
        result.skipped++;
      }
    } catch (e) {
      if (isFolderMove(a)) movesNotDone.add(a.path);
      let err = isNetfsError(e) ? (e as NetfsError) : new NetfsError('IO', `${a.path}: ${(e as Error).message}`, { cause: e });
      if (abortsPass(err)) {
        aborted ??= err;
        return;
      }
      if (a.type === 'download' && err.code === 'CHANGED_ON_SERVER' && (await stillListedAs(ctx, a.remote))) {
        // F18: the server still lists the very version planned on (If-Match held), yet its bytes
        // end elsewhere: not a change to plan again for (that fetches it again every pass) but
        // an item failure, kept with its reason and backed off like any other.
        err = new NetfsError('PROTOCOL', `${a.path}: the server sent bytes that do not match its listing of ${a.remote.size ?? '?'} bytes (${err.message}); not committed`, { cause: err });
      }
      if (a.type === 'upload' && (err.code === 'PRECONDITION_FAILED' || err.code === 'CHANGED_ON_SERVER')) {
        try {
          // UploadConflict: the temp upload already kept ours as the copy, on both sides.
          const c = err instanceof UploadConflict ? err.outcome : await resolveByCopy(ctx, a.path, a.local, null);
          if (c !== null) {
            ctx.journal.recordSynced(c.rows);
            result.conflicts.push({ path: a.path, copyPath: c.copyPath });
            result.done++;
            return;
          }
          result.skipped++;
          return;
        } catch (e2) {
          const err2 = isNetfsError(e2) ? (e2 as NetfsError) : new NetfsError('IO', `${a.path}: ${(e2 as Error).message}`);
          if (abortsPass(err2)) {
            aborted ??= err2;
            return;
          }
          ctx.journal.recordFailure(a.path, { code: err2.code, message: err2.message });
          result.failed.push({ path: a.path, code: err2.code, message: err2.message });
          return;
        }
      }
      if (a.type === 'upload' && !(await stillAsPlanned(ctx, a.path, a.local))) {
        // Edited again while it uploaded (the engine refuses to send a file that changes under
        // it): not a failure to back off from; the next pass uploads the new version (F12).
        result.skipped++;
        return;
      }
      if (a.type === 'upload' && err.code === 'INSUFFICIENT_STORAGE') uploadCeiling = Math.min(uploadCeiling, a.local.size);
      // The server's version changed since the plan: nothing done, the next pass plans again
      // (a delete that meets someone's edit becomes a download of it: edit beats delete, F14).
      const changedOnServer = err.code === 'CHANGED_ON_SERVER' || err.code === 'PRECONDITION_FAILED';
      if ((a.type === 'download' && err.code === 'CHANGED_ON_SERVER') || (a.type === 'delete-remote' && changedOnServer)) {
        ctx.log('info', 'changed on the server since the plan: planned again next pass', { path: a.path, action: a.type });
        result.skipped++;
        return;
      }
      ctx.log('warn', 'item failed', { path: a.path, action: a.type, code: err.code, message: err.message });
      ctx.journal.recordFailure(a.path, { code: err.code, message: err.message });
      result.failed.push({ path: a.path, code: err.code, message: err.message });
    }
  };

  // Folders moved as a whole go first among the moves, one at a time (a rename inside a renamed
  // folder needs the outer one); what phase 1 does inside them waits for them.
  const insideMove = belowFolderMove(actions);
  const phase1 = actions.filter((a) => PHASE[a.type] === 1).sort((a, b) => depth(a.path) - depth(b.path));
  for (const a of phase1) if (!insideMove(a.path)) await run(a);
  for (const a of actions) if (isFolderMove(a)) await run(a);
  for (const a of phase1) if (insideMove(a.path)) await run(a);

  const phase2 = actions.filter((a) => PHASE[a.type] === 2 && !isFolderMove(a));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < phase2.length && aborted === null) {
      const a = phase2[next++];
      if (a !== undefined) await run(a);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(transfers, phase2.length)) }, worker));

  const phase3 = actions.filter((a) => PHASE[a.type] === 3).sort((a, b) => depth(b.path) - depth(a.path));
  for (const a of phase3) await run(a);

  if (aborted !== null) {
    const a: NetfsError = aborted;
    throw new PassAborted(a.code, a.message, { ...(a.status === undefined ? {} : { status: a.status }), ...(a.retryAfterMs === undefined ? {} : { retryAfterMs: a.retryAfterMs }) });
  }
  return result;
}

/** One action; false when it was skipped because a side changed since the plan. */
async function step(ctx: PropagateContext, a: Action, result: PropagateResult): Promise<boolean> {
  switch (a.type) {
    case 'mkdir-local':
      ctx.journal.recordSynced([await makeLocalFolder(ctx, a.remote)]);
      return true;
    case 'mkdir-remote':
      ctx.journal.recordSynced([await makeRemoteFolder(ctx, a.local)]);
      return true;
    case 'record':
      ctx.journal.recordSynced([baseOf(a.path, a.local, a.remote)]);
      return true;
    case 'record-online-only':
      ctx.journal.recordOnlineOnly([a.remote]);
      return true;
    case 'forget':
      ctx.journal.forget([a.path]);
      return true;
    case 'download': {
      const row = await downloadFile(ctx, a.remote, a.local);
      if (row === null) return false;
      ctx.journal.recordSynced([row]);
      result.bytesDown += row.localSize;
      return true;
    }
    case 'upload': {
      const row = await uploadFile(ctx, a.path, a.local, a.remote === null ? null : a.base);
      if (row === null) return false;
      ctx.journal.recordSynced([row]);
      result.bytesUp += row.localSize;
      // Edited again after the engine had read it all: the row holds the version that went
      // up, and another pass must follow for the new one (F12), so count it as skipped too.
      if (!(await stillAsPlanned(ctx, a.path, a.local))) result.skipped++;
      return true;
    }
    case 'compare': {
      if (a.local.size === a.remote.size) {
        const [ours, theirs] = await Promise.all([
          hashLocalFile(localPath(ctx.root, a.path), ctx.signal),
          hashRemoteFile(ctx.engine, a.remote, ctx.signal),
        ]);
        if (ours === theirs) {
          ctx.journal.recordSynced([baseOf(a.path, a.local, a.remote)]);
          return true;
        }
      }
      return conflict(ctx, a.path, a.local, a.remote, result);
    }
    case 'conflict':
      return conflict(ctx, a.path, a.local, a.remote, result);
    case 'move-local':
      return moveLocalFolder(ctx, a.from, a.local, a.remote);
    case 'move-remote':
      if (a.local.kind === 'folder') return moveRemoteFolder(ctx, a.from, a.local);
      ctx.journal.recordSynced([await moveRemote(ctx, a.from, a.local, a.base)]);
      ctx.journal.forget([a.from]);
      return true;
    case 'delete-local':
      if (!(await deleteLocal(ctx, a.local))) return false;
      ctx.journal.forget([a.path]);
      return true;
    case 'delete-remote':
      if (!(await deleteRemote(ctx, a.remote, a.base))) return false;
      ctx.journal.forget([a.path]);
      return true;
  }
}

/** The server's entry is still exactly the one planned on: same ETag (strong), size and date. */
async function stillListedAs(ctx: PropagateContext, planned: RemoteEntry): Promise<boolean> {
  const now = await ctx.backend.stat(planned.path, ctx.signal === undefined ? {} : { signal: ctx.signal }).catch(() => null);
  return now !== null && now.kind === 'file' && planned.etag !== null && now.etag === planned.etag && now.size === planned.size && now.mtimeMs === planned.mtimeMs;
}

/** The local file is still the version the plan saw (false when it cannot be read either). */
async function stillAsPlanned(ctx: PropagateContext, path: string, local: LocalEntry): Promise<boolean> {
  return sameLocal(await localNow(localPath(ctx.root, path), path).catch(() => null), local);
}

async function conflict(ctx: PropagateContext, path: string, local: LocalEntry, remote: RemoteEntry, result: PropagateResult): Promise<boolean> {
  const c = await resolveByCopy(ctx, path, local, remote);
  if (c === null) return false;
  ctx.journal.recordSynced(c.rows);
  result.conflicts.push({ path, copyPath: c.copyPath });
  return true;
}
