/**
 * What the CLI (`ls --json`, `status --json`, `conflicts --json`, `trash ls --json`) and the app
 * show about entries, failures, conflicts and the trash: one schema each, serialised as is.
 */
import { z } from 'zod';
import { contentSchema, entryFlagSchema, entryStateSchema, placementSchema } from './states.js';

export const entryInfoSchema = z.object({
  path: z.string(),
  name: z.string(),
  kind: z.enum(['file', 'folder']),
  /** The one-word label (DESIGN §1 priority). */
  state: entryStateSchema,
  placement: placementSchema,
  /** For online-only files: how much of it the cache holds. */
  content: contentSchema,
  flags: z.array(entryFlagSchema),
  /** The server's size at the last sync (null when unknown). */
  size: z.number().nullable(),
  /** The server's modification time at the last sync, ms since the epoch. */
  mtimeMs: z.number().nullable(),
  /** The server's ETag at the last sync (the base of the next upload's If-Match). */
  baseEtag: z.string().nullable(),
  /** Bytes of the file held by the cache, and which ranges. */
  cachedBytes: z.number(),
  cachedRanges: z.array(z.tuple([z.number(), z.number()])),
  lastError: z.object({ code: z.string(), message: z.string(), attempts: z.number() }).nullable(),
  /** When the failed item is tried again, ms since the epoch. */
  nextRetryMs: z.number().nullable(),
});
export type EntryInfo = z.infer<typeof entryInfoSchema>;

export const failureInfoSchema = z.object({
  path: z.string(),
  code: z.string(),
  message: z.string(),
  attempts: z.number(),
  firstFailedMs: z.number(),
  lastFailedMs: z.number(),
  nextRetryMs: z.number(),
});
export type FailureInfo = z.infer<typeof failureInfoSchema>;

export const conflictInfoSchema = z.object({
  path: z.string(),
  copyPath: z.string(),
  createdMs: z.number(),
  ourSize: z.number(),
  ourMtimeMs: z.number(),
  theirEtag: z.string().nullable(),
});
export type ConflictInfo = z.infer<typeof conflictInfoSchema>;

export const trashInfoSchema = z.object({
  id: z.string(),
  originalPath: z.string(),
  kind: z.enum(['file', 'folder']),
  size: z.number(),
  deletedMs: z.number(),
});
export type TrashInfo = z.infer<typeof trashInfoSchema>;

export const accountInfoSchema = z.object({
  remote: z.string(),
  user: z.string().nullable(),
  local: z.string(),
});

export const statusInfoSchema = z.object({
  account: accountInfoSchema,
  /** The running engine's pid, or null when none runs for this state folder. */
  engine: z.object({ pid: z.number() }).nullable(),
  counts: z.record(entryStateSchema, z.number()),
  files: z.number(),
  folders: z.number(),
  failures: z.array(failureInfoSchema),
  conflicts: z.number(),
  pending: z.number(),
  lastSyncMs: z.number().nullable(),
});
export type StatusInfo = z.infer<typeof statusInfoSchema>;
