/**
 * netfs-sync stats --state DIR [--json]                 netfs and FS-Cache counters (stats.json)
 * netfs-sync cache ls|verify|cull --state DIR [--json]
 *
 *   stats, cache ls   read what the engine process wrote and the cache index: beside a
 *                     running engine or with none
 *   cache verify      re-reads every granule against its CRC, drops bad objects
 *   cache cull        culls down to the user limit now (or everything not in use: --all)
 *                     verify and cull open the store, so they take the engine lock
 */
import type { Command } from 'commander';
import { readCacheObjects } from '../../cache/index-reader.js';
import { CacheStore } from '../../cache/store.js';
import { EngineLock } from '../../sync/lock.js';
import { openStateFolder } from '../../sync/state-folder.js';
import { loadStats } from '../../sync/stats-file.js';
import { oneOf } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { printJson, type CliIo } from '../io.js';
import { formatBytes } from '../progress.js';

type Exit = (code: number) => void;

export function registerCacheStats(program: Command, io: CliIo, exit: Exit): void {
  program
    .command('stats')
    .description('the netfs engine and FS-Cache counters (from the running engine, or its last run)')
    .requiredOption('--state <dir>', 'state folder')
    .option('--json', 'print JSON')
    .action(async (o: { state: string; json?: boolean }) => {
      const state = await openStateFolder(o.state);
      const snap = await loadStats(state.dir);
      const holder = EngineLock.holder(state.dir);
      if (o.json === true) {
        printJson(io, { engine: holder === null ? null : { pid: holder.pid }, snapshot: snap });
      } else if (snap === null) {
        io.out('no statistics yet: the engine has not run for this state folder\n');
      } else {
        const live = holder !== null && holder.pid === snap.pid;
        io.out(`${live ? `engine running (pid ${snap.pid})` : 'engine not running'}; counters as of ${new Date(snap.writtenMs).toISOString()}\n`);
        io.out(`${snap.netfsText}\n`);
        if (snap.cache !== null) {
          const c = snap.cache;
          io.out(`Cache  : state=${c.state} objects=${c.totals.objects} stored=${formatBytes(c.totals.storedBytes)} limit=${formatBytes(c.limit.bytes)} used=${formatBytes(c.limit.usedBytes)}\n`);
        }
      }
      exit(EXIT.OK);
    });

  program
    .command('cache <action>')
    .description('ls: cached files and their extents; verify: check every checksum; cull: free space down to the limit')
    .requiredOption('--state <dir>', 'state folder')
    .option('--json', 'print JSON')
    .option('--all', 'cull: remove every object not in use')
    .action(async (action: string, o: { state: string; json?: boolean; all?: boolean }) => {
      const which = oneOf('cache action', action, ['ls', 'verify', 'cull'] as const);
      const state = await openStateFolder(o.state);
      if (which === 'ls') {
        const objects = readCacheObjects(state.cacheDir, state.account.id).sort((a, b) => (a.key < b.key ? -1 : 1));
        const snap = await loadStats(state.dir);
        if (o.json === true) printJson(io, { state: snap?.cache ?? null, objects });
        else {
          if (snap?.cache != null) {
            const c = snap.cache;
            io.out(`cache ${c.state}: ${formatBytes(c.limit.usedBytes)} of ${formatBytes(c.limit.bytes)} limit; thresholds run ${c.thresholds.brun}% cull ${c.thresholds.bcull}% stop ${c.thresholds.bstop}%\n`);
          }
          for (const obj of objects) {
            const ranges = obj.extents.map(([s, e]) => `${s}-${e}`).join(',') || '-';
            const flags = [obj.staging ? 'staging' : '', obj.dirty ? 'dirty' : ''].filter((f) => f !== '').join(',');
            io.out(`${formatBytes(obj.storedBytes).padStart(9)} of ${formatBytes(obj.objectSize).padEnd(9)} ${obj.content.padEnd(7)} ${obj.key}  [${ranges}]${flags === '' ? '' : ` ${flags}`}\n`);
          }
        }
        exit(EXIT.OK);
        return;
      }
      const lock = EngineLock.acquire(state.dir);
      try {
        const store = await CacheStore.open(state.cacheDir, { volume: state.account.id });
        try {
          if (which === 'verify') {
            const report = await store.verify();
            if (o.json === true) printJson(io, report);
            else {
              io.out(`verified ${report.objects} objects, ${report.granules} granules: ${report.bad.length} bad, ${report.orphans} orphan file(s) removed\n`);
              for (const p of report.bad) io.out(`  ${p.key}: ${p.reason} (dropped)\n`);
            }
            exit(report.bad.length === 0 ? EXIT.OK : EXIT.ITEMS_FAILED);
          } else {
            const before = (await store.inspect()).totals.allocatedBytes;
            const culled = await store.cullNow(o.all === true ? 0 : undefined);
            const after = (await store.inspect()).totals.allocatedBytes;
            if (o.json === true) printJson(io, { culled, freedBytes: before - after });
            else io.out(`culled ${culled} object(s), freed ${formatBytes(Math.max(0, before - after))}\n`);
            exit(EXIT.OK);
          }
        } finally {
          await store.close();
        }
      } finally {
        lock.release();
      }
    });
}
