/**
 * cache.summary | cache.objects | cache.nextToCull | cache.cullNow | cache.setLimit |
 * cache.verify | transfers.list — the engine's own store (this process holds the engine lock),
 * as `netfs-sync cache ls|verify|cull` and `stats` show it.
 *
 *   setLimit(0) = back to the default (the smaller of 10 GiB and 10 % of the cache's
 *   filesystem), as the setting cacheLimitBytes = 0 means; the setting is kept in the journal
 *   so the next start uses it too.
 */
import { statfs } from 'node:fs/promises';
import type { Handlers } from '../api/derive.js';
import { NetfsError } from '../api/errors.js';
import { defaultLimit } from '../cache/space.js';
import type { CacheStore } from '../cache/store.js';
import type { EngineRun } from './engine-run.js';
import { cacheSummary } from './cache-view.js';
import { needRun, type ServiceContext } from './service-context.js';

type CacheHandlers = Pick<Handlers, 'cache.summary' | 'cache.objects' | 'cache.nextToCull' | 'cache.cullNow' | 'cache.setLimit' | 'cache.verify' | 'transfers.list'>;

function needStore(ctx: ServiceContext, what: string): { run: EngineRun; store: CacheStore } {
  const run = needRun(ctx, what);
  const store = run.session.cache;
  if (store === null) throw new NetfsError('IO', `${what}: the cache is not open`);
  return { run, store };
}

/** Sets the user limit (0: the default) on the store now and in the journal; returns the limit in force. */
export async function applyCacheLimit(run: EngineRun, bytes: number): Promise<number> {
  const store = run.session.cache;
  let limit = bytes;
  if (bytes === 0) {
    const fs = await statfs(run.session.state.cacheDir);
    limit = defaultLimit({ bsize: fs.bsize, blocks: fs.blocks, bavail: fs.bavail, files: fs.files, ffree: fs.ffree });
  }
  if (store !== null) await store.setLimit(limit);
  run.session.journal.setSetting('cacheLimitBytes', bytes);
  await run.publishCache();
  return limit;
}

export function cacheHandlers(ctx: ServiceContext): CacheHandlers {
  return {
    'cache.summary': async () => {
      const store = ctx.current()?.session.cache ?? null;
      return store === null ? null : cacheSummary(await store.inspect());
    },
    'cache.objects': async () => ctx.current()?.session.cache?.listObjects() ?? [],
    'cache.nextToCull': async ({ n }) => (ctx.current()?.session.cache?.cullCandidates(n) ?? []).map((c) => ({ ...c })),
    'cache.cullNow': async ({ targetBytes }) => {
      const { run, store } = needStore(ctx, 'cache.cullNow');
      const culled = await store.cullNow(targetBytes);
      await run.publishCache();
      return { culled };
    },
    'cache.setLimit': async ({ bytes }) => {
      const { run } = needStore(ctx, 'cache.setLimit');
      return { bytes: await applyCacheLimit(run, bytes) };
    },
    'cache.verify': async () => {
      const { run, store } = needStore(ctx, 'cache.verify');
      const report = await store.verify();
      await run.publishCache();
      return report;
    },
    'transfers.list': async () => ctx.current()?.session.engine.requests() ?? [],
  };
}
