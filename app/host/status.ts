/**
 * The `sync.status` answer and stream, put together from what the engine run knows:
 *
 *   account.json ──> account           SyncLoop status ──> sync (or 'unconfigured')
 *   last-pass.json ─> lastPass          listEntries (after each pass) ──> counts per state
 *   Throughput ─────> rateDown, rateUp
 */
import type { SyncState, SyncStatus } from '../api/contract.js';
import { ENTRY_STATES, type EntryState } from '../api/states.js';
import type { EntryInfo } from '../api/entries.js';
import type { LastPass } from '../sync/last-pass.js';

export const UNCONFIGURED: SyncStatus = {
  account: null,
  sync: { state: 'unconfigured' },
  lastPass: null,
  counts: {},
  rateDown: 0,
  rateUp: 0,
};

/** Files per one-word state (as `netfs-sync status` counts them). */
export function countStates(entries: readonly EntryInfo[]): Record<EntryState, number> {
  const counts = Object.fromEntries(ENTRY_STATES.map((k) => [k, 0])) as Record<EntryState, number>;
  for (const e of entries) if (e.kind === 'file') counts[e.state]++;
  return counts;
}

export function buildStatus(parts: {
  account: { remote: string; user: string | null; local: string };
  sync: SyncState;
  lastPass: LastPass | null;
  counts: Record<string, number>;
  rates: { rateDown: number; rateUp: number };
}): SyncStatus {
  const lp = parts.lastPass;
  return {
    account: parts.account,
    sync: parts.sync,
    lastPass:
      lp === null ? null : { finishedMs: lp.finishedMs, done: lp.done, failed: lp.failed, conflicts: lp.conflicts, bytesDown: lp.bytesDown, bytesUp: lp.bytesUp, held: lp.held },
    counts: parts.counts,
    rateDown: parts.rates.rateDown,
    rateUp: parts.rates.rateUp,
  };
}
