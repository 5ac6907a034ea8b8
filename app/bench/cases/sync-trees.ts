/**
 * The sync rows that move a tree (sync issue item 11): a first `netfs-sync sync --once` of a
 * tree, down into an empty folder or up into an empty server folder, against `rclone copy`
 * (default flags, a config-less webdav remote) and, for small files down, curl 8 at a time.
 *
 *   small_down  5,000 × 4 KiB in folders of 500   (--quick: 500 in folders of 50)   rclone, curl
 *   small_up    the same, uploaded                                                   rclone
 *   mib_down    200 × 1 MiB in folders of 50      (--quick: 50)                      rclone
 *   upload_1g   one 1 GiB file                    (--quick: 256 MiB)                 rclone
 *
 *   setup (untimed)  the tree in Apache's data folder (down) or in scratch (up), its check
 *                    (paths, sizes, CRC32s; reading it also warms the page cache)
 *   round r          ours: fresh state + empty target, init, then `sync --once` timed in-process
 *                    (ours-cli.js: durable, fsync included) | rclone copy | curl --parallel 8
 *                    each output checked against the source tree, then removed
 *
 * rclone's small-file runs are bound by its pacer (about 10 ms between calls: ~54 s down and
 * ~160 s up for 5,000 files) and are the same every time: they run in round 1 only.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runChild } from '../child.js';
import { writeRandomFile } from '../files.js';
import { makeRow } from '../report.js';
import {
  Best, curlParallel, freshDir, KiB, MiB, rcloneFromEnv, runSyncOnce, sameTree, type TreeCheck, treeCheck, type TreeSpec, writeTree,
} from '../sync-bench.js';
import type { BenchCase, BenchContext, CaseResult, PeerName } from '../types.js';

interface TreeCase {
  name: string;
  direction: 'down' | 'up';
  spec(quick: boolean): TreeSpec;
  peers: PeerName[];
  /** Peers run in round 1 only (pacer-bound, slow and steady). */
  oncePeers?: PeerName[];
}

/** Writes the tree: small files in batches, a big file in chunks (never whole in memory). */
async function makeTree(root: string, spec: TreeSpec): Promise<void> {
  if (spec.size <= 8 * MiB) return writeTree(root, spec);
  for (let i = 0; i < spec.files; i++) {
    const dir = join(root, `d${Math.floor(i / spec.perFolder)}`);
    await mkdir(dir, { recursive: true });
    await writeRandomFile(join(dir, `f${i}.bin`), spec.size);
  }
}

