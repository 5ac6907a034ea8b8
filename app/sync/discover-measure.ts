/**
 * One-off measurement (not a test, not a benchmark row): how long remote discovery of a
 * 50,000-entry tree in 500 folders takes against a real Apache, and the local scan of the same
 * tree, next to `rclone lsf -R` of the same remote.
 *
 *   node --import app/testing/ts-loader.mjs app/sync/discover-measure.ts [runs] [concurrency]
 *   node --cpu-prof --import app/testing/ts-loader.mjs app/sync/discover-measure.ts   (profile)
 *   MEASURE=remote … (remote walks only)
 *
 *   Apache data dir:  20 folders x (24 sub-folders) = 500 folders, 99 files in each = 50,000 entries
 */
import { spawnSync } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createWebdavBackend } from '../remote/webdav/backend.js';
import { startApache } from '../testing/apache.js';
import { discoverRemote } from './discover-remote.js';
import { scanLocal } from './discover-local.js';

const runs = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 8);
const OLD = new Date('2024-05-06T07:08:09Z');

async function build(root: string): Promise<void> {
  const writes: Promise<void>[] = [];
  for (let t = 0; t < 20; t++) {
    for (let s = -1; s < 24; s++) {
      const dir = s < 0 ? join(root, `top-${t}`) : join(root, `top-${t}`, `sub-${s}`);
      await mkdir(dir, { recursive: true });
      for (let f = 0; f < 99; f++) writes.push(writeFile(join(dir, `file-${f}.txt`), `t${t} s${s} f${f}`).then(() => utimes(join(dir, `file-${f}.txt`), OLD, OLD)));
      if (writes.length > 2000) await Promise.all(writes.splice(0));
    }
  }
  await Promise.all(writes);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const apache = await startApache();
  try {
    await build(apache.dataDir);
    await apache.fixOwnership();
    const backend = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
    const remote: number[] = [];
    const remoteCpu: number[] = [];
    let size = 0;
    let propfinds = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const d = await discoverRemote(backend, { concurrency });
      remote.push(performance.now() - t0);
      const c1 = process.cpuUsage(c0);
      remoteCpu.push((c1.user + c1.system) / 1000);
      size = d.tree.size;
      propfinds = d.propfinds;
    }
    await backend.close();
    const apacheLog = apache.accessLog().filter((e) => e.method === 'PROPFIND');
    const apacheMsPerWalk = apacheLog.reduce((n, e) => n + e.durationUs, 0) / 1000 / runs;
    if (process.env['MEASURE'] === 'remote') {
      console.log(JSON.stringify({ entries: size, propfinds, concurrency, remoteMs: remote.map(Math.round), remoteMedianMs: Math.round(median(remote)), nodeCpuMsPerWalk: Math.round(median(remoteCpu)), apacheMsPerWalk: Math.round(apacheMsPerWalk) }));
      return;
    }
    const local: number[] = [];
    let localSize = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const s = await scanLocal(apache.dataDir);
      local.push(performance.now() - t0);
      localSize = s.tree.size;
    }
    const both: number[] = [];
    const backend2 = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await Promise.all([discoverRemote(backend2, { concurrency }), scanLocal(apache.dataDir)]);
      both.push(performance.now() - t0);
    }
    await backend2.close();
    const rclone = spawnSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).stdout.trim();
    let rcloneMs: number | null = null;
    if (rclone !== '') {
      const obscured = spawnSync(rclone, ['obscure', apache.password], { encoding: 'utf8' }).stdout.trim();
      const t0 = performance.now();
      const r = spawnSync(rclone, ['lsf', '-R', `:webdav,url='${apache.url}',user=${apache.user},pass=${obscured}:`], { encoding: 'utf8', maxBuffer: 64 << 20 });
      rcloneMs = performance.now() - t0;
      if (r.status !== 0) rcloneMs = null;
    }
    console.log(
      JSON.stringify(
        {
          entries: size,
          propfinds,
          concurrency,
          remoteMs: remote.map(Math.round),
          remoteMedianMs: Math.round(median(remote)),
          nodeCpuMsPerWalk: Math.round(median(remoteCpu)),
          apacheMsPerWalk: Math.round(apacheMsPerWalk),
          localEntries: localSize,
          localMs: local.map(Math.round),
          localMedianMs: Math.round(median(local)),
          bothConcurrentMs: both.map(Math.round),
          bothMedianMs: Math.round(median(both)),
          rcloneLsfMs: rcloneMs === null ? null : Math.round(rcloneMs),
          rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        },
        null,
        2,
      ),
    );
  } finally {
    await apache.stop();
  }
}

await main();
