/**
 * How a transfer and its subrequests read to a person (pure; the contract carries raw flags):
 *
 *   subrequest flags ──> state   failed > retrying > in flight > done > waiting
 *   source symbol    ──> where   DOWN/UPLD: server · READ/WRIT: cache · ZERO: zero-fill · LOCL: local copy
 *   request flags    ──> words   ["retrying", "server ignores ranges", "cache withdrawn", …]
 */
import { REQUEST_FLAGS, SUBREQUEST_FLAGS, SUBREQUEST_SOURCES } from '../../app/api/flags.js';

export type SubrequestState = 'failed' | 'retrying' | 'in-flight' | 'done' | 'waiting';
export type SourceKind = 'server' | 'cache' | 'zero-fill' | 'local copy' | 'other';

export interface SubrequestLike {
  source: string;
  flags: number;
  transferred: number;
  len: number;
  error: string | null;
}

export function subrequestState(s: SubrequestLike, consumed = false): SubrequestState {
  if (consumed) return s.error !== null || (s.flags & SUBREQUEST_FLAGS.FAILED) !== 0 ? 'failed' : 'done';
  if ((s.flags & SUBREQUEST_FLAGS.FAILED) !== 0) return 'failed';
  if ((s.flags & (SUBREQUEST_FLAGS.NEED_RETRY | SUBREQUEST_FLAGS.RETRYING)) !== 0) return 'retrying';
  if ((s.flags & SUBREQUEST_FLAGS.IN_PROGRESS) !== 0) return 'in-flight';
  if (s.transferred >= s.len || (s.flags & SUBREQUEST_FLAGS.HIT_EOF) !== 0) return 'done';
  return 'waiting';
}

export function sourceKind(source: string): SourceKind {
  return (SUBREQUEST_SOURCES as Record<string, SourceKind>)[source] ?? 'other';
}

/** Origins by name and by their /proc/fs/netfs/requests code (RA, RP, UR, WB, UW, CC). */
const ORIGINS: Record<string, string> = {
  download: 'download',
  RA: 'download',
  read: 'on-demand read',
  RP: 'on-demand read',
  'unbuffered-read': 'direct read',
  UR: 'direct read',
  upload: 'upload',
  WB: 'upload',
  'unbuffered-write': 'direct write',
  UW: 'direct write',
  'copy-to-cache': 'copy to cache',
  CC: 'copy to cache',
};

export function originLabel(origin: string): string {
  return ORIGINS[origin] ?? origin;
}

export function isUpload(origin: string): boolean {
  const o = originLabel(origin);
  return o === 'upload' || o === 'direct write';
}

const REQUEST_WORDS: Array<[number, string]> = [
  [REQUEST_FLAGS.RETRYING, 'retrying'],
  [REQUEST_FLAGS.PAUSE, 'paused'],
  [REQUEST_FLAGS.FAILED, 'failed'],
  [REQUEST_FLAGS.SHORT_TRANSFER, 'short transfer'],
  [REQUEST_FLAGS.NO_RANGES, 'server ignores ranges'],
  [REQUEST_FLAGS.CACHE_WITHDRAWN, 'cache withdrawn'],
  [REQUEST_FLAGS.CACHE_STOP, 'cache writes stopped'],
  [REQUEST_FLAGS.CACHE_ERROR, 'cache error'],
];

/** The request flags worth telling a person, in words. */
export function requestNotes(flags: number): string[] {
  return REQUEST_WORDS.filter(([bit]) => (flags & bit) !== 0).map(([, w]) => w);
}

/** Every set flag by its engine name (diagnostics). */
export function flagNames(flags: number, table: Record<string, number>): string[] {
  return Object.entries(table)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
}

/** A debug id as /proc/fs/netfs/requests prints it. */
export function debugIdLabel(id: number): string {
  return `R=${id.toString(16).padStart(8, '0')}`;
}
