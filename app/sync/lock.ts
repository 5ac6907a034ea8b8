/**
 * One engine per state folder (issue 5 item 1): `<state>/engine.lock` holds the owner's pid and
 * its start time. `sync` and `serve` take it; `status`, `ls`, `pin` ... run beside it without.
 *
 *   acquire(state)
 *     write "<pid>\n<start>\n" to a private temp file, fsync
 *     link(temp, engine.lock) ── ok ──> ours (released by release() or at process exit)
 *        │ EEXIST (link is as exclusive as O_EXCL, and the lock is never seen empty)
 *        v
 *     read the holder: alive (kill 0, and the same start time in /proc) -> CONFLICT "already running (pid N)"
 *                      dead, reused pid, or unreadable                  -> stale: unlink it (if it is
 *                                                                          still the file we read), retry
 *
 * A SIGKILLed engine leaves its lock behind; the next one sees the pid dead and takes over.
 */
import { closeSync, fstatSync, fsyncSync, linkSync, lstatSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { NetfsError } from '../api/errors.js';

export const LOCK_FILE_NAME = 'engine.lock';
const ATTEMPTS = 5;

export interface LockHolder {
  pid: number;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  startTime: number | null;
}

/** A process's start time from /proc, or null where there is no /proc (or the pid is gone). */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]); // field 22 overall; fields[0] is field 3 (state)
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

/** True while `holder` runs: the pid answers signal 0 and, where known, started when it said. */
export function isAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EPERM') return false; // ESRCH: no such process
  }
  if (holder.startTime === null) return true;
  const now = processStartTime(holder.pid);
  return now === null || now === holder.startTime; // another start time: the pid was reused
}

function parseHolder(text: string): LockHolder | null {
  const [pidText, startText] = text.split('\n');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const start = startText === undefined || startText === '' ? null : Number(startText);
  return { pid, startTime: start !== null && Number.isFinite(start) ? start : null };
}

export class EngineLock {
  readonly file: string;
  readonly pid = process.pid;
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(file: string) {
    this.file = file;
    process.on('exit', this.onExit);
  }

  /** Takes the lock of `stateDir`, or throws CONFLICT `already running (pid N)`. */
  static acquire(stateDir: string): EngineLock {
    const file = join(stateDir, LOCK_FILE_NAME);
    const temp = `${file}.${process.pid}.tmp`;
    const content = `${process.pid}\n${processStartTime(process.pid) ?? ''}\n`;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        writePrivate(temp, content);
      } catch (error) {
        throw lockError(file, error);
      }
      try {
        linkSync(temp, file);
        return new EngineLock(file);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EEXIST') throw lockError(file, error);
      } finally {
        unlinkQuiet(temp);
      }
      const seen = readHolder(file);
      if (seen === null) continue; // gone meanwhile: try again
      if (seen.holder !== null && isAlive(seen.holder)) throw new NetfsError('CONFLICT', `already running (pid ${seen.holder.pid})`);
      // Stale. Remove it only if it is still the file we judged (another starter may have won).
      try {
        if (lstatSync(file).ino === seen.ino) unlinkSync(file);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT') throw lockError(file, error);
      }
    }
    throw new NetfsError('CONFLICT', `could not take ${file}: other engines keep starting at the same time`);
  }

  /** Who holds the lock of `stateDir` now (a live process), or null. */
  static holder(stateDir: string): LockHolder | null {
    const seen = readHolder(join(stateDir, LOCK_FILE_NAME));
    return seen?.holder != null && isAlive(seen.holder) ? seen.holder : null;
  }

  /** Removes the lock file if it is still ours. Idempotent; also runs at process exit. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const seen = readHolder(this.file);
    if (seen?.holder?.pid === this.pid) unlinkQuiet(this.file);
  }
}

function writePrivate(path: string, content: string): void {
  unlinkQuiet(path);
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readHolder(file: string): { holder: LockHolder | null; ino: number } | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return null;
    throw lockError(file, error);
  }
  try {
    return { ino: fstatSync(fd).ino, holder: parseHolder(readFileSync(fd, 'utf8')) };
  } finally {
    closeSync(fd);
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function lockError(file: string, error: unknown): NetfsError {
  const code = (error as { code?: unknown }).code;
  return new NetfsError(code === 'EACCES' || code === 'EPERM' ? 'FORBIDDEN' : 'IO', `cannot take ${file}: ${(error as Error).message}`, { cause: error });
}
