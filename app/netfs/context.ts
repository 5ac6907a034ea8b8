/**
 * What every engine phase shares: the backend (stream 0's target), the buffer pool, the pacer,
 * the counters, the trace, the limits, the live request list and the per-file writeback locks.
 * One per engine.
 */
import type { RemoteBackend } from '../remote/backend.js';
import { BufferPool } from './buffer-pool.js';
import type { NetfsRequest } from './objects.js';
import { Pacer, type PacerOptions } from './pacer.js';
import { newNetfsStats, type NetfsStats } from './stats.js';
import { Trace } from './trace.js';
import { Mutex, Semaphore } from './waits.js';
import { WritebackLocks } from './write-locks.js';

export interface EngineLimits {
  /** Largest server read subrequest (default 8 MiB). */
  rsize: number;
  /** Server subrequests in flight per request (default 4). */
  maxInFlightPerRequest: number;
  /** Server subrequests in flight across the engine (default 16). */
  maxInFlight: number;
  /** Least progress, past the collected point, that wakes the collector (default 256 KiB; behaviour 27). */
  progressFloor: number;
  /** Re-issues per subrequest before it fails with its last error (default 3; behaviour 62). */
  maxRetries: number;
  /** Largest file read whole from a server that ignores Range (it must fit in half the pool). */
  maxNoRangesBytes: number;
  /**
   * Largest write subrequest (default 8 MiB, at most half the pool): an upload's window of its
   * one PUT, an unbuffered write's ranged write, a cache write; also how far an upload reads
   * its local file ahead of its slowest stream (behaviour 44).
   */
  wsize: number;
}

export interface EngineOptions {
  backend: RemoteBackend;
  pool?: BufferPool;
  limits?: Partial<EngineLimits>;
  pacer?: Pacer | PacerOptions;
  traceCapacity?: number;
}

export interface EngineContext {
  readonly backend: RemoteBackend;
  readonly pool: BufferPool;
  readonly pacer: Pacer;
  readonly stats: NetfsStats;
  readonly trace: Trace;
  readonly limits: EngineLimits;
  /** Global limit on server subrequests in flight. */
  readonly slots: Semaphore;
  /** Pool blocks for one subrequest are taken under this lock, so requests cannot deadlock each other. */
  readonly allocLock: Mutex;
  /** Live requests (the request list). */
  readonly live: Set<NetfsRequest>;
  /** Origins found not to honour Range. */
  readonly noRanges: Set<string>;
  /** One writeback per file at a time (behaviour 39). */
  readonly wbLocks: WritebackLocks;
}

export function createEngineContext(options: EngineOptions): EngineContext {
  const pool = options.pool ?? new BufferPool({ capacity: 32 * 1024 * 1024 });
  const limits: EngineLimits = {
    rsize: 4 * 1024 * 1024,
    maxInFlightPerRequest: 4,
    maxInFlight: 16,
    progressFloor: 256 * 1024,
    maxRetries: 3,
    maxNoRangesBytes: Math.floor(pool.capacity / 2),
    wsize: 8 * 1024 * 1024,
    ...options.limits,
  };
  if (limits.rsize > pool.capacity / 2) limits.rsize = Math.max(pool.blockSize, Math.floor(pool.capacity / 2 / pool.blockSize) * pool.blockSize);
  if (limits.wsize > pool.capacity / 2) limits.wsize = Math.max(pool.blockSize, Math.floor(pool.capacity / 2 / pool.blockSize) * pool.blockSize);
  return {
    backend: options.backend,
    pool,
    pacer: options.pacer instanceof Pacer ? options.pacer : new Pacer(options.pacer),
    stats: newNetfsStats(),
    trace: new Trace(options.traceCapacity ?? 4096),
    limits,
    slots: new Semaphore(limits.maxInFlight),
    allocLock: new Mutex(),
    live: new Set(),
    noRanges: new Set(),
    wbLocks: new WritebackLocks(),
  };
}
