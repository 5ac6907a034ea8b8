/**
 * The bandwidth limit: a RemoteBackend that draws every byte it moves from two shared token
 * buckets (down, up), so all transfers stay parallel and together keep under the limit.
 *
 *   engine --read(len)--> [down.take(len)] --> backend.read
 *   engine --write(source)--> source chunks --[up.take(chunk)]--> backend.write
 *
 * Reads are charged before they are issued (the engine keeps its read subrequests small while a
 * limit is set: see `rsizeFor`); uploads are charged per chunk as they are sent.
 */
import type { RemoteBackend, WriteOptions, WriteRangeOptions } from '../remote/backend.js';
import type { TokenBucket } from './token-bucket.js';

async function* metered(source: AsyncIterable<Uint8Array>, bucket: TokenBucket, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    await bucket.take(chunk.byteLength, signal);
    yield chunk;
  }
}

/** A read size that keeps a limited download smooth: about a quarter second of the limit. */
export function rsizeFor(downRate: number, rsize: number): number {
  if (downRate === 0) return rsize;
  return Math.max(64 * 1024, Math.min(rsize, Math.floor(downRate / 4 / 4096) * 4096));
}

export function throttledBackend(inner: RemoteBackend, down: TokenBucket, up: TokenBucket): RemoteBackend {
  const b: RemoteBackend = {
    origin: inner.origin,
    kind: inner.kind,
    stat: (path, options) => inner.stat(path, options),
    list: (path, options) => inner.list(path, options),
    read: async (path, options) => {
      await down.take(options.length, options.signal);
      return inner.read(path, options);
    },
    write: (path, options: WriteOptions) => inner.write(path, { ...options, source: metered(options.source, up, options.signal) }),
    mkdir: (path, options) => inner.mkdir(path, options),
    move: (from, to, options) => inner.move(from, to, options),
    delete: (path, options) => inner.delete(path, options),
    capabilities: (options) => inner.capabilities(options),
    close: () => inner.close(),
  };
  const writeRange = inner.writeRange?.bind(inner);
  if (writeRange !== undefined) {
    b.writeRange = (path, options: WriteRangeOptions) => writeRange(path, { ...options, source: metered(options.source, up, options.signal) });
  }
  return b;
}
