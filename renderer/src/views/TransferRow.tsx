/**
 * One live request: origin, path, bytes done of total, speed, ETA, retries; "Subrequests"
 * expands the strip of its subrequests over its range and a table of them.
 */
import { useState } from 'react';
import type { Transfer } from '../../../app/api/contract.js';
import { etaSeconds } from '../client/live-history.js';
import { StripLegend, SubrequestStrip } from '../components/SubrequestStrip.js';
import { formatBytes, formatDuration, formatRate, percent } from '../format.js';
import { useConnection } from '../hooks/connection-context.js';
import { debugIdLabel, isUpload, originLabel, requestNotes, sourceKind, subrequestState } from '../transfer-model.js';
import { shown } from '../text-safety.js';

export function TransferRow({ t }: { t: Transfer }) {
  const { history } = useConnection();
  const [open, setOpen] = useState(false);
  const speed = history.speedOf(t.debugId);
  const moved = history.movedOf(t.debugId) ?? t.transferred;
  const eta = etaSeconds(t.len, moved, speed);
  const notes = requestNotes(t.flags);
  const subs = history.subrequestsOf(t.debugId);
  const detailId = `tr-${t.debugId}-detail`;
  return (
    <li className="transfer" data-testid="transfer" data-debug-id={t.debugId}>
      <div className="transfer-head">
        <span className={`origin ${isUpload(t.origin) ? 'origin-up' : 'origin-down'}`}>
          {isUpload(t.origin) ? '↑' : '↓'} {originLabel(t.origin)}
        </span>
        <span className="path server-text ellipsis" title={shown(t.path)}>
          {shown(t.path)}
        </span>
        <span className="num">
          {formatBytes(moved)} of {formatBytes(t.len)} ({percent(moved, t.len)})
        </span>
        <span className="num">{speed === null ? '—' : formatRate(speed)}</span>
        <span className="num">{eta === null ? '—' : `${formatDuration(eta * 1000)} left`}</span>
        <span className={`num${t.retries > 0 ? ' warn' : ''}`}>{t.retries === 0 ? 'no retries' : `${t.retries} retries`}</span>
        <button type="button" className="link" aria-expanded={open} aria-controls={detailId} onClick={() => setOpen(!open)}>
          {open ? 'Hide subrequests' : `Subrequests (${t.subrequests.length} live)`}
        </button>
      </div>
      <progress className="transfer-progress" max={Math.max(1, t.len)} value={moved} aria-label={`${shown(t.path)}: ${percent(moved, t.len)} done`} />
      {(notes.length > 0 || t.error !== null) && (
        <p className="transfer-notes">
          {notes.join(' · ')}
          {t.error !== null && <span className="error-message"> error: {t.error}</span>}
        </p>
      )}
      {open && (
        <div id={detailId} className="transfer-detail">
          <SubrequestStrip start={t.start} len={t.len} collected={t.transferred} subrequests={subs} label={`Subrequests of ${debugIdLabel(t.debugId)}`} />
          <StripLegend />
          <table className="table compact auto">
            <caption className="sr-only">Subrequests of {shown(t.path)}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Source</th>
                <th scope="col">Range</th>
                <th scope="col">Done</th>
                <th scope="col">State</th>
                <th scope="col">Retries</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {subs.slice(-40).map((s) => (
                <tr key={s.index}>
                  <td>{s.index}</td>
                  <td>{sourceKind(s.source)}</td>
                  <td className="num">
                    {formatBytes(s.start)}–{formatBytes(s.start + s.len)}
                  </td>
                  <td className="num">{formatBytes(s.transferred)}</td>
                  <td>{subrequestState(s, s.consumed).replace('-', ' ')}</td>
                  <td className="num">{s.retryCount}</td>
                  <td className="error-message">{s.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {subs.length > 40 && <p className="muted">The last 40 of {subs.length} subrequests are listed; the strip shows all.</p>}
        </div>
      )}
    </li>
  );
}
