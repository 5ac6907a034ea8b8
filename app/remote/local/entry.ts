/**
 * One file or folder on disk as a RemoteEntry.
 *
 *   lstat {bigint}  ->  { path, name, kind, size (files), etag (strong), mtimeMs, contentType: null }
 *
 * The local backend does not guess content types from names: contentType is always null.
 */
import type { BigIntStats } from 'node:fs';
import type { RemoteEntry } from '../../api/remote.js';
import { etagOf, mtimeMsOf } from './version.js';

/** `stats` must be of a regular file or a folder (see disk-path.ts `refuseUnsupported`). */
export function toEntry(remotePath: string, name: string, stats: BigIntStats): RemoteEntry {
  const folder = stats.isDirectory();
  return {
    path: remotePath,
    name,
    kind: folder ? 'folder' : 'file',
    size: folder ? null : Number(stats.size),
    etag: etagOf(stats),
    etagStrength: 'strong',
    mtimeMs: mtimeMsOf(stats),
    contentType: null,
  };
}
