/**
 * Request-level retries grouped by path for the timeline (pure): a file retried twenty times
 * is one row with twenty marks, not twenty rows.
 */
export interface RequestRetry {
  timeMs: number;
  path: string;
  waitMs: number;
  reason: string;
}

export interface RetryGroup {
  path: string;
  retries: RequestRetry[];
  lastMs: number;
  waitedMs: number;
  lastReason: string;
  /** Still waiting now (the last wait has not ended). */
  waiting: boolean;
}

export function groupRetries(retries: readonly RequestRetry[], now: number, windowMs: number): RetryGroup[] {
  const from = now - windowMs;
  const byPath = new Map<string, RequestRetry[]>();
  for (const r of retries) {
    if (r.timeMs + r.waitMs < from) continue;
    const list = byPath.get(r.path) ?? [];
    list.push(r);
    byPath.set(r.path, list);
  }
  const groups: RetryGroup[] = [];
  for (const [path, list] of byPath) {
    list.sort((a, b) => a.timeMs - b.timeMs);
    const last = list[list.length - 1] as RequestRetry;
    groups.push({
      path,
      retries: list,
      lastMs: last.timeMs,
      waitedMs: list.reduce((s, r) => s + r.waitMs, 0),
      lastReason: last.reason,
      waiting: list.some((r) => r.timeMs + r.waitMs > now),
    });
  }
  return groups.sort((a, b) => b.lastMs - a.lastMs);
}

/**
 * The span the timeline shows: from a little before the oldest retry of the last five minutes
 * to now, at least 30 s, so a burst of sub-second backoffs is spread out rather than a dot.
 */
export function timelineWindow(retries: readonly RequestRetry[], now: number): number {
  const recent = retries.filter((r) => r.timeMs >= now - 300_000).map((r) => r.timeMs);
  if (recent.length === 0) return 120_000;
  return Math.min(300_000, Math.max(30_000, Math.ceil((now - Math.min(...recent) + 5_000) / 10_000) * 10_000));
}

/** "850 ms", "12 s", "2 min 5 s". */
export function formatWait(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
