/**
 * "Why is this file in this state": the entry's state (DESIGN §1) in sentences, from what the
 * journal and the cache say about it. Pure.
 */
import type { EntryInfo } from '../../app/api/entries.js';
import { formatBytes, formatDateTime, formatIn, percent } from './format.js';

export function explainState(e: EntryInfo, now: number): string[] {
  const out: string[] = [];
  const folder = e.kind === 'folder';
  if (e.placement === 'synced') {
    out.push(folder ? 'This folder is kept on this device (“always on this device”): its files are real files in the sync folder.' : 'This file is kept on this device: it is a real file in the sync folder, kept the same both ways.');
  } else {
    out.push(folder ? 'This folder is online-only: its files are listed here but not kept in the sync folder.' : 'This file is online-only: it is not in the sync folder; it is read from the server (or the cache) when opened.');
    if (!folder) {
      if (e.content === 'cached') out.push(`All of it is in the cache (${formatBytes(e.cachedBytes)}), so it opens offline until the cache needs the room.`);
      else if (e.content === 'partial')
        out.push(`Part of it is in the cache: ${formatBytes(e.cachedBytes)}${e.size !== null ? ` of ${formatBytes(e.size)} (${percent(e.cachedBytes, e.size)})` : ''}, in ${e.cachedRanges.length} ranges. Offline, only those parts can be read.`);
      else out.push('None of it is in the cache: it needs the server to open.');
    }
  }
  if (e.flags.includes('pending')) out.push('A change made here has not reached the server yet; it goes up on the next sync.');
  if (e.flags.includes('conflicted')) out.push('It changed here and on the server: the server’s version kept the name and yours is a conflicted copy. Resolve it under “Retries & conflicts”.');
  if (e.lastError !== null) {
    out.push(`The last attempt failed (${e.lastError.code}, ${e.lastError.attempts} attempts): ${e.lastError.message}`);
    if (e.nextRetryMs !== null) out.push(`It is tried again ${formatIn(e.nextRetryMs, now)} (${formatDateTime(e.nextRetryMs)}).`);
  }
  return out;
}
