/**
 * Resolving a recorded conflict (CLI `resolve`, the app's conflicts view). Only local files and
 * the journal change; the next pass carries the outcome to the server:
 *
 *   theirs  our copy -> trash              (the next pass deletes it on the server too)
 *   ours    our copy renamed onto the name (a local edit of PATH + a local delete of the copy)
 *   both    the record goes, both files stay
 */
import { rename } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { ConflictRow } from './journal.js';
import { localPath } from './local-path.js';
import type { SyncSession } from './session.js';

/** PATH is the file or its conflict copy. */
export async function resolveConflict(s: SyncSession, path: string, keep: 'ours' | 'theirs' | 'both'): Promise<ConflictRow> {
  const row = s.journal.conflicts().find((c) => c.path === path || c.copyPath === path);
  if (row === undefined) throw new NetfsError('NOT_FOUND', `no conflict recorded for ${path} (see "netfs-sync conflicts")`);
  if (keep === 'theirs') await s.trash.put(s.root, row.copyPath);
  else if (keep === 'ours') await rename(localPath(s.root, row.copyPath), localPath(s.root, row.path));
  s.journal.resolveConflict(row.copyPath);
  return row;
}
