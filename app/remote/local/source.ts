/**
 * Pulls a write's source (an async iterable of caller-owned chunks) to its end, handing each
 * chunk to `onChunk` with its position before asking for the next, and checks the count.
 *
 *   source --next()--> chunk --onChunk(chunk, position)--> (written) --next()--> ... --> done
 *      |                  |                                                         |
 *      | abort: CANCELLED, even while next() is pending      received < length: IO "source ended early"
 *      |                  | received + chunk > length: TOO_LARGE (nothing more is pulled)
 *      v
 *   on any early exit the iterator's return() is called (not awaited: a stuck source must not
 *   hang the write)
 *
 * A chunk is used only inside onChunk, so the caller may reuse it once the next one is asked for.
 */
import { NetfsError, isNetfsError } from '../../api/errors.js';
import { cancelled, pathError } from './errors.js';

export interface DrainOptions {
  length: number;
  signal?: AbortSignal | undefined;
  action: string;
  remotePath: string;
  onChunk: (chunk: Uint8Array, position: number) => Promise<void>;
  onProgress?: ((received: number) => void) | undefined;
}

/** Returns the number of bytes received, which is exactly `length`. */
export async function drainSource(source: AsyncIterable<Uint8Array>, options: DrainOptions): Promise<number> {
  const { length, signal, action, remotePath, onChunk, onProgress } = options;
  let iterator: AsyncIterator<Uint8Array>;
  try {
    iterator = source[Symbol.asyncIterator]();
  } catch (error) {
    throw pathError('INVALID_ARGUMENT', action, remotePath, `source is not an async iterable (${String(error)})`);
  }
  let received = 0;
  let finished = false;
  try {
    for (;;) {
      if (signal?.aborted === true) throw cancelled(action, remotePath);
      const next = await pull(iterator, signal, action, remotePath);
      if (next.done === true) {
        finished = true;
        break;
      }
      const chunk: unknown = next.value;
      if (!(chunk instanceof Uint8Array)) {
        throw pathError('INVALID_ARGUMENT', action, remotePath, 'source yielded something that is not a Uint8Array');
      }
      if (received + chunk.byteLength > length) {
        throw pathError('TOO_LARGE', action, remotePath, `source yielded more than the ${length} bytes announced`);
      }
      await onChunk(chunk, received);
      received += chunk.byteLength;
      onProgress?.(received);
    }
  } finally {
    if (!finished) closeQuietly(iterator);
  }
  if (received < length) {
    throw pathError('IO', action, remotePath, `source ended early: ${received} of ${length} bytes received`);
  }
  return received;
}

/** iterator.next(), or CANCELLED as soon as `signal` fires; a failing source becomes IO. */
async function pull(
  iterator: AsyncIterator<Uint8Array>,
  signal: AbortSignal | undefined,
  action: string,
  remotePath: string,
): Promise<IteratorResult<Uint8Array>> {
  const next = iterator.next().catch((error: unknown) => {
    if (isNetfsError(error)) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new NetfsError('IO', `${action} ${JSON.stringify(remotePath)}: the source failed: ${detail}`, { cause: error });
  });
  if (signal === undefined) return next;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled(action, remotePath));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([next, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    next.catch(() => undefined);
  }
}

function closeQuietly(iterator: AsyncIterator<Uint8Array>): void {
  try {
    const result = iterator.return?.();
    if (result !== undefined) result.catch(() => undefined);
  } catch {
    // A source whose return() throws has nothing more to tell us.
  }
}
