/**
 * download_1g: one big file (1 GiB; 256 MiB with --quick) from Apache into a file on the same
 * disk, by the engine (ours-download.js, durable: fsync included) against `rclone copy` and
 * one `curl` GET. Each side runs in its own process, one after the other, `repeats` rounds
 * (ours, rclone, curl, ours, …), best time kept; every output is checked (size and CRC32
 * against the source, untimed) and deleted before the next run.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runChild } from '../child.js';
import { checkFile, type FileCheck, verifyCopy, warmPageCache, writeRandomFile } from '../files.js';
import { runOurs } from '../ours.js';
import { makePeer, type Peer } from '../peers.js';
import { makeRow } from '../report.js';
import type { BenchCase, BenchContext, CaseResult, PeerName } from '../types.js';
import { diagnoseDownload } from './download-diagnose.js';

const MiB = 1024 * 1024;
const NAME = 'download_1g';
const PEERS: PeerName[] = ['rclone', 'curl'];

/** Empties the output folder and lets the disk settle (untimed), so no run pays for the last. */
async function freshOutDir(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await runChild({ command: 'sync', args: ['-f', outDir] });
}

export async function runOursOnce(ctx: BenchContext, remote: string, target: string, args: string[] = [], nodeArgs: string[] = []) {
  return runOurs(ctx, { script: 'ours-download.js', args: ['--path', `/${remote}`, '--target', target, ...args], nodeArgs });
}

export const downloadCase: BenchCase = {
  name: NAME,
  async run(ctx: BenchContext): Promise<CaseResult> {
    const size = (ctx.quick ? 256 : 1024) * MiB;
    const remote = `${NAME}.bin`;
    const source = ctx.server.pathOf(remote);
    const outDir = join(ctx.scratch, NAME);
    const target = join(outDir, remote);
    const failures: string[] = [];
    const best = new Map<string, number>();
    let peakRss: number | null = null;
    const keep = (side: string, s: number): void => {
      best.set(side, Math.min(best.get(side) ?? Infinity, s));
    };

    try {
      ctx.log(`${NAME}: writing a ${size / MiB} MiB test file into Apache's data folder`);
      await writeRandomFile(source, size);
      await ctx.server.fixOwnership();
      const sourceCheck: FileCheck = await checkFile(source);
      await warmPageCache(source);
      const configDir = join(ctx.scratch, 'config');
      await mkdir(configDir, { recursive: true, mode: 0o700 });
      const peers: Peer[] = [];
      for (const name of PEERS) peers.push(await makePeer(name, ctx.server, configDir));

      for (let round = 1; round <= ctx.repeats; round++) {
        await freshOutDir(outDir);
        await ctx.checkQuiet(`${NAME} before round ${round}`);
        const ours = await runOursOnce(ctx, remote, target);
        let failure = ours.failure;
        if (failure === null && ours.report?.bytes !== size) failure = `reported ${ours.report?.bytes} bytes, expected ${size}`;
        failure ??= await verifyCopy(target, sourceCheck);
        if (failure === null && ours.report !== null) {
          keep('ours', ours.report.seconds);
          peakRss = Math.max(peakRss ?? 0, ours.report.peak_rss_mb);
          ctx.log(`${NAME} round ${round}: ours ${ours.report.seconds.toFixed(3)} s (process ${ours.child.wallS.toFixed(3)} s), peak RSS ${ours.report.peak_rss_mb} MB, cpu ${JSON.stringify(ours.report['cpu_s'])}, downOps ${JSON.stringify((ours.report['stats'] as { downOps?: unknown } | undefined)?.downOps)}`);
        } else {
          failures.push(`${NAME} ours (round ${round}): ${failure}`);
          ctx.log(`${NAME} round ${round}: ours FAILED: ${failure}`);
        }

        for (const peer of peers) {
          await freshOutDir(outDir);
          const r = await peer.download(remote, outDir);
          const failure = r.code === 0 ? await verifyCopy(target, sourceCheck) : describeFailure(r);
          if (failure === null) {
            keep(peer.name, r.wallS);
            ctx.log(`${NAME} round ${round}: ${peer.name} ${r.wallS.toFixed(3)} s`);
          } else {
            failures.push(`${NAME} ${peer.name} (round ${round}): ${failure}`);
            ctx.log(`${NAME} round ${round}: ${peer.name} FAILED: ${failure}`);
          }
        }
      }

      if (ctx.diagnose) {
        await freshOutDir(outDir);
        await diagnoseDownload(ctx, { remote, target, size, sourceCheck, fresh: () => freshOutDir(outDir) });
      }
    } catch (e) {
      failures.push(`${NAME}: ${(e as Error).message}`);
      ctx.log(`${NAME}: FAILED: ${(e as Error).stack ?? String(e)}`);
    } finally {
      await rm(outDir, { recursive: true, force: true });
      await rm(source, { force: true });
    }

    const oursS = best.get('ours') ?? null;
    const rows = PEERS.map((peer) => makeRow(NAME, size, 1, oursS, peer, best.get(peer) ?? null, peakRss));
    return { rows, failures };
  },
};
