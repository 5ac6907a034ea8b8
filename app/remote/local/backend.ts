/**
 * The local-folder backend: RemoteBackend over a folder on disk (a mounted NAS share, or the
 * embedded remote of the demo).
 *
 *   createLocalBackend({ url: 'file:///srv/share' })   new LocalBackend('/srv/share')
 *                         \                              /
 *                          LocalBackend { origin: 'file:///srv/share', kind: 'local' }
 *                            | every call: one AbortSignal = caller's signal + close()
 *      +---------+---------+-+-------+--------+---------+----------+
 *    list.ts  list.ts   read.ts  write.ts  mkdir.ts  move.ts  delete.ts  probe.ts
 *    (stat)   (list)             write-range.ts (writeRange:            (capabilities, cached)
 *                                 in place, for unbuffered writes)
 *
 * close(): in-flight operations are cancelled (CANCELLED; a write not yet committed removes its
 * temp file) and awaited; every later call fails with CANCELLED; closing again is a no-op.
 * See README.md for the guarantees.
 */
import type { Capabilities, ListResult, RemoteEntry } from '../../api/remote.js';
import type {
  DeleteOptions, MoveOptions, ReadOptions, ReadResult, RemoteBackend, WriteOptions, WriteRangeOptions, WriteRangeResult, WriteResult,
} from '../backend.js';
import type { LocalContext } from './context.js';
import { deleteEntry } from './delete.js';
import { pathError } from './errors.js';
import { listFolder, statEntry } from './list.js';
import { makeFolder } from './mkdir.js';
import { moveEntry } from './move.js';
import { PathLocks } from './path-locks.js';
import { probeCapabilities } from './probe.js';
import { readRange } from './read.js';
import { normaliseRoot, originOf, rootFromUrl } from './root-url.js';
import { writeFile } from './write.js';
import { writeRangeInPlace } from './write-range.js';

export interface LocalBackendOptions {
  /** `file:///abs/path` of the folder that is the remote's root. */
  url: string;
}

/** A local backend for a `file:` URL; refuses other schemes, hosts and relative paths (INVALID_ARGUMENT). */
export function createLocalBackend(options: LocalBackendOptions): LocalBackend {
  return new LocalBackend(rootFromUrl(options.url));
}

export class LocalBackend implements RemoteBackend {
  readonly kind = 'local' as const;
  readonly origin: string;
  /** The root folder on disk, absolute and normalised. */
  readonly root: string;

  readonly #ctx: LocalContext;
  readonly #closer = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();
  #capabilities: Promise<Capabilities> | undefined;
  #closing: Promise<void> | undefined;

  /** `rootDir` must be absolute (INVALID_ARGUMENT otherwise); it is not created, nor required to exist yet. */
  constructor(rootDir: string) {
    this.root = normaliseRoot(rootDir);
    this.origin = originOf(this.root);
    this.#ctx = { root: this.root, locks: new PathLocks() };
  }

  stat(path: string, options: { signal?: AbortSignal } = {}): Promise<RemoteEntry> {
    return this.#run('stat', path, options.signal, (signal) => statEntry(this.#ctx, path, signal));
  }

  list(path: string, options: { signal?: AbortSignal } = {}): Promise<ListResult> {
    return this.#run('list', path, options.signal, (signal) => listFolder(this.#ctx, path, signal));
  }

  read(path: string, options: ReadOptions): Promise<ReadResult> {
    return this.#run('read', path, options.signal, (signal) => readRange(this.#ctx, path, { ...options, signal }));
  }

  write(path: string, options: WriteOptions): Promise<WriteResult> {
    return this.#run('write', path, options.signal, (signal) => writeFile(this.#ctx, path, { ...options, signal }));
  }

  /** Positional writes into the existing file, fsynced before it resolves (write-range.ts). */
  writeRange(path: string, options: WriteRangeOptions): Promise<WriteRangeResult> {
    return this.#run('write range', path, options.signal, (signal) => writeRangeInPlace(this.#ctx, path, { ...options, signal }));
  }

  mkdir(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#run('mkdir', path, options.signal, (signal) => makeFolder(this.#ctx, path, signal));
  }

  move(from: string, to: string, options: MoveOptions = {}): Promise<void> {
    return this.#run('move', from, options.signal, (signal) => moveEntry(this.#ctx, from, to, { ...options, signal }));
  }

  delete(path: string, options: DeleteOptions = {}): Promise<void> {
    return this.#run('delete', path, options.signal, (signal) => deleteEntry(this.#ctx, path, { ...options, signal }));
  }

  /** Probed once and remembered; `refresh` probes again. Concurrent callers share one probe. */
  capabilities(options: { signal?: AbortSignal; refresh?: boolean } = {}): Promise<Capabilities> {
    return this.#run('capabilities', '/', options.signal, (signal) => {
      if (this.#capabilities === undefined || options.refresh === true) {
        const probe = this.#run('capabilities', '/', undefined, (closeSignal) => probeCapabilities(this.root, closeSignal));
        this.#capabilities = probe;
        probe.catch(() => {
          if (this.#capabilities === probe) this.#capabilities = undefined;
        });
      }
      return untilAborted(this.#capabilities, signal, () => pathError('CANCELLED', 'capabilities', '/', 'cancelled'));
    });
  }

  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closer.abort();
      this.#closing = Promise.allSettled([...this.#inFlight]).then(() => undefined);
    }
    return this.#closing;
  }

  /** Runs one operation with a signal that fires on the caller's abort or on close(), and tracks it. */
  #run<T>(action: string, path: string, signal: AbortSignal | undefined, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#closer.signal.aborted) return Promise.reject(pathError('CANCELLED', action, path, 'the backend is closed'));
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    if (signal?.aborted === true) controller.abort();
    signal?.addEventListener('abort', abort, { once: true });
    this.#closer.signal.addEventListener('abort', abort, { once: true });
    const running = (async () => {
      try {
        return await operation(controller.signal);
      } finally {
        signal?.removeEventListener('abort', abort);
        this.#closer.signal.removeEventListener('abort', abort);
      }
    })();
    this.#inFlight.add(running);
    const forget = (): void => {
      this.#inFlight.delete(running);
    };
    running.then(forget, forget);
    return running;
  }
}

/** `promise`, or the error of `cancelled()` as soon as `signal` fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, cancelled: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
