/**
 * Local changes noted while the server cannot be reached (offline): the local folder is
 * compared with the journal and every path that differs is marked pending, so `ls`, `status`
 * and the app show them; the next pass with the server back uploads them with preconditions.
 *
 *   scanLocal(root) vs journal base:  new file · size/mtime differ · gone (synced row, no file)
 */
import { scanLocal } from './discover-local.js';
import type { IgnoreRules } from './ignore.js';
import type { Journal } from './journal.js';

export async function recordPending(journal: Journal, root: string, ignore: IgnoreRules, nowMs = Date.now()): Promise<string[]> {
  const scan = await scanLocal(root, { ignore: (p, k) => ignore.isIgnored(p, k) });
  if (scan.rootMissing) return [];
  const base = journal.base();
  const changed: string[] = [];
  for (const [path, e] of scan.tree) {
    const row = base.get(path);
    if (row === undefined) changed.push(path);
    else if (e.kind === 'file' && (row.kind !== 'file' || e.size !== row.localSize || e.mtimeMs !== row.localMtimeMs)) changed.push(path);
  }
  for (const row of base.values()) {
    if ((row.placement ?? 'synced') === 'synced' && !scan.tree.has(row.path)) changed.push(row.path);
  }
  if (changed.length > 0) journal.markPending(changed, nowMs);
  return changed.sort();
}
