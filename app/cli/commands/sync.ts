/**
 * netfs-sync sync --state DIR [--once] [--yes] [--dry-run]
 *
 *   --dry-run   plan only: print it, change nothing (exit 4 when it would be held)
 *   --once      passes until nothing is left that a pass can do (at most 5), then exit:
 *               0 in sync · 3 unreachable · 4 held (needs --yes) · 5 items failed or wait
 *   (neither)   keep watching (SyncLoop) until SIGINT/SIGTERM; stops within 30 s
 */
import type { Command } from 'commander';
import { isNetfsError } from '../../api/errors.js';
import type { Action } from '../../sync/model.js';
import type { PassReport } from '../../sync/pass.js';
import { IgnoreRules } from '../../sync/ignore.js';
import { recordPending } from '../../sync/pending.js';
import { SyncSession } from '../../sync/session.js';
import { SyncLoop } from '../../sync/sync-loop.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { progressReporter } from '../progress.js';

interface SyncOptions {
  state: string;
  once?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

const MAX_ONCE_PASSES = 5;

export function describeAction(a: Action): string {
  switch (a.type) {
    case 'move-remote':
    case 'move-local':
      return `${a.type} ${a.from} -> ${a.path}`;
    default:
      return `${a.type} ${a.path}`;
  }
}

function printHeld(io: CliIo, report: PassReport): void {
  if (report.held === null) return;
  io.err(`netfs-sync: plan held: ${report.held.message}\n`);
  io.err(`netfs-sync: nothing was deleted or replaced; run "netfs-sync sync --yes" to carry it out, or "--dry-run" to see it\n`);
}

function printProblems(io: CliIo, report: PassReport): void {
  for (const f of report.remoteFailures) io.err(`netfs-sync: server folder ${f.path} skipped: ${f.message}\n`);
  for (const p of report.remoteProblems) io.err(`netfs-sync: server entry ${p.path ?? p.href} left alone: ${p.message}\n`);
  for (const p of report.localProblems) io.err(`netfs-sync: local ${p.path} left alone: ${p.message}\n`);
}

export function registerSync(program: Command, io: CliIo, exit: (code: number) => void): void {
  program
    .command('sync')
    .description('sync the local folder and the remote both ways (keeps watching unless --once)')
    .requiredOption('--state <dir>', 'state folder')
    .option('--once', 'one full pass, then exit')
    .option('--yes', 'carry out a plan that was held because it deletes or replaces many files')
    .option('--dry-run', 'print the plan and change nothing')
    .action(async (o: SyncOptions) => {
      const session = await SyncSession.open(o.state, { engine: true });
      try {
        if (o.dryRun === true) {
          const report = await session.pass({ confirmed: o.yes === true, dryRun: true });
          for (const a of report.plan.actions) io.out(`${describeAction(a)}\n`);
          if (report.plan.actions.length === 0) io.out('nothing to do\n');
          printProblems(io, report);
          printHeld(io, report);
          exit(report.held !== null ? EXIT.HELD : EXIT.OK);
          return;
        }
        if (o.once === true) {
          exit(await syncOnce(session, io, o.yes === true));
          return;
        }
        exit(await syncForever(session, io, o.yes === true));
      } finally {
        await session.close();
      }
    });
}

async function syncOnce(session: SyncSession, io: CliIo, confirmed: boolean): Promise<number> {
  const progress = progressReporter(io, session.engine);
  // SIGINT/SIGTERM: transfers under way finish and are recorded (so no answer is lost and no
  // conflict copy of our own upload follows), nothing new starts; after 25 s they are cancelled.
  const controller = new AbortController();
  const draining = new AbortController();
  let hardStop: NodeJS.Timeout | undefined;
  const onSignal = (): void => {
    if (draining.signal.aborted) {
      controller.abort(new Error('interrupted'));
      return;
    }
    draining.abort(new Error('stopping'));
    hardStop = setTimeout(() => controller.abort(new Error('interrupted')), 25_000);
    hardStop.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let report: PassReport | null = null;
    const conflicts: { path: string; copyPath: string }[] = [];
    for (let i = 0; i < MAX_ONCE_PASSES; i++) {
      try {
        report = await session.pass({ confirmed, dryRun: false, signal: controller.signal, draining: draining.signal });
      } catch (e) {
        if (isNetfsError(e) && e.code === 'UNREACHABLE') {
          const pending = await recordPending(session.journal, session.root, await IgnoreRules.load(session.root));
          io.err(`netfs-sync: offline: ${e.message}\n`);
          if (pending.length > 0) io.err(`netfs-sync: ${pending.length} local change(s) pending until the server is back: ${pending.slice(0, 5).join(', ')}${pending.length > 5 ? ', …' : ''}\n`);
          return EXIT.UNREACHABLE;
        }
        throw e;
      }
      printProblems(io, report);
      if (report.held !== null) {
        printHeld(io, report);
        return EXIT.HELD;
      }
      const r = report.result;
      conflicts.push(...(r?.conflicts ?? []));
      if (draining.signal.aborted) break;
      // Another pass only when this one left something a pass can still do: steps skipped
      // because a side changed meanwhile (F12), or conflict copies just made.
      if (r === null || (r.skipped === 0 && r.conflicts.length === 0)) break;
    }
    progress.finish();
    const failures = session.journal.failures();
    // A folder the server would not list was left alone on both sides: not in sync (F4).
    const skippedFolders = report?.remoteFailures.length ?? 0;
    for (const c of conflicts) io.err(`netfs-sync: conflict: ${c.path} changed on both sides; ours kept as ${c.copyPath}\n`);
    if (failures.length > 0) {
      for (const f of failures) {
        const when = f.nextRetryMs > Date.now() ? `next try ${new Date(f.nextRetryMs).toISOString()}` : 'next pass';
        io.err(`netfs-sync: ${f.path}: ${f.code}: ${f.message} (attempt ${f.attempts}, ${when})\n`);
      }
      return EXIT.ITEMS_FAILED;
    }
    if (skippedFolders > 0) return EXIT.ITEMS_FAILED;
    return EXIT.OK;
  } finally {
    clearTimeout(hardStop);
    progress.finish();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function syncForever(session: SyncSession, io: CliIo, confirmed: boolean): Promise<number> {
  const loop = new SyncLoop(session, { confirmed });
  const progress = progressReporter(io, session.engine);
  loop.on('status', (s) => {
    if (s.state === 'offline') io.err(`netfs-sync: offline since ${new Date(s.sinceMs).toISOString()}: ${s.lastError}\n`);
    if (s.state === 'held') io.err(`netfs-sync: plan held: ${s.message} (restart with --yes to carry it out)\n`);
    if (s.state === 'error') io.err(`netfs-sync: pass failed: ${s.message}\n`);
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      void loop.stop(30_000).then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void loop.start();
  });
  progress.finish();
  return EXIT.OK;
}
