/**
 * Both sides changed: the server's version keeps the name, ours becomes a conflict copy and is
 * uploaded too (DESIGN §6). Nothing is lost at any point of a crash:
 *
 *   rename local  a.txt -> "a (conflicted copy 2026-11-25 101500).txt"   (ours, same folder)
 *   download server's a.txt into place                                     (theirs)
 *   upload the copy with If-None-Match: *                                  (ours, on the server too)
 *   journal: both synced, conflict recorded
 *
 * A crash after the rename leaves ours under the copy name and theirs missing: the next pass
 * downloads theirs and uploads ours as new files.
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
  await rename(file, copyFile);
  ctx.log('warn', 'conflict: both sides changed; ours kept as a conflict copy', { path, copyPath });
  const rows: BaseEntry[] = [];
  const server = remote ?? (await ctx.backend.stat(path).catch(() => null));
  if (server !== null && server.kind === 'file') {
    const theirs = await downloadFile(ctx, server, null);
    if (theirs !== null) rows.push(theirs);
  }
  const moved = await localNow(copyFile, copyPath);
  if (moved !== null && moved !== 'other' && moved.kind === 'file') {
    const ours = await uploadFile(ctx, copyPath, moved, null);
    if (ours !== null) rows.push(ours);
    ctx.journal.addConflict({ path, copyPath, theirEtag: server?.etag ?? null, ourSize: moved.size, ourMtimeMs: moved.mtimeMs });
  }
  return { copyPath, rows };
}
