/**
 * cachefilesd's free-space limits on the cache filesystem, and the verdict of one space check
 * (digest §5.6 has_space; behaviours 74-78). Pure: the statfs numbers come in, no I/O here.
 *
 *   free blocks (bavail) or free files (ffree), minus blocks of cache writes in flight (78)
 *   and minus the request:
 *
 *   100% ┬──────────────
 *        │   ok            culling stays as it is (on until both are at/above run)
 *    run ┼── 7% ─────────  both blocks and files at/above run -> culling off (77)
 *        │   ok            (culling stays on if it was on)
 *   cull ┼── 5% ─────────  either below cull -> culling on, allocation succeeds (76)
 *        │   cull
 *   stop ┼── 1% ─────────  either below stop -> culling on, allocation refused (75)
 *     0% ┴   stop
 *
 *   limit in units = floor(total / 100) * percent   (as the kernel computes them at bind)
 */
import { NetfsError } from '../api/errors.js';

/** The six limits, in percent of the filesystem's blocks and files. */
export interface CacheThresholds {
  brun: number;
  bcull: number;
  bstop: number;
  frun: number;
  fcull: number;
  fstop: number;
}

/** The kernel's defaults (cachefilesd's sample config uses 10/7/3). */
export const DEFAULT_THRESHOLDS: Readonly<CacheThresholds> = Object.freeze({ brun: 7, bcull: 5, bstop: 1, frun: 7, fcull: 5, fstop: 1 });

/**
 * `current` with `change` applied, checked: `0 <= stop < cull < run < 100` for blocks and for
 * files (74). Throws INVALID_ARGUMENT naming what is wrong; `current` is never modified.
 */
export function mergeThresholds(current: Readonly<CacheThresholds>, change: Partial<CacheThresholds>): CacheThresholds {
  const next: CacheThresholds = { ...current };
  for (const k of Object.keys(DEFAULT_THRESHOLDS) as (keyof CacheThresholds)[]) {
    const v = change[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new NetfsError('INVALID_ARGUMENT', `cache: free space limit ${k} must be a whole percentage, not ${String(v)}`);
    next[k] = v;
  }
  for (const [kind, run, cull, stop] of [
    ['b', next.brun, next.bcull, next.bstop],
    ['f', next.frun, next.fcull, next.fstop],
  ] as const) {
    if (!(stop >= 0 && stop < cull && cull < run && run < 100)) {
      throw new NetfsError(
        'INVALID_ARGUMENT',
        `cache: free space limits must be in range 0 <= ${kind}stop < ${kind}cull < ${kind}run < 100 (asked for ${kind}stop ${stop}%, ${kind}cull ${cull}%, ${kind}run ${run}%)`,
      );
    }
  }
  return next;
}

/** What statfs says about the cache filesystem (node's StatFs, the fields used here). */
export interface FsSpace {
  bsize: number;
  blocks: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** The outcome of one space check. */
export interface SpaceVerdict {
  /** 'stop': refuse the allocation; 'cull': allocate, culling should run; 'ok': allocate. */
  level: 'ok' | 'cull' | 'stop';
  /** Both free blocks and free files are at or above their run limits. */
  aboveRun: boolean;
  /** Which resource is short: below cull first, else below run; blocks before files. */
  short: 'blocks' | 'files' | null;
  /** Free blocks and files as the check counted them (after in-flight writes and the request). */
  availBlocks: number;
  availFiles: number;
  /** The limits in filesystem blocks and files. */
  limits: { brun: number; bcull: number; bstop: number; frun: number; fcull: number; fstop: number };
}

/**
 * has_space(): `blocksNeeded` and `filesNeeded` for this allocation, `inflightBlocks` of cache
 * writes already under way (counted as used, 78).
 */
export function spaceVerdict(fs: FsSpace, t: Readonly<CacheThresholds>, inflightBlocks: number, blocksNeeded: number, filesNeeded: number): SpaceVerdict {
  const bUnit = Math.floor(fs.blocks / 100);
  const fUnit = Math.floor(fs.files / 100);
  const limits = {
    brun: bUnit * t.brun,
    bcull: bUnit * t.bcull,
    bstop: bUnit * t.bstop,
    frun: fUnit * t.frun,
    fcull: fUnit * t.fcull,
    fstop: fUnit * t.fstop,
  };
  const availBlocks = Math.max(0, fs.bavail - inflightBlocks - blocksNeeded);
  const availFiles = Math.max(0, fs.ffree - filesNeeded);
  const level = availBlocks < limits.bstop || availFiles < limits.fstop ? 'stop' : availBlocks < limits.bcull || availFiles < limits.fcull ? 'cull' : 'ok';
  const short =
    availBlocks < limits.bcull ? 'blocks' : availFiles < limits.fcull ? 'files' : availBlocks < limits.brun ? 'blocks' : availFiles < limits.frun ? 'files' : null;
  return { level, aboveRun: availBlocks >= limits.brun && availFiles >= limits.frun, short, availBlocks, availFiles, limits };
}

/** The culling flag after a verdict: on below cull (or stop), off only once both are at/above run (76, 77). */
export function nextCulling(culling: boolean, v: SpaceVerdict): boolean {
  if (v.level !== 'ok') return true;
  if (v.aboveRun) return false;
  return culling;
}
