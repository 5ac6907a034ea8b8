/**
 * A request's subrequests laid over its range of the file (issue 8, "Transfers"):
 *
 *   0 ├[cache ▓▓▓][server ███][server ▒▒▒ in flight 40%][server ✕ retrying]      ┤ len
 *
 * Fill colour = source (server, cache, zero-fill, local copy); shade and outline = state
 * (done solid, in flight pale with its progress solid, retrying dashed amber outline, failed
 * thick red outline). What was collected before this page saw the request is drawn as
 * "done earlier". A table under the strip lists the same for keyboards and screen readers.
 */
import type { KnownSubrequest } from '../client/live-history.js';
import { formatBytes, percent } from '../format.js';
import { sourceKind, subrequestState } from '../transfer-model.js';

const W = 1000;

export interface StripProps {
  start: number;
  len: number;
  collected: number;
  subrequests: KnownSubrequest[];
  label: string;
}

export function SubrequestStrip({ start, len, collected, subrequests, label }: StripProps) {
  const scale = (x: number) => (len > 0 ? ((x - start) / len) * W : 0);
  const drawn = [...subrequests].sort((a, b) => a.index - b.index);
  const firstKnown = drawn.reduce((m, s) => Math.min(m, s.start), start + len);
  const earlier = Math.min(collected + start, firstKnown) - start;
  return (
    <div className="strip">
      <svg className="strip-svg" viewBox={`0 0 ${W} 24`} preserveAspectRatio="none" role="img" aria-label={`${label}: ${drawn.length} subrequests over ${formatBytes(len)}`}>
        <rect className="strip-bg" x="0" y="0" width={W} height="24" />
        {earlier > 0 && <rect className="sr sr-earlier" x="0" y="2" width={(earlier / len) * W} height="20" />}
        {drawn.map((s) => {
          const state = subrequestState(s, s.consumed);
          const kind = sourceKind(s.source).replace(' ', '-');
          const x = scale(s.start);
          const w = Math.max(1.5, (s.len / Math.max(1, len)) * W);
          const doneW = state === 'done' ? w : Math.min(w, (s.transferred / Math.max(1, s.len)) * w);
          const title = `#${s.index} ${sourceKind(s.source)} ${formatBytes(s.start - start)}–${formatBytes(s.start - start + s.len)}: ${state}, ${formatBytes(s.transferred)} of ${formatBytes(s.len)}${s.retryCount > 0 ? `, ${s.retryCount} retries` : ''}${s.error !== null ? `, error ${s.error}` : ''}`;
          return (
            <g key={s.index} className={`sr src-${kind} st-${state}`}>
              <title>{title}</title>
              <rect className="sr-body" x={x} y="2" width={w} height="20" />
              {state !== 'done' && doneW > 0 && <rect className="sr-progress" x={x} y="2" width={doneW} height="20" />}
              {(state === 'retrying' || state === 'failed') && <rect className="sr-mark" x={x} y="2" width={w} height="20" />}
              <line className="sr-edge" x1={x} y1="2" x2={x} y2="22" />
            </g>
          );
        })}
      </svg>
      <div className="strip-axis" aria-hidden="true">
        <span>{formatBytes(start)}</span>
        <span>
          collected {formatBytes(collected)} ({percent(collected, len)})
        </span>
        <span>{formatBytes(start + len)}</span>
      </div>
    </div>
  );
}

export function StripLegend() {
  return (
    <ul className="legend" aria-label="Legend of the subrequest strips">
      <li><span className="swatch src-server" /> server</li>
      <li><span className="swatch src-cache" /> cache</li>
      <li><span className="swatch src-zero-fill" /> zero-fill</li>
      <li><span className="swatch src-local-copy" /> local copy</li>
      <li><span className="swatch st-in-flight-swatch" /> in flight (solid part: bytes done)</li>
      <li><span className="swatch st-retrying-swatch" /> retrying</li>
      <li><span className="swatch st-failed-swatch" /> failed</li>
      <li><span className="swatch sr-earlier" /> done before this page opened</li>
    </ul>
  );
}
