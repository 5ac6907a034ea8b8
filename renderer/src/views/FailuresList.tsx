/**
 * Items whose last attempt failed: path, reason, attempts, when it is tried again (counting
 * down), and "Retry now".
 */
import type { FailureInfo } from '../../../app/api/entries.js';
import { ErrorNote, plainCode } from '../components/ErrorNote.js';
import { formatAgo, formatClock, formatIn } from '../format.js';
import { useAction } from '../hooks/use-action.js';
import { shown } from '../text-safety.js';

function FailureRow({ f, now, onRetried }: { f: FailureInfo; now: number; onRetried: () => void }) {
  const retry = useAction('failures.retry', onRetried);
  return (
    <tr data-testid="failure">
      <td className="path server-text ellipsis" title={shown(f.path)}>
        {shown(f.path)}
      </td>
      <td>
        <strong>{plainCode(f.code)}</strong>
        <div className="error-message clamp">{f.message}</div>
        {retry.error !== null && <ErrorNote error={retry.error} />}
      </td>
      <td className="num">{f.attempts}</td>
      <td>
        first {formatAgo(f.firstFailedMs, now)}
        <div className="muted small">last {formatClock(f.lastFailedMs)}</div>
      </td>
      <td className="num countdown" data-testid="next-retry">
        {formatIn(f.nextRetryMs, now)}
      </td>
      <td>
        <button type="button" onClick={() => void retry.run({ path: f.path })} disabled={retry.busy} aria-label={`Retry ${shown(f.path)} now`}>
          Retry now
        </button>
      </td>
    </tr>
  );
}

export function FailuresList({ failures, now, onRetried }: { failures: readonly FailureInfo[]; now: number; onRetried: () => void }) {
  if (failures.length === 0) return <p className="muted" data-testid="no-failures">Nothing is failing.</p>;
  return (
    <div className="table-scroll">
      <table className="table" data-testid="failures">
        <colgroup>
          <col className="w-path" />
          <col />
          <col className="w-num" />
          <col className="w-when" />
          <col className="w-next" />
          <col className="w-action" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Reason</th>
            <th scope="col">Attempts</th>
            <th scope="col">Failed</th>
            <th scope="col">Next try</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {[...failures]
            .sort((a, b) => a.nextRetryMs - b.nextRetryMs)
            .map((f) => (
              <FailureRow key={f.path} f={f} now={now} onRetried={onRetried} />
            ))}
        </tbody>
      </table>
    </div>
  );
}
