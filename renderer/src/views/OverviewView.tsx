/**
 * Overview: account and server, sync state (idle, syncing, paused, offline since …, error,
 * a held plan with its preview), last sync, counts per state, throughput up and down,
 * pause/resume and sync now; "add account" when the state folder has none.
 */
import type { SyncStatus } from '../../../app/api/contract.js';
import { ENTRY_STATES } from '../../../app/api/states.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { StateChip } from '../components/StateChip.js';
import { formatAgo, formatBytes, formatClock, formatDateTime, formatIn, formatRate } from '../format.js';
import { useAction } from '../hooks/use-action.js';
import { useConnection } from '../hooks/connection-context.js';
import { useHistoryVersion } from '../hooks/use-stream.js';
import { useNow } from '../hooks/use-now.js';
import { useSyncStatus } from '../hooks/use-sync-status.js';
import { AddAccountForm } from './AddAccountForm.js';
import { HeldPlan } from './HeldPlan.js';
import { syncStateWords } from './sync-words.js';

function StateDetail({ status, now }: { status: SyncStatus; now: number }) {
  const s = status.sync;
  switch (s.state) {
    case 'idle':
      return <p>Everything is in sync{s.lastPassMs !== null ? ` (checked ${formatAgo(s.lastPassMs, now)})` : ''}.</p>;
    case 'syncing':
      return <p>Syncing since {formatClock(s.sinceMs)}.</p>;
    case 'paused':
      return <p>Paused: nothing is uploaded or downloaded until you resume. Files you open still download.</p>;
    case 'offline':
      return (
        <p>
          The server cannot be reached since {formatClock(s.sinceMs)}: <span className="server-text">{s.lastError}</span>. Next try {formatIn(s.nextTryMs, now)}.
        </p>
      );
    case 'held':
      return <p>A plan is waiting for your confirmation (below).</p>;
    case 'error':
      return <ErrorNote error={{ code: s.code, message: s.message }} />;
    case 'unconfigured':
      return null;
  }
}

export function OverviewView() {
  const { status, reload } = useSyncStatus();
  const { history } = useConnection();
  useHistoryVersion();
  const now = useNow(1000);
  const pause = useAction('sync.pause', reload);
  const resume = useAction('sync.resume', reload);
  const syncNow = useAction('sync.now', reload);
  if (status === null) return <p className="muted">Loading…</p>;
  if (status.account === null || status.sync.state === 'unconfigured') {
    return (
      <div className="overview">
        <h1>Welcome to netfs-sync</h1>
        <AddAccountForm onAdded={reload} />
      </div>
    );
  }
  const words = syncStateWords(status.sync);
  const paused = status.sync.state === 'paused';
  const last = status.lastPass;
  const total = Object.values(status.counts).reduce((a, b) => a + b, 0);
  const measured = history.current(now);
  const rateDown = Math.max(status.rateDown, measured.down);
  const rateUp = Math.max(status.rateUp, measured.up);
  return (
    <div className="overview">
      <h1>Overview</h1>
      {status.sync.state === 'held' && <HeldPlan reason={status.sync.reason} message={status.sync.message} onConfirmed={reload} />}
      <div className="cards">
        <section className="card" aria-labelledby="ov-sync">
          <h2 id="ov-sync">Sync</h2>
          <p className={`big-state tone-${words.tone}`} data-testid="sync-state" data-state={status.sync.state}>
            {words.short}
          </p>
          <StateDetail status={status} now={now} />
          <div className="actions">
            {paused ? (
              <button type="button" onClick={() => void resume.run({})} disabled={resume.busy}>
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => void pause.run({})} disabled={pause.busy}>
                Pause
              </button>
            )}
            <button type="button" className="primary" onClick={() => void syncNow.run({})} disabled={syncNow.busy || paused}>
              Sync now
            </button>
          </div>
          <ErrorNote error={pause.error ?? resume.error ?? syncNow.error} />
        </section>
        <section className="card" aria-labelledby="ov-account">
          <h2 id="ov-account">Account</h2>
          <dl className="facts">
            <dt>Server</dt>
            <dd className="server-text ellipsis" title={status.account.remote}>
              {status.account.remote}
            </dd>
            <dt>User</dt>
            <dd className="server-text">{status.account.user ?? '(none)'}</dd>
            <dt>Sync folder</dt>
            <dd className="server-text ellipsis" title={status.account.local}>
              {status.account.local}
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="ov-rate">
          <h2 id="ov-rate">Throughput</h2>
          <p className="rates">
            <span className="rate-down" data-testid="rate-down">
              ↓ {formatRate(rateDown)}
            </span>
            <span className="rate-up" data-testid="rate-up">
              ↑ {formatRate(rateUp)}
            </span>
          </p>
          <p>
            <a href="#/transfers">See the transfers</a>
          </p>
        </section>
        <section className="card" aria-labelledby="ov-last">
          <h2 id="ov-last">Last sync</h2>
          {last === null ? (
            <p className="muted">No sync has finished yet.</p>
          ) : (
            <dl className="facts" data-testid="last-pass">
              <dt>Finished</dt>
              <dd>
                {formatDateTime(last.finishedMs)} ({formatAgo(last.finishedMs, now)})
              </dd>
              <dt>Done</dt>
              <dd>{last.done.toLocaleString()} changes</dd>
              <dt>Failed</dt>
              <dd>{last.failed === 0 ? 'none' : <a href="#/problems">{last.failed.toLocaleString()}</a>}</dd>
              <dt>Conflicts</dt>
              <dd>{last.conflicts === 0 ? 'none' : <a href="#/problems">{last.conflicts.toLocaleString()}</a>}</dd>
              <dt>Moved</dt>
              <dd>
                ↓ {formatBytes(last.bytesDown)} ↑ {formatBytes(last.bytesUp)}
              </dd>
            </dl>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="ov-counts">
        <h2 id="ov-counts">Files by state</h2>
        <ul className="counts" data-testid="counts">
          {ENTRY_STATES.map((st) => (
            <li key={st}>
              <StateChip state={st} /> <span className="count">{(status.counts[st] ?? 0).toLocaleString()}</span>
            </li>
          ))}
          <li className="muted">{total.toLocaleString()} in all</li>
        </ul>
      </section>
    </div>
  );
}
