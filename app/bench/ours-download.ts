/**
 * The "ours" side of a download bench, run by the orchestrator in its own process:
 *
 *   node ours-download.js --url URL --user U --path /big.bin --target /scratch/out/big.bin
 *        [--variant download|no-sync|discard] [--phases] [--memory] [--sync-every BYTES] [--write-chunk BYTES]
 *        [--pool-mib N] [--rsize-mib N] [--in-flight N]
 *        (the password comes in NETFS_BENCH_PASSWORD, never on the command line)
 *
 * It stats the file (PROPFIND), then times engine.download() in the product's default
 * configuration (64 MiB pool, rsize 8 MiB, 4 in flight, fdatasync every 64 MiB, final fsync)
 * from just before the call to just after it resolves, and prints one JSON line:
 *
 *   {"ok":true,"variant":"download","seconds":…,"bytes":…,"peak_rss_mb":…,"cpu_s":{…},"pool":{…},"stats":{…}}
 *
 * Everything else is for diagnosis only (bench --diagnose, or by hand), never for the rows:
 *   --variant no-sync   FileHandle sync/datasync made no-ops: our time with the fsync excluded;
 *   --variant discard   engine.read() into a consumer that drops the bytes: HTTP + engine, no file;
 *   --phases            writev/datasync/sync timed (diag-hooks.ts);
 *   --memory            process.memoryUsage() sampled every 10 ms, the largest of each reported;
 *   --sync-every N      download()'s syncEvery (0: only the final fsync);
 *   --write-chunk N     each writev split into pwritev calls of at most N bytes;
 *   --pool-mib, --rsize-mib, --in-flight   the engine's pool capacity, rsize and subrequests in
 *                       flight per request, instead of the defaults (64, 8, 4).
 */
import { parseArgs } from 'node:util';
import { BufferPool } from '../netfs/buffer-pool.js';
import { NetfsEngine } from '../netfs/engine.js';
import { createWebdavBackend } from '../remote/webdav/backend.js';
import { installFileHandleHooks, sampleMemory } from './diag-hooks.js';

type Variant = 'download' | 'no-sync' | 'discard';
const VARIANTS: readonly string[] = ['download', 'no-sync', 'discard'];

const MiB = 1024 * 1024;
const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

function optionalNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number of bytes, not ${raw}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      path: { type: 'string' },
      target: { type: 'string' },
      variant: { type: 'string', default: 'download' },
      phases: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      'sync-every': { type: 'string' },
      'write-chunk': { type: 'string' },
      'pool-mib': { type: 'string' },
      'rsize-mib': { type: 'string' },
      'in-flight': { type: 'string' },
    },
  });
  const { url, user, path, target } = values;
  const variant = values.variant as Variant;
  if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);
  if (url === undefined || user === undefined || path === undefined || (target === undefined && variant !== 'discard')) {
    throw new Error('usage: ours-download --url URL --user USER --path /remote --target /abs/file [--variant …] (see the file header)');
  }
  const password = process.env['NETFS_BENCH_PASSWORD'];
  if (password === undefined) throw new Error('NETFS_BENCH_PASSWORD is not set');
  const syncEvery = optionalNumber('sync-every', values['sync-every']);
  const writeChunk = optionalNumber('write-chunk', values['write-chunk']);
  const poolMib = optionalNumber('pool-mib', values['pool-mib']);
  const rsizeMib = optionalNumber('rsize-mib', values['rsize-mib']);
  const inFlight = optionalNumber('in-flight', values['in-flight']);
  const tuning = {
    ...(poolMib === undefined ? {} : { pool: new BufferPool({ capacity: poolMib * MiB }) }),
    limits: {
      ...(rsizeMib === undefined ? {} : { rsize: rsizeMib * MiB }),
      ...(inFlight === undefined ? {} : { maxInFlightPerRequest: inFlight }),
    },
  };

  const phases = await installFileHandleHooks({
    noSync: variant === 'no-sync',
    phases: values.phases,
    ...(writeChunk === undefined ? {} : { writeChunk }),
  });
  const backend = createWebdavBackend({ url, user, password });
  try {
    const entry = await backend.stat(path);
    if (entry.size === null) throw new Error(`${path}: the server gave no size`);
    const size = entry.size;
    const engine = new NetfsEngine({ backend, ...tuning });
    const expect = { etag: entry.etag, size, mtimeMs: entry.mtimeMs };
    const memory = values.memory ? sampleMemory() : null;

    let bytes: number;
    const t0 = performance.now();
    if (variant === 'discard') {
      bytes = (await engine.read(path, { offset: 0, length: size, size, expect, consumer: { deliver: () => {} } })).transferred;
    } else {
      bytes = (await engine.download(path, { size, expect, target: target as string, ...(syncEvery === undefined ? {} : { syncEvery }) })).bytes;
    }
    const seconds = (performance.now() - t0) / 1000;
    const usage = process.resourceUsage();
    const memoryPeaks = memory?.stop();

    const pool = engine.ctx.pool;
    const stats = engine.stats();
    const report = {
      ok: true,
      variant,
      seconds: round(seconds, 4),
      bytes,
      peak_rss_mb: round((usage.maxRSS * 1024) / 1e6, 1),
      /** CPU of the whole process so far (start-up included), main thread and the libuv pool. */
      cpu_s: { user: round(usage.userCPUTime / 1e6), system: round(usage.systemCPUTime / 1e6) },
      pool: { capacity: pool.capacity, blockSize: pool.blockSize, highWater: pool.highWater, waits: pool.waits },
      limits: { rsize: engine.ctx.limits.rsize, maxInFlightPerRequest: engine.ctx.limits.maxInFlightPerRequest },
      stats: { reads: stats.reads, downOps: stats.downOps, retries: stats.retries, zeroOps: stats.zeroOps },
      ...(values.phases ? { phases: phases() } : {}),
      ...(memoryPeaks === undefined ? {} : { memory_peak_mb: memoryPeaks }),
      ...(syncEvery === undefined ? {} : { syncEvery }),
      ...(writeChunk === undefined ? {} : { writeChunk }),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await backend.close();
  }
}

main().catch((e: unknown) => {
  const err = e as Error & { code?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, error: `${err.code ?? err.name}: ${err.message}` })}\n`);
  process.stderr.write(`${err.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
