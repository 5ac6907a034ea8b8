/**
 * The output: a readable table on stdout, then, as the very last line of stdout, one JSON
 * object with one row per (case, peer):
 *
 *   {"bench":"netfs-sync","quick":false,"results":[{"name":"download_1g","bytes":…,"files":1,
 *    "ours_s":0.9,"peer":"rclone","peer_s":0.82,"ratio":0.91,"peak_rss_mb":70},…],"peak_rss_mb":70}
 *
 * ratio = peer_s / ours_s (above 1: we are faster). MB are 10^6 bytes (MB/s likewise).
 */
import type { BenchRow, PeerName } from './types.js';

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

export function makeRow(
  name: string, bytes: number, files: number, oursS: number | null, peer: PeerName, peerS: number | null, peakRssMb: number | null,
): BenchRow {
  return {
    name,
    bytes,
    files,
    ours_s: oursS === null ? null : round(oursS, 3),
    peer,
    peer_s: peerS === null ? null : round(peerS, 3),
    ratio: oursS === null || peerS === null || oursS <= 0 ? null : round(peerS / oursS, 2),
    peak_rss_mb: peakRssMb === null ? null : round(peakRssMb, 1),
  };
}

/** The top-level peak_rss_mb: the download_1g row's. */
export function headlineRss(rows: readonly BenchRow[]): number | null {
  return rows.find((r) => r.name === 'download_1g')?.peak_rss_mb ?? null;
}

export function jsonLine(quick: boolean, rows: readonly BenchRow[], failures: readonly string[]): string {
  return JSON.stringify({
    bench: 'netfs-sync',
    quick,
    results: rows,
    peak_rss_mb: headlineRss(rows),
    ...(failures.length > 0 ? { failures } : {}),
  });
}

function mbps(bytes: number, s: number | null): string {
  return s === null || s <= 0 ? '-' : (bytes / 1e6 / s).toFixed(0);
}

function fmtBytes(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  return `${n} B`;
}

const fmt = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));

export function table(rows: readonly BenchRow[], repeats: number, quick: boolean): string {
  const header = ['name', 'peer', 'bytes', 'files', 'ours s', 'peer s', 'ratio', 'our MB/s', 'peer MB/s', 'peak RSS MB', 'GETs'];
  const body = rows.map((r) => [
    r.name, r.peer, fmtBytes(r.bytes), String(r.files), fmt(r.ours_s, 3), fmt(r.peer_s, 3), fmt(r.ratio, 2),
    mbps(r.bytes, r.ours_s), mbps(r.bytes, r.peer_s), fmt(r.peak_rss_mb, 1), r.server_gets === undefined ? '' : fmt(r.server_gets, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [
    `netfs-sync bench${quick ? ' (--quick)' : ''}: best of ${repeats} run${repeats === 1 ? '' : 's'} per side, page cache warm, Apache on loopback`,
    'ours = engine.download() in its own process, fsync included; peers timed around their process, no fsync;',
    'ratio = peer s / ours s (above 1: we are faster); MB = 10^6 bytes; peak RSS = our process, largest over our runs',
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}
