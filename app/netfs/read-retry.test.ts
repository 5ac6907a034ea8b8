// The read retry pass on a real request over the local-folder backend (netfs-digest §4.2;
// scenario F of §4.5; behaviours 58, 59): exactly the retryable subrequests of the run are
// re-issued, for their remaining bytes, and nothing else is touched.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../remote/local/backend.js';
import { BufferPool } from './buffer-pool.js';
import { bvecqSlice } from './bvecq.js';
import { createEngineContext } from './context.js';
import { RREQ, SREQ } from './objects.js';
import { collectReads } from './read-collect.js';
import { ReadState } from './read-request.js';
import { retryReads } from './read-retry.js';
import { deferred } from './waits.js';

let dir: string;
const data = randomBytes(3000);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netfs-retry-'));
  await writeFile(join(dir, 'x'), data);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function threeSubrequests() {
  const ctx = createEngineContext({
    backend: createLocalBackend({ url: pathToFileURL(dir).href }),
    pool: new BufferPool({ blockSize: 1024, capacity: 64 * 1024 }),
    pacer: { baseMs: 1, maxBackoffMs: 5 },
  });
  const got: Buffer[] = [];
  const rs = new ReadState(ctx, { origin: 'read', path: '/x', start: 0, len: 3000, size: 3000, consumer: { deliver: (_f, v) => void got.push(...v.map((b) => Buffer.from(b))) } });
  const ended = deferred<void>();
  rs.wakeCollector = () => void collectReads(rs).then(() => ended.resolve(), ended.reject);
  for (let i = 0; i < 3; i++) rs.chain.load(ctx.pool.alloc()!, { len: 1000 });
  const subs = [0, 1, 2].map((i) => rs.req.newSubrequest(0, 'DOWN', i * 1000, 1000, bvecqSlice(rs.dispatch, 1000)));
  rs.req.set(RREQ.ALL_QUEUED);
  return { ctx, rs, subs, got, ended };
}

describe('read retry pass', () => {
  it('F: the first of a run no longer needs a retry (a late completion): only the ones that still do are re-issued', async () => {
    const { ctx, rs, subs, got } = threeSubrequests();
    const [a, b, c] = subs as [NonNullable<(typeof subs)[0]>, NonNullable<(typeof subs)[0]>, NonNullable<(typeof subs)[0]>];
    // a finished; b was marked for retry but then completed late; c needs the rest after 200 bytes.
    a.slice!.views[0]!.set(data.subarray(0, 1000));
    a.transferred = 1000;
    b.slice!.views[0]!.set(data.subarray(1000, 2000));
    b.transferred = 1000;
    b.set(SREQ.NEED_RETRY);
    b.clear(SREQ.NEED_RETRY);
    c.slice!.views[0]!.set(data.subarray(2000, 2200));
    c.transferred = 200;
    c.set(SREQ.NEED_RETRY | SREQ.MADE_PROGRESS);
    await retryReads(rs);
    await new Promise((r) => setTimeout(r, 50));
    const retried = ctx.trace.events().filter((t) => t.kind === 'sreq' && t.what === 'RETRY').map((t) => t.sreq);
    expect(retried).toEqual([2]);
    expect([a.retryCount, b.retryCount, c.retryCount]).toEqual([0, 0, 1]);
    expect(ctx.stats.retries).toMatchObject({ rq: 1, rs: 1 });
    expect(Buffer.concat(got)).toEqual(data);
    rs.dispatch.detach();
    rs.collectPos.detach();
    rs.chain.release();
    expect(ctx.pool.inUse).toBe(0);
  });

  it('59: a retried cache read goes to the server, never back to the cache', async () => {
    const { ctx, rs, subs, ended } = threeSubrequests();
    for (const s of subs) {
      s.source = 'READ';
      s.set(SREQ.NEED_RETRY);
    }
    await retryReads(rs);
    await ended.promise;
    await new Promise((r) => setTimeout(r, 50));
    expect(subs.map((s) => s.source)).toEqual(['DOWN', 'DOWN', 'DOWN']);
    expect(ctx.stats.downOps.di).toBe(3);
    rs.dispatch.detach();
    rs.collectPos.detach();
    rs.chain.release();
  });
});
