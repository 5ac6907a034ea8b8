/**
 * What the app may see of the cache (issue 4 item 8): plain, JSON-serialisable types (they will
 * cross IPC), the FS-Cache-style counters, and the builders of the per-object view.
 *
 *   store.inspect()          CacheInspection: state, totals, limit, thresholds, filesystem,
 *                            counters, recent culls
 *   store.listObjects()      CacheObjectInfo[]: extents over the object size, flags
 *   store.cullCandidates(n)  CullCandidate[]: what culling would remove next, in order
 *   store.verify()           VerifyReport: every granule's CRC, index vs store
 *
 *   state   normal ── below cull ──> culling ── below stop ──> stopped
 *             ^                        │                          │
 *             └── both at/above run ───┴──────────────────────────┘
 *           any ── I/O error on the backing store ──> withdrawn (until restart)
 */
import type { CacheThresholds } from './thresholds.js';

export type CacheState = 'normal' | 'culling' | 'stopped' | 'withdrawn';

/** Why an object was culled: the user limit, the filesystem's free blocks or files, or on request. */
export type CullReason = 'limit' | 'blocks' | 'files' | 'manual';

export interface CullRecord {
  key: string;
  /** Allocated bytes freed. */
  bytes: number;
  /** ms since the epoch. */
  at: number;
  why: CullReason;
}

export interface CullCandidate {
  key: string;
  bytes: number;
  atime: number;
  staging: boolean;
  /** Released by its last user, kept for reuse (behaviour 73); culling ends the keep first. */
  kept: boolean;
}

/** FS-Cache-style counters (digest §6.3), plus the store's own read/write outcomes. */
export interface CacheCounters {
  /** openObject calls; ok: an object was returned (not withdrawn). */
  acquire: { n: number; ok: number };
  /** Index lookups of an object not open: hit = adopted (or resumed), miss = new or discarded. */
  lookups: { n: number; hit: number; miss: number; discarded: number };
  /** Released cookies kept for reuse: n kept now, exp expired, rmv reused, drp dropped early. */
  lru: { n: number; exp: number; rmv: number; drp: number };
  /** Object content discarded (invalidation, stale aux, corrupt data). */
  invals: { n: number };
  /** Last-user closes. */
  relinqs: { n: number };
  /** nwr: writes refused for space; ncr: object creations (first write) refused; cull: objects culled. */
  noSpace: { nwr: number; ncr: number; cull: number };
  /** rd: cache reads served; wr: cache writes done; mis/err: reads not cached / failed; werr: writes failed. */
  io: { rd: number; wr: number; miss: number; rerr: number; werr: number; crc: number };
  /** Culls skipped: object in use (busy), gone or another one now (stale), used since recorded or DIRTY (used). */
  cullSkips: { busy: number; stale: number; used: number };
  /** Operations refused because the cache is withdrawn. */
  withdrawnOps: number;
}

export function newCounters(): CacheCounters {
  return {
    acquire: { n: 0, ok: 0 },
    lookups: { n: 0, hit: 0, miss: 0, discarded: 0 },
    lru: { n: 0, exp: 0, rmv: 0, drp: 0 },
    invals: { n: 0 },
    relinqs: { n: 0 },
    noSpace: { nwr: 0, ncr: 0, cull: 0 },
    io: { rd: 0, wr: 0, miss: 0, rerr: 0, werr: 0, crc: 0 },
    cullSkips: { busy: 0, stale: 0, used: 0 },
    withdrawnOps: 0,
  };
}

export interface FsInfo {
  bsize: number;
  blocks: number;
  bavail: number;
  files: number;
  ffree: number;
  /** bavail / blocks and ffree / files, in percent (what the thresholds compare). */
  freeBlocksPct: number;
  freeFilesPct: number;
}

export interface CacheInspection {
  dir: string;
  volume: string;
  state: CacheState;
  withdrawn: { at: number; code: string; reason: string } | null;
  totals: {
    /** Rows in the index for this volume. */
    objects: number;
    /** Objects open now (in use), and released ones kept for reuse. */
    open: number;
    kept: number;
    /** Bytes of backing-file blocks held: all objects, and the staging ones among them. */
    allocatedBytes: number;
    stagingBytes: number;
    /** Bytes that can be served (whole granules of collected data). */
    storedBytes: number;
  };
  /** The user limit and what counts against it (allocated bytes of non-staging objects). */
  limit: { bytes: number; usedBytes: number };
  thresholds: CacheThresholds;
  /** null when statfs could not be read. */
  fs: FsInfo | null;
  counters: CacheCounters;
  /** Newest last. */
  recentCulls: CullRecord[];
}

export interface CacheObjectInfo {
  key: string;
  objectSize: number;
  content: 'NO_DATA' | 'ALL' | 'MAP';
  /** Servable byte ranges [start, end) over [0, objectSize). */
  extents: Array<[number, number]>;
  storedBytes: number;
  allocatedBytes: number;
  /** ms since the epoch (the culler's LRU key). */
  atime: number;
  inUse: boolean;
  kept: boolean;
  staging: boolean;
  dirty: boolean;
}

export interface VerifyProblem {
  key: string;
  /** What was wrong: 'crc mismatch in granule N', 'file missing', 'file short', 'no crc', 'dirty', … */
  reason: string;
}

export interface VerifyReport {
  objects: number;
  granules: number;
  /** Objects found bad; each was invalidated (emptied, its files to the graveyard). */
  bad: VerifyProblem[];
  /** Files in objects/ that no row names (and stale temps), moved to the graveyard. */
  orphans: number;
}
