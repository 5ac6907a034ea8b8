// Apache's access log in the harness's own tab-separated format: written by the generated
// config (ACCESS_LOG_FORMAT), read back as entries so tests can count requests by method,
// path, status and headers (e.g. "no GET or PUT", "one PROPFIND per folder").
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** msec, status, bytes sent, µs, Depth, Range, If-Match, If-None-Match, request line. */
export const ACCESS_LOG_FORMAT =
  '%{msec}t\\t%>s\\t%B\\t%D\\t%{Depth}i\\t%{Range}i\\t%{If-Match}i\\t%{If-None-Match}i\\t%r';

/** One line of the access log; header fields are null when the request had none. */
export interface AccessLogEntry {
  timeMs: number;
  status: number;
  bytesSent: number;
  durationUs: number;
  method: string;
  /** The request target as sent (Apache escapes odd bytes as \xHH). */
  target: string;
  depth: string | null;
  range: string | null;
  ifMatch: string | null;
  ifNoneMatch: string | null;
}

/** Apache writes `"` and `\` in logged headers as `\"` and `\\`, and odd bytes as `\xHH`: undo that. */
export function unescapeLogField(value: string): string {
  return value.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e));
}

export function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length < 9) continue;
    const header = (i: number): string | null => (f[i] === '-' || f[i] === undefined ? null : unescapeLogField(f[i]));
    const request = f.slice(8).join('\t');
    const firstSpace = request.indexOf(' ');
    const lastSpace = request.lastIndexOf(' ');
    entries.push({
      timeMs: Number(f[0]),
      status: Number(f[1]),
      bytesSent: f[2] === '-' ? 0 : Number(f[2]),
      durationUs: Number(f[3]),
      method: firstSpace < 0 ? request : request.slice(0, firstSpace),
      target: firstSpace < 0 || lastSpace <= firstSpace ? '' : request.slice(firstSpace + 1, lastSpace),
      depth: header(4),
      range: header(5),
      ifMatch: header(6),
      ifNoneMatch: header(7),
    });
  }
  return entries;
}

export function readAccessLog(file: string): AccessLogEntry[] {
  return existsSync(file) ? parseAccessLog(readFileSync(file, 'utf8')) : [];
}

/**
 * Apache logs a request just after answering it: poll until `until(entries)` holds, for at
 * most `timeoutMs`, then throw with the last entries.
 */
export async function waitForAccessLog(
  file: string,
  until: (entries: AccessLogEntry[]) => boolean,
  timeoutMs = 2_000,
): Promise<AccessLogEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = readAccessLog(file);
    if (until(entries)) return entries;
    if (Date.now() >= deadline) {
      const last = entries.slice(-10).map((e) => `${e.status} ${e.method} ${e.target}`);
      throw new Error(`apache2 access log: condition not met after ${timeoutMs} ms; last entries:\n${last.join('\n')}`);
    }
    await sleep(20);
  }
}
