/**
 * Throughput down and up over the last minutes, one point a second, drawn as two SVG lines
 * (no chart library): seconds without a snapshot hold the last value for up to 3 s, then 0.
 *
 *   rate ┤        ╭──╮ down
 *        ┤ ──╮ ╭──╯  ╰──
 *        ┤   ╰─╯   ── up
 *        └──────────────── now
 */
import type { ThroughputSample } from '../client/live-history.js';
import { bucketSamples, niceCeiling } from '../chart-model.js';
import { formatRate } from '../format.js';

const W = 600;
const H = 140;

function path(values: number[], max: number): string {
  const step = values.length > 1 ? W / (values.length - 1) : W;
  return values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)},${(H - (v / max) * (H - 4)).toFixed(1)}`).join(' ');
}

export function ThroughputChart({ samples, now, windowMs = 5 * 60_000 }: { samples: readonly ThroughputSample[]; now: number; windowMs?: number }) {
  const series = bucketSamples(samples, now, windowMs);
  const peak = Math.max(0, ...series.down, ...series.up);
  const max = niceCeiling(peak);
  const lastDown = series.down[series.down.length - 1] ?? 0;
  const lastUp = series.up[series.up.length - 1] ?? 0;
  const minutes = Math.round(windowMs / 60_000);
  return (
    <figure className="chart">
      <div className="chart-body">
        <div className="chart-y" aria-hidden="true">
          <span>{formatRate(max)}</span>
          <span>{formatRate(max / 2)}</span>
          <span>0</span>
        </div>
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`Throughput over the last ${minutes} minutes: now ${formatRate(lastDown)} down, ${formatRate(lastUp)} up; peak ${formatRate(peak)}`}>
          <line className="grid" x1="0" y1={H / 2} x2={W} y2={H / 2} />
          <line className="grid" x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} />
          <path className="line-down" d={path(series.down, max)} />
          <path className="line-up" d={path(series.up, max)} />
        </svg>
      </div>
      <figcaption>
        <span className="key key-down">down {formatRate(lastDown)}</span>
        <span className="key key-up">up {formatRate(lastUp)}</span>
        <span className="muted">last {minutes} minutes, peak {formatRate(peak)}</span>
      </figcaption>
    </figure>
  );
}
