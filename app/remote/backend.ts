/**
 * The one interface every remote implements (WebDAV, local folder). The netfs engine
 * issues its subrequests to it, so reads land in caller-provided buffers and writes
 * take a stream of caller-owned chunks: a backend never buffers a whole file.
 *
 *            engine / sync
 *                 |
 *        RemoteBackend (this file)
 *          /               \
 *   webdav/ (undici,       local/ (a folder on disk,
 *    fast-xml-parser)       e.g. a mounted NAS share)
 *
 * Every failure is a NetfsError with a code from app/api/errors.ts.
 */
import type { Capabilities, EtagStrength, ListResult, RemoteEntry } from '../api/remote.js';

/** The version of a file the caller believes is there. */
export interface Expected {
  /** The ETag as the backend gave it. Sent as `If-Match` only when strong. */
  etag: string | null;
  /** Stand-ins where the ETag is weak or absent: `If-Unmodified-Since` and a size/date re-check. */
  mtimeMs?: number | null;
  size?: number | null;
}

/**
 * A condition the server must check atomically with the change:
 *   none   — unconditional (only for callers that checked some other way);
 *   absent — create only: `If-None-Match: *`;
 *   match  — the file is still the version the caller expects.
 */
export type Precondition = { kind: 'none' } | { kind: 'absent' } | ({ kind: 'match' } & Expected);

export interface ReadOptions {
  /** First byte wanted. */
  offset: number;
  /** Bytes wanted. Fewer arrive only at end of file (then `eof` is true). */
  length: number;
  /**
   * Where the bytes go, filled in order; together at least `length` bytes. The body is copied
   * once, from the socket into these, and nothing else is allocated for it.
   */
  buffers: readonly Uint8Array[];
  /** The version the caller started with; a mismatch fails with PRECONDITION_FAILED. */
  expect?: Expected;
  signal?: AbortSignal;
  /** Called as bytes land, with the running total placed so far. */
  onProgress?: (transferred: number) => void;
}

export interface ReadResult {
  /** Bytes placed in the buffers. */
  transferred: number;
  /** The read reached the end of the file (it may be short because of it). */
  eof: boolean;
  /** The file's total size when the answer said (Content-Range, or a whole-body Content-Length). */
  size: number | null;
  /** The ETag of what was read, when the answer carried one (a local folder: null when the file changed during the read). */
  etag: string | null;
}

export interface WriteOptions {
  /** The exact number of bytes `source` yields (sent as Content-Length; a mismatch fails the write). */
  length: number;
  /** The bytes, in order. Chunks stay the caller's: a backend must not keep them after yielding. */
  source: AsyncIterable<Uint8Array>;
  precondition: Precondition;
  /** Modification time to set where the backend can (a local folder can; plain WebDAV cannot). */
  mtimeMs?: number;
  signal?: AbortSignal;
  /** Called as bytes are sent, with the running total. */
  onProgress?: (sent: number) => void;
}

/** A ranged write into an existing file (RemoteBackend.writeRange). */
export interface WriteRangeOptions {
  /** Where the first byte goes; at most the file's current size (no holes). */
  offset: number;
  /** The exact number of bytes `source` yields. */
  length: number;
  /** The bytes, in order. Chunks stay the caller's: a backend must not keep them after yielding. */
  source: AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
  /** Called as bytes are written, with the running total. */
  onProgress?: (written: number) => void;
}

export interface WriteRangeResult {
  /** Bytes written and made durable; fewer than `length` is a short write the caller may resume. */
  written: number;
}

export interface WriteResult {
  etag: string | null;
  etagStrength: EtagStrength;
  size: number;
  /** Null when the server did not say. */
  mtimeMs: number | null;
}

/** Preconditions on moves and deletes: `absent` cannot hold for an existing entry (PRECONDITION_FAILED). */
export interface MoveOptions {
  /** Replace an existing destination; without it an existing destination fails with CONFLICT. */
  overwrite?: boolean;
  /** The source must still be this version. */
  precondition?: Precondition;
  signal?: AbortSignal;
}

export interface DeleteOptions {
  precondition?: Precondition;
  signal?: AbortSignal;
}

export interface RemoteBackend {
  /** A stable name for the server, e.g. `http://127.0.0.1:8080` or `file:///srv/share`; the pacer keys on it. */
  readonly origin: string;
  /** What the backend is, for logs: 'webdav' or 'local'. */
  readonly kind: 'webdav' | 'local';

  stat(path: string, options?: { signal?: AbortSignal }): Promise<RemoteEntry>;
  /** One folder, depth 1. Odd entries are dropped and reported in `problems`, never guessed at. */
  list(path: string, options?: { signal?: AbortSignal }): Promise<ListResult>;
  read(path: string, options: ReadOptions): Promise<ReadResult>;
  write(path: string, options: WriteOptions): Promise<WriteResult>;
  /**
   * Ranged write into an existing file; backends that cannot (plain WebDAV: no standard ranged
   * PUT) leave it undefined, and the engine's unbuffered writes fail there with UNSUPPORTED.
   * The bytes are durable when it resolves. A failure part-way carries the bytes already
   * written in the error's `transferred`. Not atomic: a reader may see part of it.
   */
  writeRange?(path: string, options: WriteRangeOptions): Promise<WriteRangeResult>;
  /** Creates one folder; the parent must exist (CONFLICT otherwise); an existing one fails with CONFLICT. */
  mkdir(path: string, options?: { signal?: AbortSignal }): Promise<void>;
  move(from: string, to: string, options?: MoveOptions): Promise<void>;
  /** Deletes a file or a whole folder. */
  delete(path: string, options?: DeleteOptions): Promise<void>;
  /** Found by probing (once, then remembered), never assumed. */
  capabilities(options?: { signal?: AbortSignal; refresh?: boolean }): Promise<Capabilities>;
  /** Cancels operations in flight (they fail with CANCELLED, as do later calls); idempotent. */
  close(): Promise<void>;
}
