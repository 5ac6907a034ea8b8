/**
 * OS errors of the local-folder backend, turned into NetfsErrors whose message names the
 * remote path and what went wrong.
 *
 *   fs call --throws--> { code: 'ENOSPC', ... } --fsError(e, 'write', '/a.txt')-->
 *       NetfsError('INSUFFICIENT_STORAGE', 'write "/a.txt": no space left on the disk (ENOSPC)')
 *
 * A NetfsError passes through unchanged, so helpers can throw the precise one themselves.
 * Besides the mapping the brief fixes (ENOENT, EEXIST, ENOTDIR/EISDIR, ENOSPC/EDQUOT,
 * EACCES/EPERM, the rest IO), a few errno values get a more useful code:
 * EROFS and ELOOP are FORBIDDEN, ENAMETOOLONG and EILSEQ are UNSUPPORTED (a name or path
 * this disk cannot store), and the passing ones (EMFILE, ENFILE, EAGAIN, EBUSY, ETIMEDOUT,
 * EINTR) are TRANSIENT so that the sync layer retries them later.
 */
import { NetfsError, isNetfsError } from '../../api/errors.js';
import type { ErrorCode } from '../../api/errors.js';

interface Mapping {
  code: ErrorCode;
  what: string;
}

const ERRNO: Readonly<Record<string, Mapping>> = {
  ENOENT: { code: 'NOT_FOUND', what: 'no such file or folder' },
  EEXIST: { code: 'CONFLICT', what: 'already exists' },
  ENOTEMPTY: { code: 'CONFLICT', what: 'folder is not empty' },
  ENOTDIR: { code: 'CONFLICT', what: 'not a folder' },
  EISDIR: { code: 'CONFLICT', what: 'is a folder' },
  EXDEV: { code: 'CONFLICT', what: 'crosses a filesystem boundary' },
  ENOSPC: { code: 'INSUFFICIENT_STORAGE', what: 'no space left on the disk' },
  EDQUOT: { code: 'INSUFFICIENT_STORAGE', what: 'disk quota exceeded' },
  EFBIG: { code: 'INSUFFICIENT_STORAGE', what: 'file too large for this filesystem' },
  EACCES: { code: 'FORBIDDEN', what: 'permission denied' },
  EPERM: { code: 'FORBIDDEN', what: 'operation not permitted' },
  EROFS: { code: 'FORBIDDEN', what: 'read-only filesystem' },
  ELOOP: { code: 'FORBIDDEN', what: 'is a symbolic link (not followed)' },
  ENAMETOOLONG: { code: 'UNSUPPORTED', what: 'name or path too long for this disk' },
  EILSEQ: { code: 'UNSUPPORTED', what: 'name not representable on this disk' },
  EMFILE: { code: 'TRANSIENT', what: 'too many open files' },
  ENFILE: { code: 'TRANSIENT', what: 'too many open files in the system' },
  EAGAIN: { code: 'TRANSIENT', what: 'resource temporarily unavailable' },
  EBUSY: { code: 'TRANSIENT', what: 'resource busy' },
  ETIMEDOUT: { code: 'TRANSIENT', what: 'timed out' },
  EINTR: { code: 'TRANSIENT', what: 'interrupted' },
  EIO: { code: 'IO', what: 'input/output error' },
};

/** The errno name of an OS error ('ENOENT'), or undefined. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('E') ? code : undefined;
}

/** Maps anything an fs call threw to a NetfsError about `action` on `remotePath`. */
export function fsError(error: unknown, action: string, remotePath: string): NetfsError {
  if (error instanceof NetfsError) return error;
  if (isNetfsError(error)) return new NetfsError(error.code, error.message, { cause: error });
  if (error instanceof Error && error.name === 'AbortError') return cancelled(action, remotePath);
  const errno = errnoOf(error);
  const mapping = errno === undefined ? undefined : ERRNO[errno];
  const detail = error instanceof Error ? error.message : String(error);
  if (mapping === undefined) {
    return new NetfsError('IO', `${action} ${quote(remotePath)}: ${detail}`, { cause: error });
  }
  return new NetfsError(mapping.code, `${action} ${quote(remotePath)}: ${mapping.what} (${errno})`, { cause: error });
}

/** A NetfsError with an explicit code and reason, in the same message format. */
export function pathError(code: ErrorCode, action: string, remotePath: string, reason: string, transferred?: number): NetfsError {
  return new NetfsError(code, `${action} ${quote(remotePath)}: ${reason}`, transferred === undefined ? {} : { transferred });
}

export function cancelled(action: string, remotePath: string): NetfsError {
  return new NetfsError('CANCELLED', `${action} ${quote(remotePath)}: cancelled`);
}

/** Throws CANCELLED when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, action: string, remotePath: string): void {
  if (signal?.aborted === true) throw cancelled(action, remotePath);
}

/** JSON quoting keeps odd names (spaces, control characters, bad Unicode) readable in logs. */
export function quote(remotePath: string): string {
  return JSON.stringify(remotePath);
}
