/**
 * cached_reread_1g and second_read_1g (cache issue item 10): a 1 GiB file (256 MiB with --quick)
 * read through the engine into a file on the same disk, served from the cache store, against
 * `cat` of a local file of the same size into a file on the same disk.
 *
 *   setup (untimed)   random file in Apache's data folder (mtime an hour back: a strong ETag),
 *                     page cache warmed; ours-cached-read.js --fill: the first read, from the
 *                     server, fills the cache store in scratch/cache (output checked, deleted)
 *   round r           ours (ours-cached-read.js: engine.download with the object attached,
 *                     fsync included) | cat <source> > <out>   each output checked (size, CRC32)
 *   second_read_1g    round 1's read of ours: the read right after the fill, with the GETs it
 *                     made counted in Apache's access log (`server_gets`, expected 0)
 *   cached_reread_1g  the best of ours over the rounds
 *
 * A GET is counted between two fences: HEAD requests of our own, logged before and after ours.
 * --diagnose adds one run of ours with the fsync excluded (stderr only, never a row).
 */
import { mkdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { basicAuth, httpRequest } from '../../testing/http-client.js';
import type { AccessLogEntry } from '../../testing/apache.js';
import { describeFailure, runChild } from '../child.js';
import { checkFile, type FileCheck, verifyCopy, warmPageCache, writeRandomFile } from '../files.js';
import { runOurs } from '../ours.js';
import { catPeer } from '../peers.js';
import { makeRow } from '../report.js';
import type { BenchCase, BenchContext, BenchRow, CaseResult } from '../types.js';

const MiB = 1024 * 1024;
const NAME = 'cached_reread_1g';
const SECOND = 'second_read_1g';

async function freshOutDir(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await runChild({ command: 'sync', args: ['-f', outDir] });
}

/** A HEAD of our own, waited for in the access log: everything logged before it is in. */
async function fence(ctx: BenchContext, remote: string): Promise<AccessLogEntry[]> {
  const { server } = ctx;
  const heads = (es: AccessLogEntry[]): number => es.filter((e) => e.method === 'HEAD').length;
  const before = heads(server.accessLog());
  await httpRequest({ url: new URL(remote, server.url), method: 'HEAD', headers: { Authorization: basicAuth(server.user, server.password) } });
  return server.waitForAccessLog((es) => heads(es) > before, 5_000);
}

export const cachedRereadCase: BenchCase = {
  name: NAME,
  aliases: [SECOND],
  async run(ctx: BenchContext): Promise<CaseResult> {
    const size = (ctx.quick ? 256 : 1024) * MiB;
    const remote = `${NAME}.bin`;
    const source = ctx.server.pathOf(remote);
    const outDir = join(ctx.scratch, NAME);
    const target = join(outDir, remote);
    const cacheDir = join(ctx.scratch, 'cache');
    const failures: string[] = [];
    let best: number | null = null;
    let second: { seconds: number; gets: number } | null = null;
    let catBest: number | null = null;
    let peakRss: number | null = null;
    const ours = (fill: boolean, extra: string[] = []) =>
      runOurs(ctx, { script: 'ours-cached-read.js', args: ['--path', `/${remote}`, '--cache', cacheDir, '--target', target, ...(fill ? ['--fill'] : []), ...extra] });

    try {
      ctx.log(`${NAME}: writing a ${size / MiB} MiB test file into Apache's data folder`);
      await writeRandomFile(source, size);
      const past = new Date(Date.now() - 3_600_000);
      await utimes(source, past, past);
      await ctx.server.fixOwnership();
      const sourceCheck: FileCheck = await checkFile(source);
      await warmPageCache(source);
      const cat = catPeer(ctx.server);

      await freshOutDir(outDir);
      const fill = await ours(true);
      let failure = fill.failure ?? (await verifyCopy(target, sourceCheck));
      if (failure === null && fill.report?.['whole_after'] !== true) failure = 'the cache object is not whole after the first read';
      if (failure !== null) throw new Error(`filling the cache: ${failure}`);
      ctx.log(`${NAME}: cache filled by the first read in ${fill.report?.seconds} s (${JSON.stringify((fill.report?.['stats'] as { downOps?: unknown } | undefined)?.downOps)})`);

      for (let round = 1; round <= ctx.repeats; round++) {
        await freshOutDir(outDir);
        await ctx.checkQuiet(`${NAME} before round ${round}`);
        const mark = (await fence(ctx, remote)).length;
        const run = await ours(false);
        const gets = (await fence(ctx, remote)).slice(mark).filter((e) => e.method === 'GET' && e.target === `/dav/${remote}`).length;
        let failure = run.failure;
        if (failure === null && run.report?.bytes !== size) failure = `reported ${run.report?.bytes} bytes, expected ${size}`;
        failure ??= await verifyCopy(target, sourceCheck);
        if (failure === null && run.report !== null) {
          best = Math.min(best ?? Infinity, run.report.seconds);
          if (round === 1) second = { seconds: run.report.seconds, gets };
          peakRss = Math.max(peakRss ?? 0, run.report.peak_rss_mb);
          ctx.log(`${NAME} round ${round}: ours ${run.report.seconds.toFixed(3)} s (process ${run.child.wallS.toFixed(3)} s), ${gets} GETs, peak RSS ${run.report.peak_rss_mb} MB, cpu ${JSON.stringify(run.report['cpu_s'])}, ${JSON.stringify(run.report['stats'])}`);
        } else {
          failures.push(`${NAME} ours (round ${round}): ${failure}`);
          ctx.log(`${NAME} round ${round}: ours FAILED: ${failure}`);
        }

        await freshOutDir(outDir);
        const r = await cat.download(remote, outDir);
        const catFailure = r.code === 0 ? await verifyCopy(target, sourceCheck) : describeFailure(r);
        if (catFailure === null) {
          catBest = Math.min(catBest ?? Infinity, r.wallS);
          ctx.log(`${NAME} round ${round}: cat ${r.wallS.toFixed(3)} s`);
        } else {
          failures.push(`${NAME} cat (round ${round}): ${catFailure}`);
          ctx.log(`${NAME} round ${round}: cat FAILED: ${catFailure}`);
        }
      }
      if (ctx.diagnose) {
        await freshOutDir(outDir);
        const run = await ours(false, ['--durable']);
        const failure = run.failure ?? (await verifyCopy(target, sourceCheck));
        ctx.log(`${NAME} diagnose durable (fdatasync + fsync, as a synced download): ${failure ?? `${run.report?.seconds} s, cpu ${JSON.stringify(run.report?.['cpu_s'])}`}`);
      }
    } catch (e) {
      failures.push(`${NAME}: ${(e as Error).message}`);
      ctx.log(`${NAME}: FAILED: ${(e as Error).stack ?? String(e)}`);
    } finally {
      await rm(outDir, { recursive: true, force: true });
      await rm(cacheDir, { recursive: true, force: true });
      await rm(source, { force: true });
    }

    const rows: BenchRow[] = [
      makeRow(NAME, size, 1, best, 'cat', catBest, peakRss),
      { ...makeRow(SECOND, size, 1, second?.seconds ?? null, 'cat', catBest, peakRss), server_gets: second?.gets ?? null },
    ];
    return { rows, failures };
  },
};
