/**
 * noop_resync (sync issue item 11): `netfs-sync sync --once` on a folder already in sync with a
 * 50,000-entry tree in 500 folders (--quick: 5,000 in 50), against `rclone lsf -R` of the same
 * server folder (peer rclone). Target: at least 3x faster than rclone, peak RSS under 300 MB.
 *
 *   setup (untimed)  Apache's data folder: T top folders, each with 24 sub-folders, 99 files of a
 *                    few bytes in every folder (T = 20: 500 folders + 49,500 files = 50,000
 *                    entries), mtimes an hour back (strong ETags); then a first `sync --once`
 *                    into an empty folder, checked file by file
 *   round r          ours: `sync --once` with the same state (timed in-process: session open,
 *                    local scan + remote discovery, journal compare, plan, close); the requests
 *                    Apache logged between two HEAD fences of our own must be PROPFINDs only (L2:
 *                    no GET, no PUT) and the exit code 0
 *                    rclone: `rclone lsf -R bench:<folder> | wc -l`, which must count 50,000
 */
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runChild } from '../child.js';
import { makeRow } from '../report.js';
import { Best, freshDir, rcloneFromEnv, runSyncOnce, sameTree, serverFence, treeCheck } from '../sync-bench.js';
import type { BenchCase, BenchContext, CaseResult } from '../types.js';

const NAME = 'noop_resync';
const SUBS = 24;
const FILES_PER_FOLDER = 99;
const OLD = new Date(Date.now() - 3_600_000);

/** The tree of the header; returns the number of entries (folders + files) below `root`. */
async function writeListingTree(root: string, tops: number): Promise<number> {
  let entries = 0;
  const pending: Promise<void>[] = [];
  for (let t = 0; t < tops; t++) {
    for (let s = -1; s < SUBS; s++) {
      const dir = s < 0 ? join(root, `top-${t}`) : join(root, `top-${t}`, `sub-${s}`);
      await mkdir(dir, { recursive: true });
      entries++;
      for (let f = 0; f < FILES_PER_FOLDER; f++) {
        const file = join(dir, `file-${f}.txt`);
        pending.push(writeFile(file, `t${t} s${s} f${f}\n`).then(() => utimes(file, OLD, OLD)));
        entries++;
      }
      if (pending.length >= 1000) await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
  return entries;
}

export const noopResyncCase: BenchCase = {
  name: NAME,
  async run(ctx: BenchContext): Promise<CaseResult> {
    const tops = ctx.quick ? 2 : 20;
    const folder = `${NAME}_src`;
    const source = ctx.server.pathOf(folder);
    const work = join(ctx.scratch, NAME);
    const state = join(work, 'state');
    const local = join(work, 'local');
    const failures: string[] = [];
    const best = new Best();
    let peakRss: number | null = null;
    let entries = 0;
    const fail = (side: string, round: number, why: string): void => {
      failures.push(`${NAME} ${side} (round ${round}): ${why}`);
      ctx.log(`${NAME} round ${round}: ${side} FAILED: ${why}`);
    };

    try {
      await freshDir(work);
      await mkdir(join(work, 'home'), { mode: 0o700 });
      entries = await writeListingTree(source, tops);
      await ctx.server.fixOwnership();
      const rclone = rcloneFromEnv(ctx.server, join(work, 'home'));
      ctx.log(`${NAME}: ${entries} entries on the server; first sync (untimed)`);
      const first = await runSyncOnce(ctx, { state, local, remotePath: `${folder}/`, init: true });
      const firstFailure = first.failure ?? sameTree(await treeCheck(local), await treeCheck(source));
      if (firstFailure !== null) throw new Error(`the first sync failed: ${firstFailure}`);
      const files = tops * (SUBS + 1) * FILES_PER_FOLDER;
      ctx.log(`${NAME}: first sync of ${files} files in ${first.report?.seconds} s (${(files / (first.report?.seconds ?? 1)).toFixed(0)} files/s)`);

      for (let round = 1; round <= ctx.repeats; round++) {
        await ctx.checkQuiet(`${NAME} before round ${round}`);
        const mark = (await serverFence(ctx.server)).length;
        const ours = await runSyncOnce(ctx, { state, local, remotePath: `${folder}/`, init: false });
        const during = (await serverFence(ctx.server)).slice(mark, -1);
        const propfinds = during.filter((e) => e.method === 'PROPFIND').length;
        const others = during.filter((e) => e.method !== 'PROPFIND' && e.method !== 'OPTIONS');
        let failure = ours.failure;
        if (failure === null && others.length > 0) {
          failure = `a no-op resync sent ${others.length} other requests (${others.slice(0, 3).map((e) => `${e.method} ${e.target}`).join(', ')})`;
        }
        if (failure === null && ours.report !== null) {
          best.keep('ours', ours.report.seconds);
          peakRss = Math.max(peakRss ?? 0, ours.report.peak_rss_mb);
          ctx.log(`${NAME} round ${round}: ours ${ours.report.seconds.toFixed(3)} s (process ${ours.child.wallS.toFixed(3)} s), ${propfinds} PROPFINDs, peak RSS ${ours.report.peak_rss_mb} MB, cpu ${JSON.stringify(ours.report['cpu_s'])}`);
        } else {
          fail('ours', round, failure ?? 'no report');
        }

        const r = await runChild({
          command: '/bin/bash',
          args: ['-c', 'set -o pipefail; /usr/bin/rclone lsf -R "$1" | wc -l', 'lsf', `bench:${folder}`],
          env: rclone.env,
        });
        const listed = Number(r.stdout.trim());
        const peerFailure = r.code !== 0 ? describeFailure(r) : listed !== entries ? `rclone lsf -R listed ${listed} entries, expected ${entries}` : null;
        if (peerFailure === null) {
          best.keep('rclone', r.wallS);
          ctx.log(`${NAME} round ${round}: rclone lsf -R ${r.wallS.toFixed(3)} s (${listed} entries)`);
        } else {
          fail('rclone', round, peerFailure);
        }
      }
    } catch (e) {
      failures.push(`${NAME}: ${(e as Error).message}`);
      ctx.log(`${NAME}: FAILED: ${(e as Error).stack ?? String(e)}`);
    } finally {
      await rm(work, { recursive: true, force: true });
      await rm(source, { recursive: true, force: true });
    }
    return { rows: [makeRow(NAME, 0, entries, best.get('ours'), 'rclone', best.get('rclone'), peakRss)], failures };
  },
};
