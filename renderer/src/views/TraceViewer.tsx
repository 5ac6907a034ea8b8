/**
 * The engine's trace (request and subrequest events with stable debug ids), newest last, with
 * filters: kind, request id, and free text. Lines read like the kernel's tracepoints:
 *
 *   14:02:10.123  sreq  R=0000002a[3] DOWN TERM s=8388608 1048576/1048576
 */
import { useState } from 'react';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatClockMs } from '../format.js';
import { useCommand } from '../hooks/use-command.js';
import { traceLine, type TraceEvent } from '../trace-model.js';

export function TraceViewer() {
  const trace = useCommand('diagnostics.trace', { sinceSeq: 0 }, { intervalMs: 3000 });
  const [kind, setKind] = useState('');
  const [rreq, setRreq] = useState('');
  const [text, setText] = useState('');
  const events = (trace.value ?? []) as TraceEvent[];
  const kinds = [...new Set(events.map((e) => (typeof e['kind'] === 'string' ? e['kind'] : '')).filter((k) => k !== ''))].sort();
  const wantId = rreq.trim() === '' ? null : Number.parseInt(rreq.replace(/^R=/i, ''), 16);
  const shown = events.filter((e) => {
    if (kind !== '' && e['kind'] !== kind) return false;
    if (wantId !== null && e['rreq'] !== wantId) return false;
    if (text !== '' && !traceLine(e).toLowerCase().includes(text.toLowerCase())) return false;
    return true;
  });
  return (
    <div>
      <div className="filters" role="group" aria-label="Trace filters">
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            <option value="">all</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Request <input type="text" placeholder="R=0000002a" value={rreq} onChange={(e) => setRreq(e.currentTarget.value)} size={12} />
        </label>
        <label>
          Text <input type="search" value={text} onChange={(e) => setText(e.currentTarget.value)} />
        </label>
        <span className="muted small">
          {shown.length.toLocaleString()} of {events.length.toLocaleString()} events, newest first
        </span>
      </div>
      <ErrorNote error={trace.error} />
      <pre className="trace mono" tabIndex={0} aria-label="Trace" data-testid="trace">
        {shown
          .slice(-500)
          .reverse()
          .map((e) => `${formatClockMs(e.timeMs)}  ${String(e['kind'] ?? '').padEnd(7)} ${traceLine(e)}`)
          .join('\n')}
      </pre>
    </div>
  );
}
