/**
 * The buffer pool: a bounded set of fixed-size blocks that every byte the engine moves
 * lives in, so a 10 GiB file costs no more memory than a 10 MiB one (DESIGN §4).
 *
 *   capacity (64 MiB) = blocks × blockSize (1 MiB), carved out of arenas allocated lazily:
 *
 *     arena 0 (16 MiB ArrayBuffer)        arena 1            arena 2   arena 3
 *   +------+------+------+-- ... --+   +------+-- ...    (not allocated until
 *   | blk0 | blk1 | blk2 |   ...   |   | blk16|           the first 32 blocks
 *   +------+------+------+-- ... --+   +------+-- ...     are all in use)
 *      ^ in use   ^ free (stack)
 *
 *   alloc()        --> a block now, or null                     (never blocks)
 *   allocAsync(s)  --> a block now, or waits FIFO behind the      (backpressure from
 *                      other waiters until free() hands one over   the pool to the sockets)
 *   free(block)    --> straight to the oldest waiter, else onto the free stack
 *
 * Each alloc() returns a fresh Uint8Array view of its block and free() accepts only that very
 * view, so a double free, a stale free after the block was handed out again, a sub-view and a
 * foreign buffer are all detected (INVALID_ARGUMENT). Blocks are NOT zeroed on free or alloc:
 * a block holds whatever its last user left there. Consumers only ever read bytes that were
 * written into the block since it was allocated (the chain's used lengths say which); code that
 * needs zeros (a ZERO extent, the tail of a short read at EOF) must clear them (bvecqZero).
 *
 * Counters: inUse (gauge), highWater (largest inUse seen), waits (allocAsync calls that had to
 * wait), waiting (gauge of queued waiters).
 */
import { NetfsError } from '../api/errors.js';

/** Default size of one block: 1 MiB. */
export const DEFAULT_BLOCK_SIZE = 1 << 20;
/** Default capacity of a pool: 64 MiB. */
export const DEFAULT_POOL_CAPACITY = 64 << 20;
/** Default size of one arena (one ArrayBuffer carved into blocks): 16 MiB. */
export const DEFAULT_ARENA_SIZE = 16 << 20;

export interface BufferPoolOptions {
  /** Bytes per block (a positive integer); default 1 MiB. */
  blockSize?: number;
  /** Total bytes the pool may hand out, rounded down to whole blocks (at least one); default 64 MiB. */
  capacity?: number;
  /** Bytes per backing ArrayBuffer, rounded down to whole blocks (at least one); default 16 MiB. */
  arenaSize?: number;
}

export interface BufferPoolStats {
  blockSize: number;
  /** Capacity in blocks. */
  blocks: number;
  /** Blocks handed out and not yet freed. */
  inUse: number;
  /** The largest `inUse` seen. */
  highWater: number;
  /** allocAsync() calls that had to wait for a block. */
  waits: number;
  /** allocAsync() calls waiting now. */
  waiting: number;
  /** Arenas allocated so far. */
  arenas: number;
  /** Bytes of the arenas allocated so far (what the pool costs in memory). */
  reservedBytes: number;
}

