/**
 * Progress on a terminal (stderr): transfers in flight, bytes moved, speed, ETA of what is in
 * flight. Quiet when stderr is not a terminal (scripts, logs, tests).
 *
 *   engine.onSnapshot (<= 10/s) --> per request: max bytes seen --> one line, redrawn in place
 */
import type { NetfsEngine } from '../netfs/engine.js';
import type { CliIo } from './io.js';

export interface Progress {
  finish(): void;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i] ?? 'TiB'}`;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function progressReporter(io: CliIo, engine: NetfsEngine): Progress {
  if (!io.errIsTty) return { finish: () => undefined };
  const seen = new Map<number, number>();
  const samples: { t: number; bytes: number }[] = [];
  let files = 0;
  let shown = false;
  const unsubscribe = engine.onSnapshot((snap) => {
    let remaining = 0;
    for (const r of snap.requests) {
      if (!seen.has(r.debugId)) files++;
      seen.set(r.debugId, Math.max(seen.get(r.debugId) ?? 0, r.transferred));
      remaining += Math.max(0, r.len - r.transferred);
    }
    let total = 0;
    for (const v of seen.values()) total += v;
    samples.push({ t: snap.timeMs, bytes: total });
    while (samples.length > 2 && (samples[0]?.t ?? 0) < snap.timeMs - 3000) samples.shift();
    const first = samples[0];
    const rate = first !== undefined && snap.timeMs > first.t ? ((total - first.bytes) * 1000) / (snap.timeMs - first.t) : 0;
    const line = `${snap.requests.length} in flight, ${files} files, ${formatBytes(total)}, ${formatBytes(Math.round(rate))}/s, ETA ${formatEta(rate > 0 ? remaining / rate : Infinity)}`;
    io.err(`\r\x1b[2K${line}`);
    shown = true;
  });
  return {
    finish: () => {
      unsubscribe();
      if (shown) io.err('\n');
      shown = false;
    },
  };
}
