/**
 * The one contract between the engine and every face of it (DESIGN §7): each command
 * (request -> result) and each event stream, with a runtime schema. The preload bridge, the
 * ipcMain handlers, the WebSocket host and the renderer's client are all derived from this
 * object (derive.ts); nobody writes a second copy.
 *
 *   COMMANDS['files.list'] = { request: zod, result: zod }
 *        |                         |
 *   renderer client.call('files.list', {path})  --IPC or WS-->  handlers['files.list'](req)
 *        <-- { ok: true, value } | { ok: false, error: { code, message } } --
 *
 *   EVENTS['transfers'] = zod of one update; updates carry a per-stream sequence number and are
 *   either a whole snapshot or a delta against the previous one; at most 10 a second.
 */
import { z } from 'zod';
import { accountInfoSchema, conflictInfoSchema, entryInfoSchema, failureInfoSchema, trashInfoSchema } from './entries.js';
import type { ErrorShape } from './errors.js';
import { capabilitiesSchema } from './remote.js';
import { placementSchema } from './states.js';

export const CONTRACT_VERSION = 1;

/** A remote path as the contract carries it: '/' or '/a/b', no '..', no empty names. */
export const remotePathSchema = z
  .string()
  .max(4096)
  .refine((p) => p === '/' || (p.startsWith('/') && !p.endsWith('/') && p.split('/').slice(1).every((n) => n !== '' && n !== '.' && n !== '..' && !n.includes('\\') && !n.includes('\0'))), {
    message: 'not a remote path (a leading "/", no empty, "." or ".." names)',
  });

const empty = z.object({}).strict();
const ok = z.object({ done: z.literal(true) });

const syncStateSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('unconfigured') }),
  z.object({ state: z.literal('idle'), lastPassMs: z.number().nullable() }),
  z.object({ state: z.literal('syncing'), sinceMs: z.number() }),
  z.object({ state: z.literal('paused') }),
  z.object({ state: z.literal('offline'), sinceMs: z.number(), lastError: z.string(), nextTryMs: z.number() }),
  z.object({ state: z.literal('held'), reason: z.string(), message: z.string() }),
  z.object({ state: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type SyncState = z.infer<typeof syncStateSchema>;

export const syncStatusSchema = z.object({
  account: accountInfoSchema.nullable(),
  sync: syncStateSchema,
  lastPass: z
    .object({ finishedMs: z.number(), done: z.number(), failed: z.number(), conflicts: z.number(), bytesDown: z.number(), bytesUp: z.number(), held: z.string().nullable() })
    .nullable(),
  counts: z.record(z.string(), z.number()),
  /** Current throughput, bytes a second. */
  rateDown: z.number(),
  rateUp: z.number(),
});
export type SyncStatus = z.infer<typeof syncStatusSchema>;

const planPreviewSchema = z.object({
  actions: z.array(z.object({ type: z.string(), path: z.string(), from: z.string().optional() })),
  hold: z.object({ reason: z.string(), message: z.string(), affected: z.number(), synced: z.number() }).nullable(),
});

const subrequestSchema = z.object({
  index: z.number(),
  source: z.string(),
  start: z.number(),
  len: z.number(),
  transferred: z.number(),
  flags: z.number(),
  retryCount: z.number(),
  error: z.string().nullable(),
});
export const transferSchema = z.object({
  debugId: z.number(),
  origin: z.string(),
  path: z.string(),
  flags: z.number(),
  error: z.string().nullable(),
  startMs: z.number(),
  start: z.number(),
  submitted: z.number(),
  len: z.number(),
  transferred: z.number(),
  retries: z.number(),
  subrequests: z.array(subrequestSchema),
});
export type Transfer = z.infer<typeof transferSchema>;

const counterGroups = z.record(z.string(), z.record(z.string(), z.number()));
const netfsStatsSchema = z.record(z.string(), z.union([z.record(z.string(), z.number()), counterGroups]));

export const cacheObjectSchema = z.object({
  key: z.string(),
  objectSize: z.number(),
  content: z.enum(['NO_DATA', 'ALL', 'MAP']),
  extents: z.array(z.tuple([z.number(), z.number()])),
  storedBytes: z.number(),
  allocatedBytes: z.number(),
  atime: z.number(),
  inUse: z.boolean(),
  kept: z.boolean(),
  staging: z.boolean(),
  dirty: z.boolean(),
});
export type CacheObjectView = z.infer<typeof cacheObjectSchema>;

export const cacheSummarySchema = z.object({
  state: z.enum(['normal', 'culling', 'stopped', 'withdrawn']),
  withdrawn: z.object({ at: z.number(), code: z.string(), reason: z.string() }).nullable(),
  totals: z.object({ objects: z.number(), open: z.number(), kept: z.number(), allocatedBytes: z.number(), stagingBytes: z.number(), storedBytes: z.number() }),
  limit: z.object({ bytes: z.number(), usedBytes: z.number() }),
  thresholds: z.object({ brun: z.number(), bcull: z.number(), bstop: z.number(), frun: z.number(), fcull: z.number(), fstop: z.number() }),
  fs: z.record(z.string(), z.number()).nullable(),
  counters: counterGroups.or(z.record(z.string(), z.unknown())),
  recentCulls: z.array(z.object({ key: z.string(), bytes: z.number(), atMs: z.number().optional(), reason: z.string() }).passthrough()),
});
export type CacheSummary = z.infer<typeof cacheSummarySchema>;

const traceEventSchema = z.object({ seq: z.number(), timeMs: z.number() }).passthrough();

const settingsSchema = z.record(z.string(), z.number());

/** Every command: name -> request and result schemas. */
export const COMMANDS = {
  'account.get': { request: empty, result: accountInfoSchema.nullable() },
  'account.test': {
    request: z.object({ remote: z.string().min(1).max(2048), user: z.string().max(256).nullable(), password: z.string().max(4096).nullable() }).strict(),
    result: z.object({ capabilities: capabilitiesSchema }),
  },
  'account.add': {
    request: z
      .object({ remote: z.string().min(1).max(2048), user: z.string().max(256).nullable(), password: z.string().max(4096).nullable(), local: z.string().min(1).max(4096) })
      .strict(),
    result: accountInfoSchema,
  },
  'account.remove': { request: z.object({ confirm: z.literal(true) }).strict(), result: ok },

  'sync.status': { request: empty, result: syncStatusSchema },
  'sync.pause': { request: empty, result: ok },
  'sync.resume': { request: empty, result: ok },
  'sync.now': { request: empty, result: ok },
  'sync.preview': { request: empty, result: planPreviewSchema },
  'sync.confirm': { request: empty, result: ok },

  'files.list': { request: z.object({ path: remotePathSchema, recursive: z.boolean().default(false) }).strict(), result: z.array(entryInfoSchema) },
  'files.pin': { request: z.object({ path: remotePathSchema }).strict(), result: z.object({ path: z.string(), placement: placementSchema }) },
  'files.unpin': { request: z.object({ path: remotePathSchema }).strict(), result: z.object({ path: z.string(), placement: placementSchema }) },
  'files.open': { request: z.object({ path: remotePathSchema }).strict(), result: z.object({ localPath: z.string() }) },
  'files.preview': {
    request: z.object({ path: remotePathSchema, offset: z.number().int().nonnegative().default(0), length: z.number().int().positive().max(1024 * 1024).default(64 * 1024) }).strict(),
    result: z.object({ base64: z.string(), bytes: z.number(), size: z.number(), contentType: z.string().nullable() }),
  },

  'conflicts.list': { request: empty, result: z.array(conflictInfoSchema) },
  'conflicts.resolve': { request: z.object({ path: remotePathSchema, keep: z.enum(['ours', 'theirs', 'both']) }).strict(), result: ok },

  'failures.list': { request: empty, result: z.array(failureInfoSchema) },
  'failures.retry': { request: z.object({ path: remotePathSchema }).strict(), result: ok },

  'trash.list': { request: empty, result: z.array(trashInfoSchema) },
  'trash.restore': { request: z.object({ id: z.string().min(1).max(512) }).strict(), result: z.object({ restoredTo: z.string(), renamed: z.boolean(), message: z.string() }) },

  'cache.summary': { request: empty, result: cacheSummarySchema.nullable() },
  'cache.objects': { request: empty, result: z.array(cacheObjectSchema) },
  'cache.nextToCull': { request: z.object({ n: z.number().int().positive().max(1000).default(10) }).strict(), result: z.array(z.object({ key: z.string() }).passthrough()) },
  'cache.cullNow': { request: z.object({ targetBytes: z.number().int().nonnegative().optional() }).strict(), result: z.object({ culled: z.number() }) },
  'cache.setLimit': { request: z.object({ bytes: z.number().int().nonnegative() }).strict(), result: z.object({ bytes: z.number() }) },
  'cache.verify': { request: empty, result: z.object({ objects: z.number(), granules: z.number(), bad: z.array(z.object({ key: z.string(), reason: z.string() })), orphans: z.number() }) },

  'transfers.list': { request: empty, result: z.array(transferSchema) },

  'diagnostics.stats': { request: empty, result: z.object({ netfs: netfsStatsSchema, text: z.string() }) },
  'diagnostics.trace': { request: z.object({ sinceSeq: z.number().int().nonnegative().default(0) }).strict(), result: z.array(traceEventSchema) },
  'diagnostics.bundle': {
    request: z.object({ includePaths: z.boolean().default(false) }).strict(),
    result: z.object({ fileName: z.string(), json: z.string() }),
  },

  'settings.get': { request: empty, result: settingsSchema },
  'settings.set': { request: z.object({ key: z.string().min(1).max(64), value: z.number() }).strict(), result: settingsSchema },
} as const;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
export type CommandRequest<K extends CommandName> = z.input<(typeof COMMANDS)[K]['request']>;
export type CommandArgs<K extends CommandName> = z.output<(typeof COMMANDS)[K]['request']>;
export type CommandResult<K extends CommandName> = z.output<(typeof COMMANDS)[K]['result']>;

/** `{ok, value}` or `{ok: false, error}`: what every command answers, over every transport. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorShape };

const logLineSchema = z.object({ timeMs: z.number(), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), path: z.string().nullable() });

/** Every event stream: name -> schema of one update's data. */
export const EVENTS = {
  'sync.status': syncStatusSchema,
  transfers: z.object({ transfers: z.array(transferSchema), rateDown: z.number(), rateUp: z.number() }),
  retries: z.object({ failures: z.array(failureInfoSchema), requestRetries: z.array(z.object({ timeMs: z.number(), path: z.string(), waitMs: z.number(), reason: z.string() })) }),
  'cache.occupancy': z.object({ summary: cacheSummarySchema.nullable() }),
  log: z.object({ lines: z.array(logLineSchema) }),
} as const;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
export type EventData<K extends EventName> = z.output<(typeof EVENTS)[K]>;

/** One event update as it travels: a whole snapshot, numbered per stream. */
export interface EventUpdate<K extends EventName = EventName> {
  stream: K;
  seq: number;
  data: EventData<K>;
}

/** The most updates a stream sends per second (a test counts them). */
export const MAX_EVENTS_PER_SECOND = 10;
