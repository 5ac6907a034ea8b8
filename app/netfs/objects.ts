/**
 * Requests and subrequests (digest §1.1–1.5): the engine's unit of work and its slices.
 *
 *   NetfsRequest R=0000002a  origin RA  [start, start+len)  cursors: issuedTo, collectedTo
 *     stream 0 (server / zero / local)   stream 1 (cache)
 *       [0] DOWN 0..8M   [1] READ 8M..9M   [2] DOWN 9M..16M   ...   (file order)
 *
 * A subrequest holds its slice of the request's buffer chain, its own `transferred` count and
 * flags; it is terminated exactly once per issue (TERM), then consumed by the collector or
 * re-issued by a retry pass. Debug ids are stable for the object's lifetime.
 */
import type { NetfsError } from '../api/errors.js';
import { REQUEST_FLAGS, SUBREQUEST_FLAGS } from '../api/flags.js';
import type { BvecqSlice } from './bvecq.js';

export type NetfsOrigin = 'download' | 'read' | 'unbuffered-read' | 'upload' | 'unbuffered-write' | 'copy-to-cache';

/** Two-letter origin codes as in /proc/fs/netfs/requests. */
export const ORIGIN_CODES: Record<NetfsOrigin, string> = {
  download: 'RA',
  read: 'RP',
  'unbuffered-read': 'UR',
  upload: 'WB',
  'unbuffered-write': 'UW',
  'copy-to-cache': 'CC',
};

/** Where a subrequest's bytes come from or go to (trace symbols of digest §1.3). */
export type NetfsSource = 'DOWN' | 'READ' | 'ZERO' | 'LOCL' | 'UPLD' | 'WRIT';

/**
 * Subrequest flags (digest §1.4) and request flags (digest §1.5): one definition, in the contract
 * (app/api/flags.ts), because the UI reads the same bits from `transfers` events.
 */
export const SREQ = SUBREQUEST_FLAGS;
export const RREQ = REQUEST_FLAGS;

let nextDebugId = 1;

/** A bit set of SREQ or RREQ flags. */
class Flagged {
  flags = 0;
  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
  set(flag: number): void {
    this.flags |= flag;
  }
  clear(flag: number): void {
    this.flags &= ~flag;
  }
}

export class NetfsSubrequest extends Flagged {
  transferred = 0;
  error: NetfsError | null = null;
  /** Times this subrequest has been re-issued. */
  retryCount = 0;
  /** Aborts the in-flight I/O (request cancellation). */
  abort: AbortController | null = null;

  constructor(
    readonly request: NetfsRequest,
    readonly index: number,
    readonly stream: 0 | 1,
    public source: NetfsSource,
    readonly start: number,
    public len: number,
    public slice: BvecqSlice | null,
  ) {
    super();
  }

  get end(): number {
    return this.start + this.len;
  }
}

export interface RequestListEntry {
  debugId: number;
  origin: string;
  path: string;
  flags: number;
  error: string | null;
  startMs: number;
  start: number;
  submitted: number;
  len: number;
  transferred: number;
  retries: number;
  subrequests: Array<{ index: number; source: NetfsSource; start: number; len: number; transferred: number; flags: number; retryCount: number; error: string | null }>;
}

export class NetfsRequest extends Flagged {
  readonly debugId = nextDebugId++;
  readonly startedAtMs = Date.now();
  override flags: number = RREQ.IN_PROGRESS;
  /** Bytes covered by issued subrequests, from `start`. */
  submitted = 0;
  /** Bytes consumed by the collector (DIO semantics: up to and including the first short one). */
  transferred = 0;
  /** The first error; later ones never overwrite it (behaviour 26). */
  error: NetfsError | null = null;
  /** Retry passes run (the rq/wq counter is per pass). */
  retryPasses = 0;
  /** The subrequests of each stream, in file order; consumed ones are removed. */
  readonly streams: [NetfsSubrequest[], NetfsSubrequest[]] = [[], []];
  private nextIndex = 0;

  constructor(
    readonly origin: NetfsOrigin,
    readonly path: string,
    readonly start: number,
    public len: number,
  ) {
    super();
  }

  newSubrequest(stream: 0 | 1, source: NetfsSource, start: number, len: number, slice: BvecqSlice | null): NetfsSubrequest {
    const s = new NetfsSubrequest(this, this.nextIndex++, stream, source, start, len, slice);
    this.streams[stream].push(s);
    return s;
  }


  /** Keep the first error only (behaviour 26). */
  fail(error: NetfsError): void {
    if (this.error === null) this.error = error;
    this.set(RREQ.FAILED);
  }

  get end(): number {
    return this.start + this.len;
  }

  /** The /proc/fs/netfs/requests line and more, for the app's request list. */
  describe(): RequestListEntry {
    return {
      debugId: this.debugId,
      origin: ORIGIN_CODES[this.origin],
      path: this.path,
      flags: this.flags,
      error: this.error?.code ?? null,
      startMs: this.startedAtMs,
      start: this.start,
      submitted: this.submitted,
      len: this.len,
      transferred: this.transferred,
      retries: this.retryPasses,
      subrequests: [...this.streams[0], ...this.streams[1]].map((s) => ({
        index: s.index,
        source: s.source,
        start: s.start,
        len: s.len,
        transferred: s.transferred,
        flags: s.flags,
        retryCount: s.retryCount,
        error: s.error?.code ?? null,
      })),
    };
  }
}

/** `REQUEST  OR REF FLAG ERR  OPS COVERAGE` as in /proc/fs/netfs/requests (digest §6.2). */
export function formatRequestLine(r: RequestListEntry): string {
  const hex = (n: number) => n.toString(16);
  return `${r.debugId.toString(16).padStart(8, '0')} ${r.origin}   1 ${hex(r.flags).padStart(3, '0')} ${(r.error ?? '0').padStart(4)}    0 @${hex(r.start)} ${hex(r.submitted)}/${hex(r.len)}`;
}
