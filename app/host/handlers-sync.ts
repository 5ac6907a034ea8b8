/**
 * sync.status | sync.pause | sync.resume | sync.now | sync.preview | sync.confirm
 *
 *   pause     the loop stops starting passes; the running one is cancelled (what finished stays)
 *   now       asks the loop for a pass (right after the running one, if any)
 *   preview   a dry-run pass: the plan and whether it would be held (`sync --dry-run`)
 *   confirm   a held plan carried out (`sync --yes`): one confirmed pass while the loop waits
 */
import type { Handlers } from '../api/derive.js';
import { NetfsError } from '../api/errors.js';
import type { Action } from '../sync/model.js';
import { needRun, type ServiceContext } from './service-context.js';
import { UNCONFIGURED } from './status.js';

type SyncHandlers = Pick<Handlers, 'sync.status' | 'sync.pause' | 'sync.resume' | 'sync.now' | 'sync.preview' | 'sync.confirm'>;

const done = { done: true as const };

function actionView(a: Action): { type: string; path: string; from?: string } {
  return a.type === 'move-remote' || a.type === 'move-local' ? { type: a.type, path: a.path, from: a.from } : { type: a.type, path: a.path };
}

export function syncHandlers(ctx: ServiceContext): SyncHandlers {
  return {
    'sync.status': async () => ctx.current()?.status() ?? UNCONFIGURED,
    'sync.pause': async () => {
      needRun(ctx, 'sync.pause').pause();
      return done;
    },
    'sync.resume': async () => {
      needRun(ctx, 'sync.resume').resume();
      return done;
    },
    'sync.now': async () => {
      const run = needRun(ctx, 'sync.now');
      if (run.paused) throw new NetfsError('CONFLICT', 'sync is paused: resume it first');
      run.requestPass();
      return done;
    },
    'sync.preview': async () => {
      const run = needRun(ctx, 'sync.preview');
      const report = await run.session.pass({ confirmed: false, dryRun: true });
      const hold = report.held ?? report.plan.hold;
      return {
        actions: report.plan.actions.map(actionView),
        hold: hold === null ? null : { reason: hold.reason, message: hold.message, affected: hold.affected, synced: hold.synced },
      };
    },
    'sync.confirm': async () => {
      const run = needRun(ctx, 'sync.confirm');
      const report = await run.exclusive(() => run.session.pass({ confirmed: true, dryRun: false }));
      if (report.held !== null) throw new NetfsError('CONFLICT', `the plan is still held: ${report.held.message}`);
      void run.refreshCounts();
      return done;
    },
  };
}
