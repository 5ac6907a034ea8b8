/**
 * What the engine needs from a cache (the cache itself is app/cache, cachefiles-style):
 * the engine's stream 1. Without one, the engine runs uncached, as netfs does without fscache.
 *
 *   queryOccupancy(start, end) -> at most two extents, DATA or ZERO, trimmed to whole blocks
 *   read(start, buffers)       -> cache subrequest (may fail: the engine refetches from the server)
 *   write(start, views)        -> cache write of whole granules; errors never fail the request
 *   collectWrite(start, len)   -> a contiguous run of cache writes is done: commit its metadata
 *   invalidate(reason)         -> drop the object's content (a cache write failed other than for
 *                                 space, the upload its bytes were for failed, an unbuffered write)
 */
export interface OccupancyExtent {
  start: number;
  end: number;
  type: 'DATA' | 'ZERO';
}

export interface CacheObjectIo {
  /** Cache block size (allocation unit), e.g. 4096. */
  readonly blockSize: number;
  /** Granule (content tracking unit), e.g. 65536; reads are widened to it. */
  readonly granule: number;
  /** Up to two extents within [start, end), in file order. */
  queryOccupancy(start: number, end: number): Promise<OccupancyExtent[]>;
  /** Reads [start, start + total length of buffers) from the cache; resolves with the bytes placed. */
  read(start: number, buffers: readonly Uint8Array[], signal?: AbortSignal): Promise<number>;
  /** Writes the views at `start`; resolves when they are on the backing store. */
  write(start: number, views: readonly Uint8Array[]): Promise<void>;
  /** A contiguous run [start, start+len) of writes has finished: make it visible to readers. */
  collectWrite(start: number, len: number): Promise<void>;
  /**
   * Throw the object's content away (fscache_invalidate): later reads miss until it is written
   * again. The engine calls it after a cache write error that was not "no space" (behaviour
   * 47), when an upload whose bytes it cached fails, and before an unbuffered write (54).
   */
  invalidate(reason: CacheInvalidateReason): Promise<void>;
}

/** Why the engine invalidated a cache object. */
export type CacheInvalidateReason = 'write-error' | 'upload-failed' | 'unbuffered-write';
