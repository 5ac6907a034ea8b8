/**
 * Transfers: the live requests (each expands to its subrequest strip), a throughput chart of
 * the last minutes, and the transfers that finished since this page opened.
 */
import { ThroughputChart } from '../components/ThroughputChart.js';
import { formatBytes, formatClock, formatDuration } from '../format.js';
import { useConnection } from '../hooks/connection-context.js';
import { useNow } from '../hooks/use-now.js';
import { useHistoryVersion, useStream } from '../hooks/use-stream.js';
import { debugIdLabel, originLabel } from '../transfer-model.js';
import { TransferRow } from './TransferRow.js';
import { shown } from '../text-safety.js';

export function TransfersView() {
  const live = useStream('transfers');
  const { history } = useConnection();
  useHistoryVersion();
  const now = useNow(1000);
  const transfers = live?.data.transfers ?? [];
  return (
    <div className="transfers">
      <h1>Transfers</h1>
      <section className="card" aria-labelledby="tr-chart">
        <h2 id="tr-chart">Throughput</h2>
        <ThroughputChart samples={history.samples} now={now} />
      </section>
      <section className="card" aria-labelledby="tr-live">
        <h2 id="tr-live">Running now ({transfers.length})</h2>
        {transfers.length === 0 ? (
          <p className="muted" data-testid="no-transfers">
            Nothing is moving right now.
          </p>
        ) : (
          <ul className="transfer-list">
            {transfers.map((t) => (
              <TransferRow key={t.debugId} t={t} />
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="tr-done">
        <h2 id="tr-done">Finished since this page opened ({history.finished.length})</h2>
        {history.finished.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <div className="table-scroll">
            <table className="table" data-testid="finished-transfers">
              <colgroup>
                <col className="w-short" />
                <col className="w-origin" />
                <col />
                <col className="w-short" />
                <col className="w-short" />
                <col className="w-short" />
                <col className="w-short" />
              </colgroup>
              <thead>
                <tr>
                  <th scope="col">Ended</th>
                  <th scope="col">What</th>
                  <th scope="col">Path</th>
                  <th scope="col">Bytes</th>
                  <th scope="col">Took</th>
                  <th scope="col">Retries</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {history.finished.map((f) => (
                  <tr key={f.debugId}>
                    <td>{formatClock(f.endMs)}</td>
                    <td title={debugIdLabel(f.debugId)}>{originLabel(f.origin)}</td>
                    <td className="path server-text ellipsis" title={shown(f.path)}>
                      {shown(f.path)}
                    </td>
                    <td className="num">{formatBytes(f.transferred)}</td>
                    <td className="num">{formatDuration(f.endMs - f.startMs)}</td>
                    <td className="num">{f.retries}</td>
                    <td className={f.error === null ? 'ok' : 'error-message'}>{f.error ?? 'done'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
