/**
 * The cache store's inspection (app/cache/inspect.ts) in the contract's shape (cacheSummarySchema).
 *
 *   CacheInspection { state, withdrawn, totals, limit, thresholds, fs, counters, recentCulls[{at, why}] }
 *        --> CacheSummary { ..., recentCulls[{atMs, reason}] }
 */
import type { CacheSummary } from '../api/contract.js';
import type { CacheInspection } from '../cache/inspect.js';

export function cacheSummary(i: CacheInspection): CacheSummary {
  return {
    state: i.state,
    withdrawn: i.withdrawn,
    totals: { ...i.totals },
    limit: { ...i.limit },
    thresholds: { ...i.thresholds },
    fs: i.fs === null ? null : { ...i.fs },
    counters: structuredClone(i.counters) as unknown as CacheSummary['counters'],
    recentCulls: i.recentCulls.map((c) => ({ key: c.key, bytes: c.bytes, atMs: c.at, reason: c.why })),
  };
}
