/**
 * Names the local backend keeps for itself inside the remote folder.
 *
 *   /docs/.netfs-partial-3f9c0a1b2c4d5e6f   a write in progress (renamed/linked into place at commit)
 *   /.netfs-probe-0a1b2c3d4e5f6a7b/          the capabilities probe (removed afterwards)
 *
 * Both are hidden from listings, and a remote path that uses one of these prefixes is refused,
 * so a user file can never be mistaken for (or overwritten as) a temp file. One left behind by
 * a crash stays hidden; it is never served.
 */
import { randomBytes } from 'node:crypto';

export const PARTIAL_PREFIX = '.netfs-partial-';
export const PROBE_PREFIX = '.netfs-probe-';

/** True for the names of the backend's own temp files and probe folders. */
export function isBackendTempName(name: string): boolean {
  return name.startsWith(PARTIAL_PREFIX) || name.startsWith(PROBE_PREFIX);
}

/** A fresh temp name: the prefix and 64 random bits in hex. */
export function tempName(prefix: typeof PARTIAL_PREFIX | typeof PROBE_PREFIX): string {
  return prefix + randomBytes(8).toString('hex');
}
