/**
 * Upload through a temp name, for servers that ignore preconditions on PUT (capabilities();
 * rclone serve webdav): an edit that lands on the server while our bytes stream is never
 * overwritten (F11, F14), and a cut upload never leaves a truncated file under the real name (B7).
 *
 *   record the temp in the sync root            .netfs-uploads/<id>         (upload-temp.ts)
 *   PUT   /d/.netfs-upload-<id>                 our bytes, through the engine
 *   stat  /d/name: still the version we started from (or still absent, for a new file)?
 *     yes -> MOVE temp -> /d/name               Overwrite: T (it exists) / F (a new file)
 *     no  -> MOVE temp -> /d/name (conflicted copy …)   Overwrite: F, a free name (conflict-name.ts)
 *            (deleted there meanwhile counts as changed, as the check before the upload has it)
 *            local: name -> the same copy name; theirs downloaded into place; conflict recorded
 *            -> throws UploadConflict carrying the journal rows (propagate.ts records them)
 *   drop the record; on any failure DELETE the temp first (if that fails too, the record stays
 *   and a later pass's sweep deletes it)
 *
 * Not covered here: a write landing between the last stat and the MOVE (one round trip).
 * rclone ignores If-Match on MOVE (it guards the source, our temp, anyway) and answers 412 to
 * every `If:` header that carries no lock token, so nothing can make the MOVE conditional on the
 * target's ETag there. The caller's stat after the MOVE catches a write after it.
 */
