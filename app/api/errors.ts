/**
 * The error codes of netfs-sync: one small set of strings that survives IPC,
 * WebSocket and JSON (a prototype does not; a `code` field does).
 *
 *   remote / cache / engine  --throws-->  NetfsError{code, message, ...}
 *                                             |
 *                          toErrorShape() --> {code, message, retryAfterMs?}  --> IPC / WS / --json
 *                                             |
 *                          isNetfsError()  checks the shape, never `instanceof`
 *
 * What each code means to the user (and what happens next):
 */
export const ERROR_CODES = [
  /** The path does not exist on the server (404, 410) or on disk (ENOENT). */
  'NOT_FOUND',
  /** An `If-Match` / `If-None-Match` / `If-Unmodified-Since` failed (412): someone else changed it. */
  'PRECONDITION_FAILED',
  /** The operation collides with what is there: parent missing (409), destination exists, not a folder. */
  'CONFLICT',
  /** The resource is locked (423); the change stays pending. */
  'LOCKED',
  /** The server (507) or the local disk (ENOSPC, EDQUOT) is out of space. */
  'INSUFFICIENT_STORAGE',
  /** The server refused our credentials (401). */
  'AUTH',
  /** The server refused the operation for these credentials (403), or the OS did (EACCES, EPERM). */
  'FORBIDDEN',
  /** The server cannot be reached at all: connection refused, name not found, connect timeout. */
  'UNREACHABLE',
  /** A passing failure worth retrying: reset, timeout, 5xx, 429; `retryAfterMs` when the server said. */
  'TRANSIENT',
  /** The server's answer was malformed or hostile; the message says what was wrong. */
  'PROTOCOL',
  /** More data than asked for or allowed: an answer over a cap, a body over its length, a 413. */
  'TOO_LARGE',
  /** Cancelled by the caller (AbortSignal); silent. */
  'CANCELLED',
  /** The server or backend cannot do this (501, a name it cannot store). */
  'UNSUPPORTED',
  /** Refused for safety before anything was sent: plain http to a non-loopback host, a bad TLS certificate. */
  'INSECURE',
  /** A local I/O error (EIO and friends) on a file or folder of ours. */
  'IO',
  /** The caller passed something invalid: a bad path, a bad option, a bad message. */
  'INVALID_ARGUMENT',
  /** The file changed on the server while a request was reading it (412 on If-Match): re-plan. */
  'CHANGED_ON_SERVER',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The serialisable form of an error, as it crosses a process boundary (schema: error-schema.ts). */
export interface ErrorShape {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
  status?: number;
}

export interface NetfsErrorOptions {
  /** How long the server asked us to wait before trying again. */
  retryAfterMs?: number;
  /** The HTTP status behind the error, when there was one. */
  status?: number;
  /** Bytes already placed in the caller's buffers when a read failed part-way. */
  transferred?: number;
  /** A ranged GET was answered with the whole body: the server does not honour ranges. */
  rangeIgnored?: boolean;
  cause?: unknown;
}

export class NetfsError extends Error {
  override readonly name = 'NetfsError';
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  readonly transferred: number | undefined;
  readonly rangeIgnored: boolean;

  constructor(code: ErrorCode, message: string, options: NetfsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.transferred = options.transferred;
    this.rangeIgnored = options.rangeIgnored ?? false;
  }
}

const codeSet: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && codeSet.has(value);
}

/** True for anything shaped like a NetfsError, wherever it came from (by shape, not prototype). */
export function isNetfsError(value: unknown): value is NetfsError {
  return (
    typeof value === 'object' &&
    value !== null &&
    isErrorCode((value as { code?: unknown }).code) &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Errors that are worth trying again later, as opposed to errors a user or a re-plan must resolve. */
export function isRetryable(error: { code: ErrorCode }): boolean {
  return error.code === 'TRANSIENT';
}

/** The serialisable shape of any thrown value; a foreign error (a bug, or an unmapped OS error) becomes `IO` with its message. */
export function toErrorShape(error: unknown): ErrorShape {
  if (isNetfsError(error)) {
    const shape: ErrorShape = { code: error.code, message: error.message };
    if (error.retryAfterMs !== undefined) shape.retryAfterMs = error.retryAfterMs;
    if (error.status !== undefined) shape.status = error.status;
    return shape;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'IO', message };
}
