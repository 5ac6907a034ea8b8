/**
 * What every operation of the local backend shares: the root folder on disk and the per-path
 * locks of this backend instance.
 *
 *   LocalBackend --owns--> LocalContext { root, locks } --passed to--> list/read/write/move/...
 */
import type { PathLocks } from './path-locks.js';

export interface LocalContext {
  /** Absolute disk path of the remote's root, normalised (no trailing slash except '/'). */
  readonly root: string;
  readonly locks: PathLocks;
}