interface Waiter {
  resolve: (block: Uint8Array) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new NetfsError('INVALID_ARGUMENT', `buffer pool: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export class BufferPool {
  readonly blockSize: number;
  /** Capacity in blocks. */
  readonly blocks: number;
  /** Capacity in bytes (blocks × blockSize). */
  readonly capacity: number;
  /** Blocks per arena. */
  readonly arenaBlocks: number;

  readonly #arenas: ArrayBuffer[] = [];
  readonly #arenaSet = new WeakSet<ArrayBuffer>();
  /** Blocks carved so far; block i lives in arena ⌊i / arenaBlocks⌋. */
  #carved = 0;
  /** Indices of free carved blocks (a stack: the most recently freed block is the warmest). */
  readonly #free: number[] = [];
  /** The view handed out for each block in use, and its index. */
  readonly #live = new Map<Uint8Array, number>();
  readonly #waiters: Waiter[] = [];
  #highWater = 0;
  #waits = 0;

  constructor(options: BufferPoolOptions = {}) {
    this.blockSize = positiveInteger('blockSize', options.blockSize ?? DEFAULT_BLOCK_SIZE);
    const capacity = positiveInteger('capacity', options.capacity ?? DEFAULT_POOL_CAPACITY);
    const arenaSize = positiveInteger('arenaSize', options.arenaSize ?? DEFAULT_ARENA_SIZE);
    this.blocks = Math.floor(capacity / this.blockSize);
    if (this.blocks < 1) {
      throw new NetfsError('INVALID_ARGUMENT', `buffer pool: capacity ${capacity} is less than one block of ${this.blockSize}`);
    }
    this.capacity = this.blocks * this.blockSize;
    this.arenaBlocks = Math.min(this.blocks, Math.max(1, Math.floor(arenaSize / this.blockSize)));
  }

  /** Blocks handed out and not yet freed. */
  get inUse(): number {
    return this.#live.size;
  }

  /** The largest number of blocks in use at once so far. */
  get highWater(): number {
    return this.#highWater;
  }

  /** How many allocAsync() calls had to wait. */
  get waits(): number {
    return this.#waits;
  }

  /** How many allocAsync() calls are waiting now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** True when `block` is a view this pool handed out and that has not been freed. */
  owns(block: Uint8Array): boolean {
    return this.#live.has(block);
  }

  /** A free block, or null when all `blocks` are in use. Never waits. */
  alloc(): Uint8Array | null {
    const index = this.#take();
    return index === -1 ? null : this.#handOut(index);
  }

  /**
   * A block, waiting in FIFO order behind earlier waiters when none is free. Rejects with
   * CANCELLED when `signal` aborts first (the waiter leaves the queue; nothing is leaked).
   */
  allocAsync(signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    const block = this.#waiters.length === 0 ? this.alloc() : null;
    if (block !== null) return Promise.resolve(block);
    this.#waits++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const at = this.#waiters.indexOf(waiter);
          if (at !== -1) this.#waiters.splice(at, 1);
          reject(cancelled(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /**
   * Gives a block back: to the oldest waiter if there is one, else to the free stack. Throws
   * INVALID_ARGUMENT for anything that is not a block this pool handed out and still counts
   * as in use (double free, stale view, sub-view, foreign memory). The bytes are left as they are.
   */
  free(block: Uint8Array): void {
    const index = this.#live.get(block);
    if (index === undefined) {
      const ours = block instanceof Uint8Array && this.#arenaSet.has(block.buffer as ArrayBuffer);
      throw new NetfsError(
        'INVALID_ARGUMENT',
        ours
          ? 'buffer pool: block is not in use (double free, or not the view alloc() returned)'
          : 'buffer pool: block does not belong to this pool',
      );
    }
    this.#live.delete(block);
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#free.push(index);
      return;
    }
    if (waiter.signal !== undefined && waiter.onAbort !== undefined) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
    }
    waiter.resolve(this.#handOut(index));
  }

  stats(): BufferPoolStats {
    return {
      blockSize: this.blockSize,
      blocks: this.blocks,
      inUse: this.inUse,
      highWater: this.#highWater,
      waits: this.#waits,
      waiting: this.#waiters.length,
      arenas: this.#arenas.length,
      reservedBytes: this.#arenas.reduce((sum, arena) => sum + arena.byteLength, 0),
    };
  }

  /** Index of a free block (carving a new arena when needed), or -1. */
  #take(): number {
    const index = this.#free.pop();
    if (index !== undefined) return index;
    if (this.#carved >= this.blocks) return -1;
    if (this.#carved % this.arenaBlocks === 0) {
      const arenaBlocks = Math.min(this.arenaBlocks, this.blocks - this.#carved);
      const arena = new ArrayBuffer(arenaBlocks * this.blockSize);
      this.#arenas.push(arena);
      this.#arenaSet.add(arena);
    }
    return this.#carved++;
  }

  #handOut(index: number): Uint8Array {
    const arena = this.#arenas[Math.floor(index / this.arenaBlocks)];
    if (arena === undefined) throw new Error(`buffer pool: block ${index} has no arena`);
    const block = new Uint8Array(arena, (index % this.arenaBlocks) * this.blockSize, this.blockSize);
    this.#live.set(block, index);
    if (this.#live.size > this.#highWater) this.#highWater = this.#live.size;
    return block;
  }
}

function cancelled(signal: AbortSignal): NetfsError {
  return new NetfsError('CANCELLED', 'buffer pool: wait for a block was cancelled', { cause: signal.reason });
}
