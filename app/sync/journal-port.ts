/**
 * The journal as a pass sees it (PassJournal): base rows, placements, backoff, and what
 * propagation records.
 *
 *   Journal (SQLite) --journalPort()--> PassJournal --> runPass / propagate
 */
import type { RemoteEntry } from '../api/remote.js';
import type { Journal } from './journal.js';
import type { PassJournal } from './pass.js';

export function journalPort(journal: Journal, now: () => number = Date.now): PassJournal {
  return {
    base: () => journal.base(),
    placementOf: journal.placements(),
    waiting(nowMs) {
      const out = new Map<string, { nextRetryMs: number; failedMs: number }>();
      for (const f of journal.failures()) {
        if (f.nextRetryMs <= nowMs) continue;
        // A local edit after the failure retries at once: the file's mtime is then newer than
        // the failure (pass.ts, localChangedSince).
        out.set(f.path, { nextRetryMs: f.nextRetryMs, failedMs: f.lastFailedMs });
      }
      return out;
    },
    syncedFileCount: () => journal.syncedFileCount(),
    recordSynced: (entries) => {
      journal.recordSynced(entries);
      journal.clearPending(entries.map((e) => e.path));
    },
    recordOnlineOnly: (entries: readonly RemoteEntry[]) =>
      journal.recordSynced(
        entries.map((r) => ({
          path: r.path,
          kind: r.kind,
          etag: r.etag,
          remoteSize: r.size,
          remoteMtimeMs: r.mtimeMs,
          localSize: 0,
          localMtimeMs: 0,
          localIno: 0,
          placement: 'online-only' as const,
        })),
      ),
    forget: (paths) => {
      for (const p of paths) journal.forgetTree(p);
      journal.clearPending(paths);
    },
    renameTree: (from, to) => {
      journal.renameTree(from, to);
      journal.clearPending([from]);
    },
    recordFailure: (path, error) => {
      journal.recordFailure(path, error, now());
    },
    clearFailure: (path) => journal.clearFailure(path),
    addConflict: (c) => journal.addConflict({ ...c, createdMs: now() }),
    markPlacing: (entry) => journal.markPlacing(entry),
    placings: () => journal.placings(),
    clearPlacings: (paths) => journal.clearPlacings(paths),
  };
}
