// The `reply` a replay-server handler answers with: exact bytes, whole responses, chunked
// bodies with or without their last chunk, a slow drip, a hang, a reset, a close.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_CHUNK, chunkBytes, hasHeader, headerList, responseBytes, responseHead, toBuffer } from './http-bytes.js';
import type { Bytes, HeaderInput, ResponseSpec } from './http-bytes.js';

export interface SendSpec extends ResponseSpec {
  /** End the connection (FIN) after the response. */
  close?: boolean;
}

export interface ChunkedOptions {
  /** Send the last chunk (`0\r\n\r\n`). Default true. */
  final?: boolean;
  /** End the connection afterwards. Without `final`, the default is to leave it open, silent. */
  close?: boolean;
  /** Pause between chunks. */
  delayMs?: number;
}

export interface DripOptions {
  /** Bytes written per tick. Default 1. */
  bytesPerTick?: number;
  /** End the connection after the last byte. */
  close?: boolean;
}

export interface Reply {
  /** Write these exact bytes (nothing else is added). The connection stays usable. */
  raw(bytes: Bytes): Promise<void>;
  /** A whole response; Content-Length is added unless told otherwise (see ResponseSpec). */
  send(spec: SendSpec): Promise<void>;
  /**
   * Head with `Transfer-Encoding: chunked` (unless `headers` has one), then each chunk in turn
   * (empty chunks are skipped: they would end the body). Stops early if the peer goes away.
   */
  chunked(status: number, headers: HeaderInput, chunks: Iterable<Bytes> | AsyncIterable<Bytes>, options?: ChunkedOptions): Promise<void>;
  /** Write `bytes` a few at a time, one tick every `intervalMs`; stops early if the peer goes away. */
  drip(bytes: Bytes, intervalMs: number, options?: DripOptions): Promise<void>;
  /** Never answer: the connection stays open and silent until the client (or close()) ends it. */
  hang(): void;
  /**
   * Write the first `afterBytes` bytes of `bytes` (all of them by default), then reset the
   * connection (RST). Bytes the client has not read yet may be lost with it, as with any RST.
   */
  reset(bytes?: Bytes, afterBytes?: number): Promise<void>;
  /** End the connection (FIN) after what was written. */
  close(): Promise<void>;
  /** True once the connection is gone (peer closed, reset, or ended by this reply). */
  readonly closed: boolean;
}

/** What the connection loop needs to know after a handler is done. */
export interface ReplyState {
  bytesWritten: number;
  /** hang(), or a chunked body left open: read no further requests. */
  silent: boolean;
  /** close() or reset() or a `close` option. */
  ended: boolean;
}

export function createReply(socket: Socket, signal: AbortSignal): { reply: Reply; state: ReplyState } {
  const state: ReplyState = { bytesWritten: 0, silent: false, ended: false };
  const gone = (): boolean => socket.destroyed || socket.writableEnded || signal.aborted;

  const write = (data: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (gone() || data.length === 0) {
        resolve();
        return;
      }
      state.bytesWritten += data.length;
      // The callback also runs (with an error) when the socket dies: never reject.
      socket.write(data, () => resolve());
    });

  const end = (): Promise<void> =>
    new Promise((resolve) => {
      state.ended = true;
      if (gone()) {
        resolve();
        return;
      }
      socket.end(() => resolve());
    });

  const pause = async (ms: number): Promise<void> => {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      // Aborted: the server is closing.
    }
  };

  const reply: Reply = {
    get closed() {
      return gone();
    },
    raw: (bytes) => write(toBuffer(bytes)),
    async send(spec) {
      await write(responseBytes(spec));
      if (spec.close === true) await end();
    },
    async chunked(status, headers, chunks, options = {}) {
      const list = headerList(headers);
      if (!hasHeader(list, 'transfer-encoding')) list.push(['Transfer-Encoding', 'chunked']);
      await write(responseHead(status, list));
      for await (const chunk of chunks) {
        if (gone()) return;
        const buf = toBuffer(chunk);
        if (buf.length === 0) continue;
        await write(chunkBytes(buf));
        if (options.delayMs !== undefined) await pause(options.delayMs);
      }
      if (options.final !== false) await write(FINAL_CHUNK);
      else if (options.close !== true) state.silent = true;
      if (options.close === true) await end();
    },
    async drip(bytes, intervalMs, options = {}) {
      const buf = toBuffer(bytes);
      const step = Math.max(1, options.bytesPerTick ?? 1);
      for (let at = 0; at < buf.length && !gone(); at += step) {
        if (at > 0) await pause(intervalMs);
        await write(buf.subarray(at, at + step));
      }
      if (options.close === true) await end();
    },
    hang() {
      state.silent = true;
    },
    async reset(bytes, afterBytes) {
      if (bytes !== undefined) {
        const buf = toBuffer(bytes);
        await write(buf.subarray(0, afterBytes ?? buf.length));
      }
      state.ended = true;
      if (!socket.destroyed) socket.resetAndDestroy();
    },
    close: end,
  };
  return { reply, state };
}
