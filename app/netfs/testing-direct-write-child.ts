/**
 * One unbuffered write from a file region, in a process of its own, for the fault tests that
 * need strace to be this process's parent (direct-write-source.test.ts):
 *
 *   strace -f -P <source> -e inject=pread64,…:error=EIO:when=2+ \
 *     node --import ../testing/ts-loader.mjs testing-direct-write-child.ts '<ChildJob JSON>'
 *       local backend over job.remoteRoot ──> NetfsEngine(pool, wsize) ──> unbufferedWrite
 *       stdout: one line of ChildResult JSON (exit code 0 whatever the write's outcome)
 *
 * Run with UV_THREADPOOL_SIZE=1: strace counts `when=` per thread, so with every pread on the
 * one thread-pool thread "the 2nd call" means the 2nd pread of the extraction.
 */
import { isNetfsError } from '../api/errors.js';
import { createLocalBackend } from '../remote/local/backend.js';
import { BufferPool } from './buffer-pool.js';
import type { FileRegion } from './direct-source.js';
import { NetfsEngine } from './engine.js';

export interface ChildJob {
  remoteRoot: string;
  path: string;
  offset: number;
  source: FileRegion;
  blockSize: number;
  capacity: number;
  wsize: number;
}

export type ChildResult =
  | { ok: true; written: number; short: { requested: number; obtained: number; eof: boolean; code: string; message: string } | null; inUse: number; ul: number; traced: string[] }
  | { ok: false; code: string; message: string; inUse: number; ul: number; traced: string[] };

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as ChildJob;
  const backend = createLocalBackend({ url: `file://${job.remoteRoot}` });
  const pool = new BufferPool({ blockSize: job.blockSize, capacity: job.capacity });
  const engine = new NetfsEngine({ backend, pool, limits: { wsize: job.wsize }, pacer: { baseMs: 2 } });
  const traced = (): string[] => engine.trace().filter((t) => t.kind !== 'sreq').map((t) => `${t.what}${t.error === undefined ? '' : ` ${t.error}`}`);
  let result: ChildResult;
  try {
    const out = await engine.unbufferedWrite(job.path, { offset: job.offset, data: job.source });
    const s = out.short;
    result = {
      ok: true,
      written: out.written,
      short: s === null ? null : { requested: s.requested, obtained: s.obtained, eof: s.eof, code: s.error.code, message: s.error.message },
      inUse: pool.inUse,
      ul: engine.stats().upldOps.UL,
      traced: traced(),
    };
  } catch (e) {
    result = {
      ok: false,
      code: isNetfsError(e) ? e.code : 'NOT_A_NETFS_ERROR',
      message: e instanceof Error ? e.message : String(e),
      inUse: pool.inUse,
      ul: engine.stats().upldOps.UL,
      traced: traced(),
    };
  }
  await backend.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
