/**
 * Download of one server file into the sync folder.
 *
 *   checkNoSymlinkParents (M2) -> mkdir parent -> downloads.fetchAndPlace(remote, dest,
 *   stillExpected = "the local file is still what the plan saw",
 *   beforePlace = journal.markPlacing(the row it will have)) -> stat -> journal row
 *
 * The placing row closes the window between the rename and the journal row: killed there, the
 * next pass finds the placed file (same inode, size, mtime) and records it as synced at the
 * version downloaded, instead of taking it for a local edit (a needless conflict copy, C1).
 *
 * The existing local file is replaced only by a whole, fsynced download (F2, F15), and only if
 * nobody edited it meanwhile (then the step is skipped and the next pass sees a conflict).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import { checkNoSymlinkParents, localPath } from './local-path.js';
import { baseOf, localNow, sameLocal } from './local-state.js';
import type { BaseEntry, LocalEntry } from './model.js';
import type { PropagateContext } from './propagate-context.js';

/** Returns the journal row, or null when the local file changed meanwhile (skipped). */
export async function downloadFile(ctx: PropagateContext, remote: RemoteEntry, local: LocalEntry | null): Promise<BaseEntry | null> {
  const path = remote.path;
  const dest = localPath(ctx.root, path);
  await checkNoSymlinkParents(ctx.root, path);
  await mkdir(dirname(dest), { recursive: true });
  const placed = await ctx.downloads.fetchAndPlace(
    remote,
    dest,
    async () => sameLocal(await localNow(dest, path), local),
    ctx.signal,
    (staged) => ctx.journal.markPlacing(baseOf(path, { path, kind: 'file', size: staged.size, mtimeMs: staged.mtimeMs, ino: staged.ino }, remote)),
  );
  if (!placed) return null;
  const now = await localNow(dest, path);
  if (now === null || now === 'other') throw new NetfsError('IO', `${path}: the downloaded file vanished right after it was placed`);
  return baseOf(path, now, remote);
}
