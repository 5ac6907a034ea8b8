/**
 * conflicts.list | conflicts.resolve | failures.list | failures.retry | trash.list |
 * trash.restore | settings.get | settings.set — as the CLI's `conflicts`, `resolve`, `status`,
 * `trash` and `config` do them, then a pass is asked for so the change reaches the server.
 *
 *   resolve  ours: the copy takes the name back · theirs: the copy to the trash · both: keep both
 *   retry    the failure's backoff ends now (journal.retryNow) + a pass
 *   restore  by id or original path; never over an existing file (a restored-copy name instead)
 *   settings the checks of app/sync/settings.ts; cacheLimitBytes applies to the store at once
 */
import type { Handlers } from '../api/derive.js';
import { NetfsError } from '../api/errors.js';
import { resolveConflict } from '../sync/resolve-conflict.js';
import { DEFAULT_SETTINGS, checkSettingKey, checkSettingValue } from '../sync/settings.js';
import { applyCacheLimit } from './handlers-cache.js';
import { guardPath } from './path-guard.js';
import { needRun, type ServiceContext } from './service-context.js';

type JournalHandlers = Pick<
  Handlers,
  'conflicts.list' | 'conflicts.resolve' | 'failures.list' | 'failures.retry' | 'trash.list' | 'trash.restore' | 'settings.get' | 'settings.set'
>;

export function journalHandlers(ctx: ServiceContext): JournalHandlers {
  return {
    'conflicts.list': async () => ctx.current()?.session.journal.conflicts() ?? [],

    'conflicts.resolve': async ({ path, keep }) => {
      const run = needRun(ctx, 'conflicts.resolve');
      const s = run.session;
      await guardPath(s.root, path);
      const row = s.journal.conflicts().find((c) => c.path === path || c.copyPath === path);
      if (row !== undefined) {
        await guardPath(s.root, row.path);
        await guardPath(s.root, row.copyPath);
      }
      await resolveConflict(s, path, keep);
      run.requestPass();
      void run.refreshCounts();
      return { done: true as const };
    },

    'failures.list': async () => ctx.current()?.failures() ?? [],

    'failures.retry': async ({ path }) => {
      const run = needRun(ctx, 'failures.retry');
      await guardPath(run.session.root, path);
      if (run.session.journal.failure(path) === undefined) throw new NetfsError('NOT_FOUND', `no failure recorded for ${path}`);
      run.session.journal.retryNow(path);
      run.publishRetries();
      run.requestPass();
      return { done: true as const };
    },

    'trash.list': async () => {
      const run = ctx.current();
      if (run === null) return [];
      return (await run.session.trash.list()).map(({ fileName: _f, ...rest }) => rest);
    },

    'trash.restore': async ({ id }) => {
      const run = needRun(ctx, 'trash.restore');
      const s = run.session;
      if (id.startsWith('/')) await guardPath(s.root, id);
      const entry = s.journal.trashEntry(id);
      if (entry !== undefined) await guardPath(s.root, entry.originalPath);
      const r = await s.trash.restore(s.root, id, ctx.now().getTime());
      run.requestPass();
      void run.refreshCounts();
      return { restoredTo: r.restoredTo, renamed: r.renamed, message: r.message };
    },

    'settings.get': async () => ({ ...(ctx.current()?.session.journal.settings() ?? DEFAULT_SETTINGS) }),

    'settings.set': async ({ key, value }) => {
      const run = needRun(ctx, 'settings.set');
      const k = checkSettingKey(key);
      const v = checkSettingValue(k, value);
      if (k === 'cacheLimitBytes') await applyCacheLimit(run, v);
      else run.session.journal.setSetting(k, v);
      return { ...run.session.journal.settings() };
    },
  };
}
