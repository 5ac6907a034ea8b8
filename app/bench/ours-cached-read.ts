/**
 * The "ours" side of the cached re-read benches (cases/cached-reread.ts), in its own process:
 *
 *   node ours-cached-read.js --url URL --user U --path /big.bin --cache DIR --target FILE [--fill]
 *        (the password comes in NETFS_BENCH_PASSWORD, never on the command line)
 *
 * It stats the file (PROPFIND), opens its object in the cache store at DIR (aux: ETag, mtime,
 * size), then times engine.download(path → target) with the object attached as stream 1, from
 * just before the call to just after it resolves, and prints one JSON line. The row's read is
 * not durable (`durable: false`: no fsync), like its peer `cat big > file` and like
 * `netfs-sync read PATH > file`; --fill (and --durable, for bench --diagnose) keep the engine's
 * default durable download (fdatasync spread, final fsync):
 *
 *   {"ok":true,"seconds":…,"bytes":…,"peak_rss_mb":…,"outcome":"adopted","cached_before":…,
 *    "stats":{"downOps":{…},"caRdOps":{…}},…}
 *
 * --fill: the first read, which fills the cache from the server (not a row; the orchestrator
 * checks its output and that the object is whole afterwards).
 * --no-sync: diagnosis only (bench --diagnose, never a row): FileHandle sync/datasync made
 * no-ops (diag-hooks.ts), our time with the fsync excluded.
 */
import { parseArgs } from 'node:util';
import { CacheStore } from '../cache/store.js';
import { NetfsEngine } from '../netfs/engine.js';
import { missingRanges } from '../netfs/stage.js';
import { createWebdavBackend } from '../remote/webdav/backend.js';
import { installFileHandleHooks } from './diag-hooks.js';

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      path: { type: 'string' },
      cache: { type: 'string' },
      target: { type: 'string' },
      fill: { type: 'boolean', default: false },
      'no-sync': { type: 'boolean', default: false },
      durable: { type: 'boolean', default: false },
    },
  });
  const { url, user, path, cache, target } = values;
  if (url === undefined || user === undefined || path === undefined || cache === undefined || target === undefined) {
    throw new Error('usage: ours-cached-read --url URL --user USER --path /remote --cache DIR --target /abs/file [--fill]');
  }
  const password = process.env['NETFS_BENCH_PASSWORD'];
  if (password === undefined) throw new Error('NETFS_BENCH_PASSWORD is not set');
  if (values['no-sync']) await installFileHandleHooks({ noSync: true });
  const backend = createWebdavBackend({ url, user, password });
  const store = await CacheStore.open(cache, { volume: 'bench' });
  try {
    const entry = await backend.stat(path);
    if (entry.size === null) throw new Error(`${path}: the server gave no size`);
    const size = entry.size;
    const obj = await store.openObject(path, { etag: entry.etag, lastModified: entry.mtimeMs, size });
    const outcome = store.outcomes.at(-1)?.outcome;
    const missing = (await missingRanges(obj, size)).reduce((n, [a, b]) => n + (b - a), 0);
    if (!values.fill && missing > 0) throw new Error(`${path}: the cache object is not whole (${missing} bytes missing, outcome ${outcome})`);
    const engine = new NetfsEngine({ backend });
    const expect = { etag: entry.etag, size, mtimeMs: entry.mtimeMs };

    const t0 = performance.now();
    const durable = values.fill || values.durable;
    const { bytes } = await engine.download(path, { size, expect, target, cache: obj, durable });
    const seconds = (performance.now() - t0) / 1000;
    const usage = process.resourceUsage();
    const whole = (await missingRanges(obj, size)).length === 0;
    const stats = engine.stats();
    await obj.close();
    process.stdout.write(
      `${JSON.stringify({
        ok: true,
        variant: values.fill ? 'fill' : values['no-sync'] ? 'no-sync' : values.durable ? 'durable' : 'cached-read',
        durable,
        seconds: round(seconds, 4),
        bytes,
        peak_rss_mb: round((usage.maxRSS * 1024) / 1e6, 1),
        cpu_s: { user: round(usage.userCPUTime / 1e6), system: round(usage.systemCPUTime / 1e6) },
        outcome,
        cached_before: size - missing,
        whole_after: whole,
        stats: { reads: stats.reads, downOps: stats.downOps, caRdOps: stats.caRdOps, caWrOps: stats.caWrOps },
      })}\n`,
    );
  } finally {
    await store.close();
    await backend.close();
  }
}

main().catch((e: unknown) => {
  const err = e as Error & { code?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, error: `${err.code ?? err.name}: ${err.message}` })}\n`);
  process.stderr.write(`${err.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
