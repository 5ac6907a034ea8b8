/**
 * Request-level retries over the last minutes, one row per file: each backoff wait or
 * server-asked pause (`Retry-After`) is a mark from when it started to when the retry went,
 * amber while it is still waiting; the line says how many, how long in all, and the last reason.
 *
 *   14:02:31  /big.bin   ├─▮──▮───▮▮────────────┤│ 4 retries, waited 3 s; last: BACKOFF 1.2 s
 */
import { formatClock } from '../format.js';
import { formatWait, groupRetries, timelineWindow, type RequestRetry } from '../retry-model.js';
import { shown } from '../text-safety.js';

export function RetryTimeline({ retries, now }: { retries: readonly RequestRetry[]; now: number }) {
  const windowMs = timelineWindow(retries, now);
  const groups = groupRetries(retries, now, windowMs);
  if (groups.length === 0) return <p className="muted">No request had to wait for a retry in the last few minutes.</p>;
  const from = now - windowMs;
  const pct = (t: number) => Math.max(0, Math.min(100, ((t - from) / windowMs) * 100));
  return (
    <div>
      <p className="muted small">
        The last {formatWait(windowMs)}, now at the right edge. Each mark is one wait before a retry (backoff, or the server’s Retry-After).
      </p>
      <ul className="timeline" data-testid="retry-timeline">
        {groups.slice(0, 30).map((g) => (
          <li key={g.path} className="timeline-row">
            <span className="timeline-time nowrap">{formatClock(g.lastMs)}</span>
            <span className="path server-text ellipsis" title={shown(g.path)}>
              {shown(g.path)}
            </span>
            <span className="timeline-track" aria-hidden="true">
              {g.retries.map((r, i) => (
                <span
                  key={`${r.timeMs}-${i}`}
                  className={`timeline-bar${r.timeMs + r.waitMs > now ? ' waiting' : ''}`}
                  style={{ left: `${pct(r.timeMs)}%`, width: `${pct(r.timeMs + r.waitMs) - pct(r.timeMs)}%` }}
                />
              ))}
            </span>
            <span className="timeline-what">
              {g.retries.length} {g.retries.length === 1 ? 'retry' : 'retries'}, waited {formatWait(g.waitedMs)}
              {g.waiting ? ' (waiting now)' : ''}; last: <span className="server-text">{g.lastReason}</span>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
