/**
 * Structured logs (pino, JSON lines) in the state folder, rotated by size, secrets redacted.
 *
 *   logger.info({path}, 'msg') --pino--> redact (fields) --> scrub (the secret's value, anywhere)
 *        --> RotatingFile: logs/netfs-sync.log; over maxBytes -> .1 -> .2 ... (keep `keep` files)
 *
 * Written synchronously (appendFileSync): a SIGKILL loses nothing that was logged, and the
 * volume is small (one line per item, not per block).
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export const LOG_FILE = 'netfs-sync.log';

export interface LogOptions {
  dir: string;
  /** Rotate when the file passes this size (default 5 MiB). */
  maxBytes?: number;
  /** Rotated files kept besides the current one (default 3). */
  keep?: number;
  /** Values that must never appear in a log line (the password), replaced by "[redacted]". */
  secrets?: readonly string[];
  level?: 'debug' | 'info' | 'warn' | 'error';
}

/** A size-rotated log file written with one synchronous append per line. */
export class RotatingFile {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #secrets: readonly string[];
  #size: number;

  constructor(options: LogOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.file = join(options.dir, LOG_FILE);
    this.#maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
    this.#keep = options.keep ?? 3;
    this.#secrets = (options.secrets ?? []).filter((s) => s.length > 0);
    try {
      this.#size = statSync(this.file).size;
    } catch {
      this.#size = 0;
    }
  }

  write(line: string): void {
    let text = line;
    for (const secret of this.#secrets) {
      if (text.includes(secret)) text = text.split(secret).join('[redacted]');
      const json = JSON.stringify(secret).slice(1, -1);
      if (json !== secret && text.includes(json)) text = text.split(json).join('[redacted]');
    }
    if (this.#size > 0 && this.#size + text.length > this.#maxBytes) this.#rotate();
    appendFileSync(this.file, text, { mode: 0o600 });
    this.#size += Buffer.byteLength(text);
  }

  #rotate(): void {
    rmSync(`${this.file}.${this.#keep}`, { force: true });
    for (let i = this.#keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch {
        // That generation does not exist yet.
      }
    }
    renameSync(this.file, `${this.file}.1`);
    this.#size = 0;
  }
}

/** The state folder's logger. */
export function openLog(options: LogOptions): Logger {
  const file = new RotatingFile(options);
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret'], censor: '[redacted]' },
    },
    { write: (line: string) => file.write(line) },
  );
}
