/**
 * The `log` event stream: the state folder's log file (pino JSON lines, secrets already
 * redacted by app/sync/log.ts) followed as it grows, the newest lines kept.
 *
 *   logs/netfs-sync.log --poll size--> new bytes --split lines--> {timeMs, level, message, path}
 *     rotated (smaller than our offset) -> read from 0 again
 *
 * Secrets named here are scrubbed once more, so no line can carry one whatever wrote it.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LOG_FILE } from '../sync/log.js';

export interface LogLine {
  timeMs: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  path: string | null;
}

const KEEP = 200;
/** At most this much of the file is read when the tail starts (older lines are not wanted). */
const FIRST_READ = 256 * 1024;

function levelOf(n: unknown): LogLine['level'] {
  if (typeof n !== 'number') return 'info';
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  return 'debug';
}

/** One pino line as the contract shows it, or null for a line that is not JSON. */
export function parseLogLine(text: string, scrub: (s: string) => string): LogLine | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const err = o['err'] as { message?: unknown } | undefined;
  const extra = typeof err?.message === 'string' ? `: ${err.message}` : '';
  return {
    timeMs: typeof o['time'] === 'number' ? o['time'] : Date.now(),
    level: levelOf(o['level']),
    message: scrub(`${typeof o['msg'] === 'string' ? o['msg'] : ''}${extra}`),
    path: typeof o['path'] === 'string' ? scrub(o['path']) : null,
  };
}

export class LogTail {
  readonly file: string;
  readonly #lines: LogLine[] = [];
  readonly #scrub: (s: string) => string;
  #offset = -1;
  #partial = '';
  #timer: NodeJS.Timeout | null = null;
  #busy = false;

  constructor(logsDir: string, secrets: readonly string[], private readonly onLines: (lines: readonly LogLine[]) => void) {
    this.file = join(logsDir, LOG_FILE);
    const words = secrets.filter((s) => s.length > 0);
    this.#scrub = (s) => words.reduce((t, w) => (t.includes(w) ? t.split(w).join('[redacted]') : t), s);
  }

  get lines(): readonly LogLine[] {
    return this.#lines;
  }

  start(intervalMs = 500): void {
    void this.poll();
    this.#timer = setInterval(() => void this.poll(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reads what was appended since the last poll. */
  async poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const info = await stat(this.file).catch(() => null);
      if (info === null) return;
      if (this.#offset < 0) this.#offset = Math.max(0, info.size - FIRST_READ);
      if (info.size < this.#offset) {
        this.#offset = 0;
        this.#partial = '';
      }
      if (info.size === this.#offset) return;
      const fh = await open(this.file, 'r');
      let text: string;
      try {
        const buf = Buffer.alloc(Math.min(info.size - this.#offset, 4 * 1024 * 1024));
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.#offset);
        this.#offset += bytesRead;
        text = this.#partial + buf.subarray(0, bytesRead).toString('utf8');
      } finally {
        await fh.close();
      }
      const parts = text.split('\n');
      this.#partial = parts.pop() ?? '';
      const fresh = parts.map((p) => parseLogLine(p, this.#scrub)).filter((l): l is LogLine => l !== null);
      if (fresh.length === 0) return;
      this.#lines.push(...fresh);
      if (this.#lines.length > KEEP) this.#lines.splice(0, this.#lines.length - KEEP);
      this.onLines(this.#lines);
    } finally {
      this.#busy = false;
    }
  }
}
