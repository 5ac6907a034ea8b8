/**
 * Cache space at a glance:
 *
 *   your limit   [██████████░░░░░░░░]  6.1 GB of 10 GB
 *   cache disk   [████████████████|▒|▒|░]  used · marks where culling starts (run/cull) and
 *                                          where cache writes stop, as free-space thresholds
 */
import type { CacheSummary } from '../../../app/api/contract.js';
import { formatBytes, percent } from '../format.js';

export function SpaceMeters({ summary }: { summary: CacheSummary }) {
  const { limit, thresholds: th, fs } = summary;
  const usedPct = limit.bytes > 0 ? Math.min(100, (limit.usedBytes / limit.bytes) * 100) : 0;
  const freePct = fs !== null && typeof fs['freeBlocksPct'] === 'number' ? fs['freeBlocksPct'] : null;
  const total = fs !== null && typeof fs['blocks'] === 'number' && typeof fs['bsize'] === 'number' ? fs['blocks'] * fs['bsize'] : null;
  return (
    <div className="meters">
      <div className="meter-row">
        <span className="meter-label">Your limit</span>
        {limit.bytes > 0 ? (
          <>
            <div className="meter" role="meter" aria-valuemin={0} aria-valuemax={limit.bytes} aria-valuenow={limit.usedBytes} aria-label="Cache use against your limit">
              <div className={`meter-fill${usedPct > 95 ? ' bad' : usedPct > 80 ? ' warn' : ''}`} style={{ width: `${usedPct}%` }} />
            </div>
            <span className="meter-value">
              {formatBytes(limit.usedBytes)} of {formatBytes(limit.bytes)} ({percent(limit.usedBytes, limit.bytes)})
            </span>
          </>
        ) : (
          <span className="meter-value">{formatBytes(limit.usedBytes)} used, no limit set (the disk thresholds below still apply)</span>
        )}
      </div>
      {freePct !== null && (
        <div className="meter-row">
          <span className="meter-label">Cache disk</span>
          <div className="meter disk" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={100 - freePct} aria-label={`Cache disk ${Math.round(100 - freePct)} % used`}>
            <div className={`meter-fill${freePct < th.bstop ? ' bad' : freePct < th.bcull ? ' warn' : ''}`} style={{ width: `${100 - freePct}%` }} />
            <span className="mark mark-run" style={{ left: `${100 - th.brun}%` }} title={`culling stops once ${th.brun} % is free again`} />
            <span className="mark mark-cull" style={{ left: `${100 - th.bcull}%` }} title={`culling starts below ${th.bcull} % free`} />
            <span className="mark mark-stop" style={{ left: `${100 - th.bstop}%` }} title={`cache writes stop below ${th.bstop} % free`} />
          </div>
          <span className="meter-value">
            {freePct.toFixed(1)} % free{total !== null ? ` of ${formatBytes(total)}` : ''}
          </span>
        </div>
      )}
      <p className="muted small">
        Thresholds (free space on the cache disk): culling starts below {th.bcull} % and runs until {th.brun} % is free; below {th.bstop} % nothing new is cached
        (files: {th.fcull} / {th.frun} / {th.fstop} %).
      </p>
    </div>
  );
}