import { rename } from 'node:fs/promises';
import { NetfsError, isNetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import type { WriteResult } from '../remote/backend.js';
import { baseName, childPath, parentPath } from '../remote/path.js';
import { conflictCopyName } from './conflict-name.js';
import { localPath } from './local-path.js';
import { baseOf, localNow, sameLocal } from './local-state.js';
import type { BaseEntry, LocalEntry } from './model.js';
import type { PropagateContext } from './propagate-context.js';
import type { ConflictOutcome } from './step-conflict.js';
import { downloadFile } from './step-download.js';
import { forgetTempUpload, newTempUpload, recordTempUpload, sweepTempUploads, type TempUpload } from './upload-temp.js';

/** The server's copy changed during our upload; ours is already kept as a conflict copy on both sides. */
export class UploadConflict extends NetfsError {
  readonly outcome: ConflictOutcome;
  constructor(path: string, outcome: ConflictOutcome) {
    super('PRECONDITION_FAILED', `${path}: changed on the server while ours was uploading; ours kept as ${outcome.copyPath}`);
    this.outcome = outcome;
  }
}

/** Whether the server still holds what the upload may replace (the caller's sameRemote). */
export type StillExpected = (now: RemoteEntry | null) => boolean;

const sweeps = new WeakMap<PropagateContext, Promise<void>>();

/** Once per pass (one context per pass): delete the temps killed uploads of this sync root left. */
function sweepOnce(ctx: PropagateContext): Promise<void> {
  let p = sweeps.get(ctx);
  if (p === undefined) {
    p = sweepTempUploads(ctx.root, ctx.backend, ctx.signal).then(
      (r) => {
        if (r.removed.length > 0) ctx.log('info', 'removed temp uploads an interrupted run left on the server', { temps: r.removed });
        for (const k of r.kept) ctx.log('warn', 'could not remove a temp upload an interrupted run left on the server', { temp: k.temp, message: k.message });
      },
      (e: unknown) => ctx.log('warn', 'could not look for interrupted temp uploads', { message: e instanceof Error ? e.message : String(e) }),
    );
    sweeps.set(ctx, p);
  }
  return p;
}

/** The server's entry at `path`, or null when there is none. */
export async function statOrNull(ctx: PropagateContext, path: string): Promise<RemoteEntry | null> {
  try {
    return await ctx.backend.stat(path, ctx.signal === undefined ? {} : { signal: ctx.signal });
  } catch (e) {
    if (isNetfsError(e) && e.code === 'NOT_FOUND') return null;
    throw e;
  }
}

const sig = (ctx: PropagateContext): { signal?: AbortSignal } => (ctx.signal === undefined ? {} : { signal: ctx.signal });

/**
 * Uploads `local` to `path` through a temp name. Returns the PUT's result once our bytes are
 * under `path` (the caller stats it), or null when the local file changed during the upload
 * (nothing changed on the server). Throws UploadConflict when the server's copy changed.
 */
export async function uploadViaTemp(ctx: PropagateContext, path: string, local: LocalEntry, stillExpected: StillExpected): Promise<WriteResult | null> {
  await sweepOnce(ctx);
  const t = newTempUpload(path);
  await recordTempUpload(ctx.root, t);
  const state = { tempGone: false };
  try {
    const outcome = await ctx.engine.upload(t.temp, {
      localFile: localPath(ctx.root, path),
      size: local.size,
      precondition: { kind: 'none' }, // a fresh random name: nobody else writes there
      mtimeMs: local.mtimeMs,
      ...sig(ctx),
    });
    if (outcome.status === 'skipped') return null;
    let now = await statOrNull(ctx, path);
    if (stillExpected(now)) {
      try {
        await moveTemp(ctx, t, path, now !== null, state);
        return outcome.result;
      } catch (e) {
        // Overwrite: F and the name was taken since the stat: whoever took it keeps it.
        if (!(isNetfsError(e) && e.code === 'CONFLICT' && now === null)) throw e;
        now = await statOrNull(ctx, path);
      }
    }
    return await keepOursAsCopy(ctx, path, local, t, now, state);
  } finally {
    if (!state.tempGone) {
      try {
        await ctx.backend.delete(t.temp);
        state.tempGone = true;
      } catch (e) {
        if (isNetfsError(e) && e.code === 'NOT_FOUND') state.tempGone = true;
        else ctx.log('warn', 'could not remove a temp upload; a later pass removes it', { temp: t.temp, message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (state.tempGone) await forgetTempUpload(ctx.root, t).catch(() => undefined);
  }
}

/** MOVE temp -> dest; an answer lost on the way counts as done when the temp is gone afterwards. */
async function moveTemp(ctx: PropagateContext, t: TempUpload, dest: string, overwrite: boolean, state: { tempGone: boolean }): Promise<void> {
  try {
    await ctx.backend.move(t.temp, dest, { overwrite, ...sig(ctx) });
  } catch (e) {
    if (isNetfsError(e) && (e.code === 'CONFLICT' || e.code === 'CANCELLED')) throw e;
    const tempLeft = await statOrNull(ctx, t.temp).catch(() => undefined);
    if (tempLeft !== null) throw e;
  }
  state.tempGone = true;
}

/** A name `stem (conflicted copy …).ext` free on the server (per its listing) and locally. */
async function copyCandidates(ctx: PropagateContext, path: string): Promise<string[]> {
  const folder = parentPath(path);
  const taken = new Set<string>();
  try {
    for (const e of (await ctx.backend.list(folder, sig(ctx))).entries) taken.add(e.name);
  } catch {
    // Unlisted: MOVE with Overwrite: F still refuses a taken name.
  }
  const out: string[] = [];
  while (out.length < 5) {
    const name = conflictCopyName(baseName(path), ctx.now(), (n) => taken.has(n));
    taken.add(name);
    const candidate = childPath(folder, name);
    if ((await localNow(localPath(ctx.root, candidate), candidate)) === null) out.push(candidate);
  }
  return out;
}

async function keepOursAsCopy(ctx: PropagateContext, path: string, local: LocalEntry, t: TempUpload, theirs: RemoteEntry | null, state: { tempGone: boolean }): Promise<never> {
  const file = localPath(ctx.root, path);
  if (!sameLocal(await localNow(file, path), local)) {
    // Edited here again since it was read: the temp holds an outdated version of ours. Drop it;
    // the next pass sees both sides changed and makes the conflict copy from the file as it is then.
    throw new NetfsError('PRECONDITION_FAILED', `${path}: changed on the server during the upload (and here since)`);
  }
  let copyPath: string | null = null;
  for (const candidate of await copyCandidates(ctx, path)) {
    try {
      await moveTemp(ctx, t, candidate, false, state);
      copyPath = candidate;
      break;
    } catch (e) {
      if (!(isNetfsError(e) && e.code === 'CONFLICT')) throw e;
    }
  }
  if (copyPath === null) throw new NetfsError('CONFLICT', `${path}: no free name for a conflict copy on the server`);
  ctx.log('warn', 'conflict: the server copy changed while ours was uploading; ours kept as a conflict copy', { path, copyPath });

  const rows: BaseEntry[] = [];
  const copyFile = localPath(ctx.root, copyPath);
  let renamed = true;
  await rename(file, copyFile).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
    renamed = false; // deleted here meanwhile: the next pass brings the copy down
  });
  ctx.journal.addConflict({ path, copyPath, theirEtag: theirs?.etag ?? null, ourSize: local.size, ourMtimeMs: local.mtimeMs });
  const copyRemote = await statOrNull(ctx, copyPath);
  // The row holds the version that went up; were the file edited after the check above, the
  // next pass sees it changed and uploads it over the copy.
  if (renamed && copyRemote !== null && copyRemote.kind === 'file') rows.push(baseOf(copyPath, local, copyRemote));
  try {
    const server = theirs ?? (await statOrNull(ctx, path));
    if (server !== null && server.kind === 'file') {
      const row = await downloadFile(ctx, server, null);
      if (row !== null) rows.push(row);
    }
  } catch (e) {
    // Theirs changed again (412 on the GET), or the download failed: the copy is made on both
    // sides and recorded; with no local file left under the name, the next pass downloads theirs.
    ctx.log('warn', 'conflict copy made; the server version is downloaded by the next pass', { path, message: e instanceof Error ? e.message : String(e) });
  }
  throw new UploadConflict(path, { copyPath, rows });
}
