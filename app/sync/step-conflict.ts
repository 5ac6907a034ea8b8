/**
 * Both sides changed: the server's version keeps the name, ours becomes a conflict copy and is
 * uploaded too (DESIGN §6). Nothing is lost at any point of a crash:
 *
 *   rename local  a.txt -> "a (conflicted copy 2026-11-25 101500).txt"   (ours, same folder)
 *   journal: conflict recorded            (fails: the rename is undone, nothing happened; F19)
 *   download server's a.txt into place                                     (theirs)
 *   upload the copy with If-None-Match: *                                  (ours, on the server too)
 *   journal: both synced
 *
 * A crash (or a failed transfer) after the record leaves ours under the copy name and theirs
 * missing: the next pass downloads theirs and uploads ours as new files, and the conflict is
 * still listed. (Recorded last, any failure of the transfers in between lost the record.)
 */
import { rename } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import { childPath, parentPath, baseName } from '../remote/path.js';
import { conflictCopyName } from './conflict-name.js';
import { localPath } from './local-path.js';
import { localNow, sameLocal } from './local-state.js';
import type { BaseEntry, LocalEntry } from './model.js';
import type { PropagateContext } from './propagate-context.js';
import { downloadFile } from './step-download.js';
import { uploadFile } from './step-upload.js';

export interface ConflictOutcome {
  copyPath: string;
  rows: BaseEntry[];
}

/** Picks the copy's name: free locally and on the server. */
async function freeCopyPath(ctx: PropagateContext, path: string): Promise<string> {
  const folder = parentPath(path);
  const taken = new Set<string>();
  try {
    const listing = await ctx.backend.list(folder, ctx.signal === undefined ? {} : { signal: ctx.signal });
    for (const e of listing.entries) taken.add(e.name);
  } catch {
    // The folder may be gone on the server; the local check below still applies.
  }
  const exists = (name: string): boolean => taken.has(name);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const name = conflictCopyName(baseName(path), ctx.now(), (n) => exists(n));
    const candidate = childPath(folder, name);
    if ((await localNow(localPath(ctx.root, candidate), candidate)) === null) return candidate;
    taken.add(name);
  }
  throw new NetfsError('CONFLICT', `${path}: no free name for a conflict copy`);
}

/** Returns null when the local file changed since the plan (nothing done; the next pass retries). */
export async function resolveByCopy(ctx: PropagateContext, path: string, local: LocalEntry, remote: RemoteEntry | null): Promise<ConflictOutcome | null> {
  const file = localPath(ctx.root, path);
  if (!sameLocal(await localNow(file, path), local)) return null;
  const copyPath = await freeCopyPath(ctx, path);
  const copyFile = localPath(ctx.root, copyPath);
  const server = remote ?? (await ctx.backend.stat(path).catch(() => null));
  await rename(file, copyFile);
  try {
    ctx.journal.addConflict({ path, copyPath, theirEtag: server?.etag ?? null, ourSize: local.size, ourMtimeMs: local.mtimeMs });
  } catch (e) {
    // The journal cannot record it: put ours back under its name, as if nothing had been done.
    await rename(copyFile, file).catch(() => undefined);
    throw e;
  }
  ctx.log('warn', 'conflict: both sides changed; ours kept as a conflict copy', { path, copyPath });
  const rows: BaseEntry[] = [];
  if (server !== null && server.kind === 'file') {
    const theirs = await downloadFile(ctx, server, null);
    if (theirs !== null) rows.push(theirs);
  }
  const moved = await localNow(copyFile, copyPath);
  if (moved !== null && moved !== 'other' && moved.kind === 'file') {
    const ours = await uploadFile(ctx, copyPath, moved, null);
    if (ours !== null) rows.push(ours);
  }
  return { copyPath, rows };
}