function treeCase(c: TreeCase): BenchCase {
  return {
    name: c.name,
    async run(ctx: BenchContext): Promise<CaseResult> {
      const spec = c.spec(ctx.quick);
      const work = join(ctx.scratch, c.name);
      const state = join(work, 'state');
      const failures: string[] = [];
      const best = new Best();
      let peakRss: number | null = null;
      const fail = (side: string, round: number, why: string): void => {
        failures.push(`${c.name} ${side} (round ${round}): ${why}`);
        ctx.log(`${c.name} round ${round}: ${side} FAILED: ${why}`);
      };
      // down: the source lives on the server, outputs in scratch; up: the other way round.
      const serverSource = `${c.name}_src`;
      const localSource = join(work, 'src');
      const out = join(work, 'out');
      const createdOnServer: string[] = [serverSource];

      try {
        await freshDir(work);
        await mkdir(join(work, 'home'), { mode: 0o700 });
        ctx.log(`${c.name}: writing ${spec.files} files of ${spec.size / KiB} KiB`);
        const sourceRoot = c.direction === 'down' ? ctx.server.pathOf(serverSource) : localSource;
        await makeTree(sourceRoot, spec);
        if (c.direction === 'down') await ctx.server.fixOwnership();
        const want: TreeCheck = await treeCheck(sourceRoot);
        if (want.size !== spec.files) throw new Error(`the source tree has ${want.size} files, expected ${spec.files}`);
        const rclone = rcloneFromEnv(ctx.server, join(work, 'home'));

        /** Prepares an empty target for one side; returns [local folder, server folder, where to check]. */
        const target = async (side: string): Promise<{ local: string; remote: string; check: string }> => {
          if (c.direction === 'down') {
            await freshDir(out);
            return { local: out, remote: serverSource, check: side === 'curl' ? join(out, serverSource) : out };
          }
          const remote = `${c.name}_${side}`;
          if (!createdOnServer.includes(remote)) createdOnServer.push(remote);
          await rm(ctx.server.pathOf(remote), { recursive: true, force: true });
          await ctx.server.mkdir(remote);
          await rm(out, { recursive: true, force: true });
          // The sync folder starts as a hard-linked copy of the source (untimed; no bytes copied).
          const copy = await runChild({ command: 'cp', args: ['-al', localSource, out] });
          if (copy.code !== 0) throw new Error(`cp -al: ${describeFailure(copy)}`);
          return { local: out, remote, check: ctx.server.pathOf(remote) };
        };

        for (let round = 1; round <= ctx.repeats; round++) {
          await ctx.checkQuiet(`${c.name} before round ${round}`);
          // ours
          {
            const t = await target('ours');
            await rm(state, { recursive: true, force: true });
            const ours = await runSyncOnce(ctx, { state, local: t.local, remotePath: `${t.remote}/`, init: true });
            const failure = ours.failure ?? sameTree(await treeCheck(t.check), want);
            if (failure === null && ours.report !== null) {
              best.keep('ours', ours.report.seconds);
              peakRss = Math.max(peakRss ?? 0, ours.report.peak_rss_mb);
              const rate = spec.files / ours.report.seconds;
              ctx.log(`${c.name} round ${round}: ours ${ours.report.seconds.toFixed(3)} s (${rate.toFixed(0)} files/s; process ${ours.child.wallS.toFixed(3)} s), peak RSS ${ours.report.peak_rss_mb} MB, cpu ${JSON.stringify(ours.report['cpu_s'])}`);
            } else {
              fail('ours', round, failure ?? 'no report');
            }
          }
          for (const peer of c.peers) {
            if (round > 1 && (c.oncePeers ?? []).includes(peer)) continue;
            const t = await target(peer);
            let r;
            if (peer === 'curl') {
              r = await curlParallel(ctx.server, join(work, 'home'), [...want.keys()].map((k) => `${serverSource}/${k}`), out);
            } else if (c.direction === 'down') {
              r = await rclone.run(['copy', `bench:${t.remote}`, t.local]);
            } else {
              r = await rclone.run(['copy', localSource, `bench:${t.remote}`]);
            }
            const failure = r.code === 0 ? sameTree(await treeCheck(t.check), want) : describeFailure(r);
            if (failure === null) {
              best.keep(peer, r.wallS);
              ctx.log(`${c.name} round ${round}: ${peer} ${r.wallS.toFixed(3)} s (${(spec.files / r.wallS).toFixed(0)} files/s)`);
            } else {
              fail(peer, round, failure);
            }
          }
        }
      } catch (e) {
        failures.push(`${c.name}: ${(e as Error).message}`);
        ctx.log(`${c.name}: FAILED: ${(e as Error).stack ?? String(e)}`);
      } finally {
        await rm(work, { recursive: true, force: true });
        for (const r of createdOnServer) await rm(ctx.server.pathOf(r), { recursive: true, force: true });
      }
      const bytes = spec.files * spec.size;
      return { rows: c.peers.map((p) => makeRow(c.name, bytes, spec.files, best.get('ours'), p, best.get(p), peakRss)), failures };
    },
  };
}

export const smallDownCase = treeCase({
  name: 'small_down',
  direction: 'down',
  spec: (quick) => ({ files: quick ? 500 : 5000, perFolder: quick ? 50 : 500, size: 4 * KiB }),
  peers: ['rclone', 'curl'],
  oncePeers: ['rclone'],
});

export const smallUpCase = treeCase({
  name: 'small_up',
  direction: 'up',
  spec: (quick) => ({ files: quick ? 500 : 5000, perFolder: quick ? 50 : 500, size: 4 * KiB }),
  peers: ['rclone'],
  oncePeers: ['rclone'],
});

export const mibDownCase = treeCase({
  name: 'mib_down',
  direction: 'down',
  spec: (quick) => ({ files: quick ? 50 : 200, perFolder: 50, size: MiB }),
  peers: ['rclone'],
});

export const upload1gCase = treeCase({
  name: 'upload_1g',
  direction: 'up',
  spec: (quick) => ({ files: 1, perFolder: 1, size: (quick ? 256 : 1024) * MiB }),
  peers: ['rclone'],
});
