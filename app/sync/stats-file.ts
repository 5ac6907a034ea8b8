/**
 * The engine's counters and the cache's state, written to `<state>/stats.json` by the process
 * that runs the engine (after each pass, and every few seconds while it runs), so `stats` and
 * `cache ls` can show them from any other process.
 *
 *   { writtenMs, pid, netfs: NetfsStats, netfsText: "/proc/fs/netfs/stats" text, cache: CacheInspection | null }
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheInspection } from '../cache/inspect.js';
import type { NetfsStats } from '../netfs/stats.js';

export const STATS_FILE = 'stats.json';

export interface StatsSnapshot {
  writtenMs: number;
  pid: number;
  netfs: NetfsStats;
  netfsText: string;
  cache: CacheInspection | null;
}

export async function saveStats(stateDir: string, snapshot: StatsSnapshot): Promise<void> {
  const file = join(stateDir, STATS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(snapshot), { mode: 0o600 });
  await rename(tmp, file);
}

export async function loadStats(stateDir: string): Promise<StatsSnapshot | null> {
  try {
    const parsed = JSON.parse(await readFile(join(stateDir, STATS_FILE), 'utf8')) as Partial<StatsSnapshot>;
    if (typeof parsed.writtenMs !== 'number' || typeof parsed.netfsText !== 'string' || typeof parsed.pid !== 'number') return null;
    return parsed as StatsSnapshot;
  } catch {
    return null;
  }
}
