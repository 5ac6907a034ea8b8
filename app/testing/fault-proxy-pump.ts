// Moves a body from a readable (any async iterable of byte chunks) to a writable for the fault proxy, with backpressure (a write
// that fills the buffer waits for 'drain'), byte counting, optional throttles, and an optional
// cut after `limit` bytes. Holds at most one chunk of the source at a time.
//
//   source ──chunk──> [limit?] ──slices──> [throttles wait] ──write──> sink (wait 'drain' when full)
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Throttle } from './fault-proxy-throttle.js';

export interface PumpOptions {
  /** Stop after this many bytes (the rest is left unread). */
  limit?: number;
  throttles?: readonly Throttle[];
  onBytes?: (bytes: number) => void;
  /** Abort waits for a throttle (the source and sink are the caller's to destroy). */
  signal?: AbortSignal;
}

export interface PumpResult {
  bytes: number;
  /** The source ended (false: cut at the limit). */
  complete: boolean;
}

/**
 * Resolves on 'drain', rejects when the sink closes or fails first. Waits for `sink` to take more. Also ends when the exchange is over (`signal`: the client went
 * away): else a proxy waiting on a server that stopped reading would keep that upload open for
 * ever, and a server that locks the file meanwhile (rclone serve) stalls every later request.
 */
function drained(sink: Writable, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      sink.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the receiving side closed'));
    const onError = (err: Error): void => done(err);
    const onAbort = (): void => done(new Error('the sending side went away'));
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    sink.on('error', onError);
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves once everything written so far has left the stream's buffers (handed to the
 * kernel), the stream is gone, or `timeoutMs` passed. Polls: 'drain' only comes after a full buffer.
 */
export async function flushed(sink: Writable, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!sink.destroyed && sink.writableLength > 0 && performance.now() < deadline) await sleep(2);
}

export async function pump(source: AsyncIterable<unknown> | Iterable<Uint8Array>, sink: Writable, options: PumpOptions = {}): Promise<PumpResult> {
  const throttles = (options.throttles ?? []).filter((t) => t.active);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let bytes = 0;
  if (limit <= 0) return { bytes, complete: false };
  // Bounded by the source: one turn per chunk it yields; `break` destroys it.
  for await (const raw of source) {
    const whole = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
    const chunk = bytes + whole.length > limit ? whole.subarray(0, limit - bytes) : whole;
    const sliceSize = Math.min(...throttles.map((t) => t.sliceSize()), chunk.length);
    for (let offset = 0; offset < chunk.length; offset += sliceSize) {
      const slice = chunk.subarray(offset, offset + sliceSize);
      for (const throttle of throttles) await throttle.take(slice.length, options.signal);
      if (sink.destroyed) throw new Error('the receiving side closed');
      const roomLeft = sink.write(slice);
      bytes += slice.length;
      options.onBytes?.(slice.length);
      if (!roomLeft) await drained(sink, options.signal);
    }
    if (bytes >= limit) return { bytes, complete: false };
  }
  return { bytes, complete: true };
}
