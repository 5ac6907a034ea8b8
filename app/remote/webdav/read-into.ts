/**
 * The body of a ranged GET, placed straight into the caller's buffers (one copy: socket -> buffers).
 *
 *   206 + Content-Range a-b/total   exactly [a, b] of what was asked; eof when b+1 == total
 *   200, offset 0, body fits        the whole file (a server may answer a range so); eof
 *   200 otherwise                   the server ignored Range: TOO_LARGE + rangeIgnored, body unread
 *   416                             offset at or past the end: nothing, eof
 *   more bytes than asked           TOO_LARGE, never used (behaviour 13: more data than asked for)
 *   body ends short of its promise  TRANSIENT with `transferred`, so the rest can be reissued
 */
import type { IncomingHttpHeaders } from 'node:http';
import { NetfsError } from '../../api/errors.js';
import type { Expected, ReadResult } from '../backend.js';
import { cleanEtag, etagStrength, etagsMatchWeakly } from './etag.js';
import { type Consumer, header } from './http.js';
import { parseHttpDate } from './http-date.js';
import { statusError } from './status.js';

const CONTENT_RANGE = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i;

export class ReadInto implements Consumer<ReadResult> {
  transferred = 0;
  private expectedBytes = 0;
  private size: number | null = null;
  private eof = false;
  private etag: string | null = null;
  private discard = false;
  private bufferIndex = 0;
  private bufferOffset = 0;

  constructor(
    private readonly what: string,
    private readonly offset: number,
    private readonly length: number,
    private readonly buffers: readonly Uint8Array[],
    private readonly expect: Expected | undefined,
    private readonly onProgress: ((n: number) => void) | undefined,
  ) {}

  onHeaders(status: number, headers: IncomingHttpHeaders): void {
    this.etag = cleanEtag(header(headers, 'etag'));
    const lengthHeader = header(headers, 'content-length');
    const contentLength = lengthHeader !== null && /^\d+$/.test(lengthHeader.trim()) ? Number(lengthHeader) : null;
    if (status === 206) {
      const m = CONTENT_RANGE.exec(header(headers, 'content-range') ?? '');
      if (m === null || m[1] === undefined) {
        throw new NetfsError('PROTOCOL', `${this.what}: 206 without a usable Content-Range (${JSON.stringify(header(headers, 'content-range'))})`);
      }
      const first = Number(m[1]);
      const last = Number(m[2]);
      const total = m[3] === '*' ? null : Number(m[3]);
      if (first !== this.offset || last < first) {
        throw new NetfsError('PROTOCOL', `${this.what}: asked for bytes from ${this.offset}, the server sent ${first}-${last}`);
      }
      if (last - first + 1 > this.length) {
        throw new NetfsError('TOO_LARGE', `${this.what}: asked for ${this.length} bytes, the server sent ${last - first + 1}`);
      }
      if (total !== null && last >= total) throw new NetfsError('PROTOCOL', `${this.what}: Content-Range ${first}-${last} past its total ${total}`);
      if (contentLength !== null && contentLength !== last - first + 1) {
        throw new NetfsError('PROTOCOL', `${this.what}: Content-Length ${contentLength} disagrees with Content-Range ${first}-${last}`);
      }
      this.expectedBytes = last - first + 1;
      this.size = total;
      this.eof = total !== null && last + 1 === total;
    } else if (status === 200) {
      if (this.offset > 0 || (contentLength !== null && contentLength > this.length)) {
        throw new NetfsError('TOO_LARGE', `${this.what}: the server ignored Range and sent the whole file`, { rangeIgnored: true, status });
      }
      // The whole file, and it fits: fine (the length may be unknown when chunked).
      this.expectedBytes = contentLength ?? this.length;
      this.size = contentLength;
      this.eof = contentLength !== null;
    } else if (status === 416) {
      const m = CONTENT_RANGE.exec(header(headers, 'content-range') ?? '');
      const total = m?.[3] !== undefined && m[3] !== '*' ? Number(m[3]) : null;
      if (total !== null && this.offset < total) {
        throw new NetfsError('PROTOCOL', `${this.what}: 416 for offset ${this.offset} of a ${total}-byte file`);
      }
      this.size = total;
      this.eof = true;
      this.discard = true;
    } else {
      throw statusError(status, headers, this.what);
    }
    this.checkExpected(header(headers, 'last-modified'));
  }

  /** Where no strong ETag could be sent, compare what the answer says with what the caller expects. */
  private checkExpected(lastModified: string | null): void {
    const e = this.expect;
    if (e === undefined || etagStrength(e.etag) === 'strong') return;
    const changed =
      (e.etag !== null && this.etag !== null && !etagsMatchWeakly(e.etag, this.etag)) ||
      (e.size != null && this.size !== null && e.size !== this.size) ||
      (e.mtimeMs != null && lastModified !== null && parseHttpDate(lastModified) !== null && Math.abs(parseHttpDate(lastModified)! - e.mtimeMs) >= 1000);
    if (changed) throw new NetfsError('PRECONDITION_FAILED', `${this.what}: the file changed on the server (ETag, size or date differ)`, { status: 412 });
  }

  onData(chunk: Buffer): void {
    if (this.discard) return;
    if (this.transferred + chunk.length > this.expectedBytes) {
      if (this.size === null && this.expectedBytes === this.length) {
        throw new NetfsError('TOO_LARGE', `${this.what}: the server ignored Range and sent more than the ${this.length} bytes asked for`, { rangeIgnored: true });
      }
      throw new NetfsError('TOO_LARGE', `${this.what}: more data than asked for (over ${this.expectedBytes} bytes)`);
    }
    let from = 0;
    while (from < chunk.length) {
      const target = this.buffers[this.bufferIndex];
      if (target === undefined) throw new NetfsError('INVALID_ARGUMENT', `${this.what}: the buffers hold fewer than ${this.length} bytes`);
      const n = Math.min(target.length - this.bufferOffset, chunk.length - from);
      target.set(chunk.subarray(from, from + n), this.bufferOffset);
      from += n;
      this.bufferOffset += n;
      if (this.bufferOffset === target.length) {
        this.bufferIndex++;
        this.bufferOffset = 0;
      }
    }
    this.transferred += chunk.length;
    this.onProgress?.(this.transferred);
  }

  onEnd(): ReadResult {
    if (!this.discard && this.transferred < this.expectedBytes) {
      if (this.size === null && this.expectedBytes === this.length && this.offset === 0) {
        // A whole-file answer of unknown length (chunked) that ended before `length`: that is EOF.
        return { transferred: this.transferred, eof: true, size: this.transferred, etag: this.etag };
      }
      throw new NetfsError('TRANSIENT', `${this.what}: the body ended after ${this.transferred} of ${this.expectedBytes} bytes`, {
        transferred: this.transferred,
      });
    }
    if (this.size === null && this.eof) this.size = this.offset + this.transferred;
    return { transferred: this.transferred, eof: this.eof, size: this.size, etag: this.etag };
  }
}
