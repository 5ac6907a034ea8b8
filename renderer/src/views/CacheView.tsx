/**
 * Cache: state (normal, culling, stopped, withdrawn), space against the limit and the disk
 * thresholds, what is held per folder and file, free up space with a preview, recent culls,
 * FS-Cache counters.
 */
import type { CacheSummary } from '../../../app/api/contract.js';
import { CounterTables } from '../components/CounterTables.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { SpaceMeters } from '../components/SpaceMeters.js';
import { formatBytes, formatDateTime } from '../format.js';
import { useCommand } from '../hooks/use-command.js';
import { useStream } from '../hooks/use-stream.js';
import { CacheObjects } from './CacheObjects.js';
import { FreeUpSpace } from './FreeUpSpace.js';
import { shown } from '../text-safety.js';

const STATE_WORDS: Record<CacheSummary['state'], string> = {
  normal: 'normal: room to spare',
  culling: 'culling: removing least recently used files to make room',
  stopped: 'stopped: the disk is almost full, nothing new is cached (reads go on)',
  withdrawn: 'withdrawn: switched off after a disk error, files come from the server',
};

function cullWhen(c: Record<string, unknown>): number | null {
  const t = c['atMs'] ?? c['at'];
  return typeof t === 'number' ? t : null;
}

export function CacheView() {
  const live = useStream('cache.occupancy');
  const asked = useCommand('cache.summary', {}, { enabled: live === null });
  const objects = useCommand('cache.objects', {}, { refreshOn: 'cache.occupancy', minGapMs: 2000, intervalMs: 5000 });
  const summary = live?.data.summary ?? asked.value;
  if (summary === null || summary === undefined) {
    return (
      <div>
        <h1>Cache</h1>
        <ErrorNote error={asked.error} />
        <p className="muted">{asked.loading && live === null ? 'Loading…' : 'No cache: add an account first.'}</p>
      </div>
    );
  }
  const culls = [...summary.recentCulls].reverse();
  return (
    <div className="cache">
      <h1>Cache</h1>
      <section className="card" aria-labelledby="cache-state">
        <h2 id="cache-state">
          State: <span className={`cache-state cache-${summary.state}`}>{summary.state}</span>
        </h2>
        <p>{STATE_WORDS[summary.state]}</p>
        {summary.withdrawn !== null && <ErrorNote error={{ code: summary.withdrawn.code, message: summary.withdrawn.reason }} label={`Withdrawn ${formatDateTime(summary.withdrawn.at)}`} />}
        <SpaceMeters summary={summary} />
        <dl className="facts inline">
          <dt>Files</dt>
          <dd>{summary.totals.objects.toLocaleString()}</dd>
          <dt>In use</dt>
          <dd>{summary.totals.open.toLocaleString()}</dd>
          <dt>Can be served</dt>
          <dd>{formatBytes(summary.totals.storedBytes)}</dd>
          <dt>On disk</dt>
          <dd>{formatBytes(summary.totals.allocatedBytes)}</dd>
          <dt>Downloads staging</dt>
          <dd>{formatBytes(summary.totals.stagingBytes)}</dd>
        </dl>
      </section>
      <ErrorNote error={objects.error} />
      <CacheObjects objects={objects.value ?? []} />
      <FreeUpSpace usedBytes={summary.limit.usedBytes} onDone={objects.reload} />
      <section className="card" aria-labelledby="cache-culls">
        <h2 id="cache-culls">Recent culls</h2>
        {culls.length === 0 ? (
          <p className="muted">Nothing was culled recently.</p>
        ) : (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">File</th>
                <th scope="col">Freed</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {culls.slice(0, 50).map((c, i) => (
                <tr key={`${shown(c.key)}-${i}`}>
                  <td>{formatDateTime(cullWhen(c))}</td>
                  <td className="path server-text ellipsis" title={shown(c.key)}>
                    {shown(c.key)}
                  </td>
                  <td className="num">{formatBytes(c.bytes)}</td>
                  <td>{String(c.reason ?? c['why'] ?? '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-labelledby="cache-counters">
        <h2 id="cache-counters">FS-Cache counters</h2>
        <CounterTables counters={summary.counters} label="FS-Cache counters" />
      </section>
    </div>
  );
}
