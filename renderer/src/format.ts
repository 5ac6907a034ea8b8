/**
 * Numbers and times as people read them: 1.5 MB, 12.3 MB/s, 2 min 5 s, 14:03:07, 3 s ago.
 * Decimal units (kB = 1000 B), as file managers show sizes.
 */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${UNITS[u]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function formatClock(ms: number): string {
  const d = new Date(ms);
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** 24-hour time with milliseconds, for traces: 14:03:07.123. */
export function formatClockMs(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function formatDateTime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.toLocaleDateString()} ${formatClock(ms)}`;
}

/** Compact, for lists: "12:49" today, "25 Nov 12:49" this year, "25 Nov 2024" before. */
export function formatShortDate(ms: number | null, now: number = Date.now()): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const n = new Date(now);
  const hm = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === n.toDateString()) return hm;
  const day = d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return d.getFullYear() === n.getFullYear() ? `${day} ${hm}` : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

export function formatAgo(ms: number, now: number): string {
  const d = now - ms;
  if (d < 1500) return 'just now';
  return `${formatDuration(d)} ago`;
}

/** "in 12 s", or "now" once the time has come. */
export function formatIn(ms: number, now: number): string {
  const d = ms - now;
  return d <= 500 ? 'now' : `in ${formatDuration(d)}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '0 %';
  const p = (part / whole) * 100;
  if (p > 0 && p < 0.1) return '< 0.1 %';
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)} %`;
}

/** A byte count typed by a person: "500 MB", "2 GB", "1.5G", "1048576". */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?\s*$/i.exec(text);
  if (m === null) return null;
  const value = Number(m[1]);
  const power = ' kmgtp'.indexOf((m[2] ?? '').toLowerCase() || ' ');
  const base = m[3] === '' ? 1000 : 1024;
  const n = Math.round(value * base ** Math.max(0, power));
  return Number.isSafeInteger(n) ? n : null;
}
