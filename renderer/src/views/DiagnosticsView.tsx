/**
 * Diagnostics for support: the netfs and FS-Cache counters, the request list (as
 * /proc/fs/netfs/requests), the trace with filters, and the support bundle.
 */
import { REQUEST_FLAGS } from '../../../app/api/flags.js';
import { CounterTables } from '../components/CounterTables.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatBytes, formatClock } from '../format.js';
import { useCommand } from '../hooks/use-command.js';
import { useStream } from '../hooks/use-stream.js';
import { debugIdLabel, flagNames, originLabel } from '../transfer-model.js';
import { BundleExport } from './BundleExport.js';
import { TraceViewer } from './TraceViewer.js';
import { shown } from '../text-safety.js';

export function DiagnosticsView() {
  const stats = useCommand('diagnostics.stats', {}, { intervalMs: 2000 });
  const live = useStream('transfers');
  const cache = useStream('cache.occupancy');
  const requests = live?.data.transfers ?? [];
  return (
    <div className="diagnostics">
      <h1>Diagnostics</h1>
      <section className="card" aria-labelledby="dg-counters">
        <h2 id="dg-counters">Engine counters</h2>
        <ErrorNote error={stats.error} />
        {stats.value !== null && <CounterTables counters={stats.value.netfs} label="netfs counters" />}
        {cache?.data.summary != null && (
          <>
            <h3>FS-Cache</h3>
            <CounterTables counters={cache.data.summary.counters} label="FS-Cache counters" />
          </>
        )}
        {stats.value !== null && (
          <details>
            <summary>As /proc/fs/netfs/stats</summary>
            <pre className="mono stats-text">{stats.value.text}</pre>
          </details>
        )}
      </section>
      <section className="card" aria-labelledby="dg-requests">
        <h2 id="dg-requests">Requests ({requests.length})</h2>
        {requests.length === 0 ? (
          <p className="muted">No request is in flight.</p>
        ) : (
          <div className="table-scroll">
            <table className="table compact mono">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Origin</th>
                  <th scope="col">Path</th>
                  <th scope="col">Flags</th>
                  <th scope="col">Error</th>
                  <th scope="col">Started</th>
                  <th scope="col">Start</th>
                  <th scope="col">Submitted</th>
                  <th scope="col">Length</th>
                </tr>
              </thead>
              <tbody>
                {requests.map((r) => (
                  <tr key={r.debugId}>
                    <td>{debugIdLabel(r.debugId)}</td>
                    <td>{originLabel(r.origin)}</td>
                    <td className="path server-text ellipsis" title={shown(r.path)}>
                      {shown(r.path)}
                    </td>
                    <td>{flagNames(r.flags, REQUEST_FLAGS).join(' ')}</td>
                    <td className="error-message">{r.error ?? ''}</td>
                    <td>{formatClock(r.startMs)}</td>
                    <td className="num">{r.start}</td>
                    <td className="num">{formatBytes(r.submitted)}</td>
                    <td className="num">{formatBytes(r.len)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="dg-trace">
        <h2 id="dg-trace">Trace</h2>
        <TraceViewer />
      </section>
      <section className="card" aria-labelledby="dg-bundle">
        <h2 id="dg-bundle">Support bundle</h2>
        <BundleExport />
      </section>
    </div>
  );
}
