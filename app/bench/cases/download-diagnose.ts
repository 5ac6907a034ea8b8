/**
 * bench --diagnose for download_1g: extra runs of ours, not in the rows, to see where our time
 * goes. Printed to stderr:
 *
 *   phases    the default download with FileHandle writev/datasync/sync timed (summed time
 *             inside each; the final fsync is on the critical path, the datasyncs overlap)
 *   no-sync   the same with sync/datasync made no-ops: our time with the fsync excluded
 *   discard   engine.read() into a consumer that drops the bytes: HTTP + engine, no file
 *   small-writes  the default download with each writev split into 128 KiB pwritevs
 *   small-pool    a 16 MiB pool and 4 MiB rsize instead of 64 and 8 (peak RSS)
 *   cpu-prof  the default download under node --cpu-prof: self time by file and function
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type FileCheck, verifyCopy } from '../files.js';
import { runOurs } from '../ours.js';
import { formatSummary, summariseDir } from '../profile.js';
import type { BenchContext } from '../types.js';

export interface DiagnoseParams {
  remote: string;
  target: string;
  size: number;
  sourceCheck: FileCheck;
  /** Empties the output folder (and lets the disk settle) before a run. */
  fresh(): Promise<void>;
}

export async function diagnoseDownload(ctx: BenchContext, p: DiagnoseParams): Promise<void> {
  const mbps = (s: number): string => `${(p.size / 1e6 / s).toFixed(0)} MB/s`;
  const variants: Array<{ label: string; args: string[]; nodeArgs?: string[]; file: boolean }> = [
    { label: 'phases (default download, timed)', args: ['--phases'], file: true },
    { label: 'no-sync (fsync excluded)', args: ['--variant', 'no-sync'], file: true },
    { label: 'discard (no file: HTTP + engine)', args: ['--variant', 'discard'], file: false },
    { label: 'small-writes (writev split into 128 KiB pwritevs)', args: ['--phases', '--write-chunk', String(128 * 1024)], file: true },
    { label: 'small-pool (16 MiB pool, 4 MiB rsize)', args: ['--pool-mib', '16', '--rsize-mib', '4'], file: true },
  ];
  const profDir = join(ctx.scratch, 'cpu-prof');
  await mkdir(profDir, { recursive: true });
  variants.push({ label: 'cpu-prof (default download under --cpu-prof)', args: [], nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir], file: true });

  for (const v of variants) {
    await p.fresh();
    const args = ['--path', `/${p.remote}`, ...(v.file ? ['--target', p.target] : []), ...v.args];
    const r = await runOurs(ctx, { script: 'ours-download.js', args, ...(v.nodeArgs === undefined ? {} : { nodeArgs: v.nodeArgs }) });
    const failure = r.failure ?? (v.file ? await verifyCopy(p.target, p.sourceCheck) : null);
    if (failure !== null || r.report === null) {
      ctx.log(`diagnose ${v.label}: FAILED: ${failure}`);
      continue;
    }
    const extra = r.report['phases'] === undefined ? '' : ` phases ${JSON.stringify(r.report['phases'])}`;
    ctx.log(`diagnose ${v.label}: ${r.report.seconds.toFixed(3)} s = ${mbps(r.report.seconds)}, peak RSS ${r.report.peak_rss_mb} MB, cpu ${JSON.stringify(r.report['cpu_s'])},${extra} pool ${JSON.stringify(r.report['pool'])}`);
    if (v.nodeArgs !== undefined) ctx.log(formatSummary(await summariseDir(profDir)));
  }
}
