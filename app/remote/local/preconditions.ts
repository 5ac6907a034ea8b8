/**
 * Preconditions of the local backend, checked against what is on disk now (lstat, bigint).
 *
 *   write onto a name       none: anything but a folder/symlink   absent: nothing there
 *   (checkWriteTarget)      match: that file, same version (versionMismatch)
 *
 *   move source / delete    none: -                               absent: fails (it exists)
 *   (checkExistingEntry)    match: same version (files and folders)
 *
 * Failures are PRECONDITION_FAILED, except writing onto a folder (CONFLICT), onto a symlink
 * (FORBIDDEN) or onto a FIFO/socket/device (UNSUPPORTED).
 */
import type { BigIntStats } from 'node:fs';
import type { Precondition } from '../backend.js';
import { refuseUnsupported } from './disk-path.js';
import { pathError } from './errors.js';
import { versionMismatch } from './version.js';

/** Refuses to write over what is at the final name now (`current`, null when nothing), per the precondition. */
export function checkWriteTarget(current: BigIntStats | null, precondition: Precondition, action: string, remotePath: string): void {
  if (current !== null) {
    refuseUnsupported(current, action, remotePath);
    if (current.isDirectory()) throw pathError('CONFLICT', action, remotePath, 'is a folder; a file cannot replace it');
  }
  switch (precondition.kind) {
    case 'none':
      return;
    case 'absent':
      if (current !== null) throw pathError('PRECONDITION_FAILED', action, remotePath, 'already exists (the write was create-only)');
      return;
    case 'match': {
      if (current === null) throw pathError('PRECONDITION_FAILED', action, remotePath, 'no longer exists (the write expected a version of it)');
      const mismatch = versionMismatch(precondition, current);
      if (mismatch !== null) throw pathError('PRECONDITION_FAILED', action, remotePath, `changed since it was read: ${mismatch}`);
      return;
    }
  }
}

/**
 * A precondition on an entry that exists (the source of a move, the victim of a delete):
 * `match` compares versions; `absent` cannot hold, since the entry is there.
 */
export function checkExistingEntry(stats: BigIntStats, precondition: Precondition | undefined, action: string, remotePath: string): void {
  if (precondition === undefined || precondition.kind === 'none') return;
  if (precondition.kind === 'absent') throw pathError('PRECONDITION_FAILED', action, remotePath, 'exists (the precondition said it would be absent)');
  const mismatch = versionMismatch(precondition, stats);
  if (mismatch !== null) throw pathError('PRECONDITION_FAILED', action, remotePath, `changed: ${mismatch}`);
}
