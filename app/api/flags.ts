/**
 * The bits of `flags` in a transfer and its subrequests as the contract carries them
 * (`transfers` events, `transfers.list`), so the UI can read them without importing the
 * engine. They are the engine's flags: app/netfs/objects.ts takes SREQ and RREQ from here (digest §1.4–1.5).
 *
 *   subrequest: IN_PROGRESS | MADE_PROGRESS | NEED_RETRY | FAILED | HIT_EOF | COPY_TO_CACHE | …
 *   request:    IN_PROGRESS | ALL_QUEUED | FAILED | PAUSE | RETRYING | …
 */
export const SUBREQUEST_FLAGS = {
  IN_PROGRESS: 1 << 0,
  MADE_PROGRESS: 1 << 1,
  NEED_RETRY: 1 << 2,
  FAILED: 1 << 3,
  HIT_EOF: 1 << 4,
  COPY_TO_CACHE: 1 << 5,
  CANCELLED: 1 << 6,
  RETRYING: 1 << 7,
  CLEAR_TAIL: 1 << 8,
} as const;

export const REQUEST_FLAGS = {
  IN_PROGRESS: 1 << 0,
  ALL_QUEUED: 1 << 1,
  FAILED: 1 << 2,
  PAUSE: 1 << 3,
  RETRYING: 1 << 4,
  SHORT_TRANSFER: 1 << 5,
  NO_RANGES: 1 << 6,
  CACHE_WITHDRAWN: 1 << 7,
  /** Write path: stream 1 stopped for this request after a cache write error (digest §3.3). */
  CACHE_STOP: 1 << 8,
  /** Write path: that error was not "no space": the cache object is invalidated at the end (47). */
  CACHE_ERROR: 1 << 9,
  /** Write path: stream 0 (the server) is in use (digest §3.2 step 2). */
  UPLOAD_TO_SERVER: 1 << 10,
} as const;

/** Where a subrequest's bytes come from or go to (trace symbols, digest §1.3). */
export const SUBREQUEST_SOURCES = {
  DOWN: 'server',
  READ: 'cache',
  ZERO: 'zero-fill',
  LOCL: 'local copy',
  UPLD: 'server',
  WRIT: 'cache',
} as const;
