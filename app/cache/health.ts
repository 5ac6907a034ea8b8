/**
 * Cache health: withdrawal after an I/O error on the backing store (digest §5.8; behaviours 84,
 * 85), and the one place where errors from files, statfs and the SQLite index get their codes.
 *
 *   error from a backing file, a rename, statfs or the index
 *     errno EIO, EROFS, ENXIO, ENODEV, EUCLEAN, EREMOTEIO
 *       or SQLITE_IOERR*, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_READONLY*  -> IO, and the cache
 *                                                                             is WITHDRAWN
 *     ENOSPC, EDQUOT, SQLITE_FULL                                         -> INSUFFICIENT_STORAGE
 *     a NetfsError                                                        -> as it is
 *     anything else                                                       -> IO (this operation)
 *
 *   withdrawn (for good, in this process; a restart re-binds):
 *     store.openObject -> IO "withdrawn"        the caller goes on without a cache object
 *     queryOccupancy   -> no extents (a miss)   read / write / collectWrite -> IO, at once
 *     invalidate, resize, close, setStaging     -> nothing more reaches the disk
 */
import { NetfsError, isNetfsError } from '../api/errors.js';

const FAILURE_ERRNOS: ReadonlySet<string> = new Set(['EIO', 'EROFS', 'ENXIO', 'ENODEV', 'EUCLEAN', 'EREMOTEIO']);

/** The errno or SQLite code of `e` (or of its cause) when it is a failure of the backing store. */
export function backingFailure(e: unknown): string | null {
  for (let x: unknown = e, depth = 0; x !== null && typeof x === 'object' && depth < 3; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (FAILURE_ERRNOS.has(code)) return code;
    if (/^SQLITE_(IOERR|CORRUPT|NOTADB|READONLY)/.test(code)) return code;
  }
  return null;
}

/** Any thrown value as a NetfsError with the right code (see the table above). */
export function cacheError(e: unknown, what: string): NetfsError {
  if (isNetfsError(e)) return e as NetfsError;
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  const full = code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
  return new NetfsError(full ? 'INSUFFICIENT_STORAGE' : 'IO', `${what}: ${message}`, { cause: e });
}

export interface Withdrawal {
  /** ms since the epoch. */
  at: number;
  /** The errno or SQLite code that withdrew the cache. */
  code: string;
  /** What failed, and how. */
  reason: string;
}

export class CacheHealth {
  #withdrawn: Withdrawal | null = null;
  readonly #listeners: Array<(w: Withdrawal) => void> = [];

  constructor(readonly dir: string) {}

  get withdrawn(): Withdrawal | null {
    return this.#withdrawn;
  }

  onWithdraw(fn: (w: Withdrawal) => void): void {
    this.#listeners.push(fn);
  }

  /** The error to throw for `e`; withdraws the cache first when `e` is a backing-store failure. */
  failure(e: unknown, what: string): NetfsError {
    const err = cacheError(e, what);
    const code = backingFailure(e);
    if (code !== null) this.withdraw(code, err.message);
    return err;
  }

  withdraw(code: string, reason: string): void {
    if (this.#withdrawn !== null) return;
    const w = { at: Date.now(), code, reason };
    this.#withdrawn = w;
    for (const fn of this.#listeners) {
      try {
        fn(w);
      } catch {
        // A listener's fault must not stop the withdrawal.
      }
    }
  }

  /** The error every cache operation fails with once the cache is withdrawn. */
  withdrawnError(what: string): NetfsError {
    const w = this.#withdrawn;
    return new NetfsError('IO', `${what}: the cache in ${this.dir} is withdrawn (${w?.code ?? '?'}: ${w?.reason ?? ''}); going on uncached`);
  }

  /** Throws the withdrawn error when the cache is withdrawn. */
  check(what: string): void {
    if (this.#withdrawn !== null) throw this.withdrawnError(what);
  }
}
