/**
 * Retries of the metadata requests a pass makes around the engine (F1): a listing, a stat, a
 * MKCOL or a DELETE whose connection dropped (reset, closed, body cut short) is sent again, a
 * few times with a short growing wait. File bytes (read, write) go straight through: the engine
 * retries its own subrequests.
 *
 *   list / stat / mkdir / delete --(connection dropped)--> wait 100 ms, 400 ms --> again
 *                                --(anything else: a status, a timeout, refused)--> caller
 *
 * Only drops are retried: a status is the server's answer (F4, F5, F7 decide what it means), a
 * timeout would multiply a hang (F3), and a refused connection means the server is down.
 * Repeating these is safe: a MKCOL or DELETE that was applied before its answer was lost comes
 * back as "exists" / "not found", which the steps already take as done.
 */
import { isNetfsError } from '../api/errors.js';
import type { RemoteBackend } from '../remote/backend.js';

const DROPS = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);

/** The request's connection dropped before a full answer (no status, not a timeout). */
export function isConnectionDrop(e: unknown): boolean {
  if (!isNetfsError(e) || e.code !== 'TRANSIENT' || e.status !== undefined) return false;
  let c: unknown = e.cause;
  for (let i = 0; i < 4 && typeof c === 'object' && c !== null; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && DROPS.has(code)) return true;
    c = (c as { cause?: unknown }).cause;
  }
  return false;
}

export interface RetryOptions {
  /** Tries in all (default 3). */
  attempts?: number;
  /** First wait; each next one is 4x (default 100 ms). */
  firstWaitMs?: number;
}

async function withRetries<T>(op: () => Promise<T>, o: Required<RetryOptions>, signal?: AbortSignal): Promise<T> {
  let wait = o.firstWaitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (attempt >= o.attempts || !isConnectionDrop(e) || signal?.aborted === true) throw e;
    }
    await new Promise((r) => setTimeout(r, wait));
    wait *= 4;
  }
}

export function retryingBackend(inner: RemoteBackend, options: RetryOptions = {}): RemoteBackend {
  const o: Required<RetryOptions> = { attempts: options.attempts ?? 3, firstWaitMs: options.firstWaitMs ?? 100 };
  const b: RemoteBackend = {
    origin: inner.origin,
    kind: inner.kind,
    stat: (path, opts) => withRetries(() => inner.stat(path, opts), o, opts?.signal),
    list: (path, opts) => withRetries(() => inner.list(path, opts), o, opts?.signal),
    read: (path, opts) => inner.read(path, opts),
    write: (path, opts) => inner.write(path, opts),
    mkdir: (path, opts) => withRetries(() => inner.mkdir(path, opts), o, opts?.signal),
    move: (from, to, opts) => inner.move(from, to, opts),
    delete: (path, opts) => withRetries(() => inner.delete(path, opts), o, opts?.signal),
    capabilities: (opts) => inner.capabilities(opts),
    close: () => inner.close(),
  };
  const writeRange = inner.writeRange?.bind(inner);
  if (writeRange !== undefined) b.writeRange = writeRange;
  return b;
}
