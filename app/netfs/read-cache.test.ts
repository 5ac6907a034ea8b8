// Reads with a cache attached as stream 1 (netfs-digest §2.2, §2.8; behaviours 3-7, 18, 31),
// over a real Apache and the engine's real file-backed test cache (testing-cache.ts).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';
import { FileCacheObject } from './testing-cache.js';

const KiB = 1024;
const SIZE = 1024 * KiB;
let apache: ApacheServer;
let dav: WebdavBackend;
let dir: string;
const data = randomBytes(SIZE);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let n = 0;

function engine() {
  return new NetfsEngine({ backend: dav, pool: new BufferPool({ blockSize: 64 * KiB, capacity: 8 * 1024 * KiB }), limits: { rsize: 1024 * KiB } });
}

async function cacheWith(...ranges: Array<[number, number]>): Promise<FileCacheObject> {
  const c = await FileCacheObject.create(join(dir, `obj-${n++}`), { objectSize: SIZE });
  for (const [s, e] of ranges) {
    const bs = c.blockSize;
    // Ranges are given in bytes; what a cache holds is whole blocks, except at EOF.
    const a = Math.floor(s / bs) * bs;
    const b = e >= SIZE ? SIZE : Math.ceil(e / bs) * bs;
    await c.write(a, [data.subarray(a, b)]);
    await c.collectWrite(a, b - a);
    if (a !== s || b !== e) {
      // An extent whose edges are not block-aligned (behaviour 5): record only [s, e) as committed.
      c.committed.splice(0, c.committed.length, ...c.committed.map(([x, y]): [number, number] => (x === a && y === b ? [s, e] : [x, y])));
    }
  }
  return c;
}

function readAll(e: NetfsEngine, cache: FileCacheObject) {
  const parts: Buffer[] = [];
  return e
    .read('/f.bin', { offset: 0, length: SIZE, size: SIZE, cache, consumer: { deliver: (_f, v) => void parts.push(...v.map((x) => Buffer.from(x))) } })
    .then((out) => ({ out, bytes: Buffer.concat(parts) }));
}

function adds(e: NetfsEngine, rreq: number) {
  return e.trace().filter((t) => t.kind === 'sreq' && t.rreq === rreq && t.what === 'ADD').map((t) => [t.source, t.start, t.len]);
}

async function getCount(): Promise<number> {
  await new Promise((r) => setTimeout(r, 50));
  return apache.accessLog().filter((l) => l.method === 'GET').length;
}

beforeAll(async () => {
  apache = await startApache();
  dav = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
  dir = await mkdtemp(join(tmpdir(), 'netfs-rcache-'));
  await apache.writeFile('/f.bin', data);
});
afterAll(async () => {
  await dav?.close();
  await apache?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('source selection with a cache (§7.1)', () => {
  it('3: first half cached -> one cache subrequest then one server subrequest, copied to the cache', async () => {
    const e = engine();
    const cache = await cacheWith([0, SIZE / 2]);
    const { out, bytes } = await readAll(e, cache);
    expect(sha(bytes)).toBe(sha(data));
    expect(adds(e, out.request.debugId)).toEqual([
      ['READ', 0, SIZE / 2],
      ['DOWN', SIZE / 2, SIZE / 2],
    ]);
    // The downloaded half went to the cache (copy-to-cache), the cached half did not (31).
    expect(cache.writeLog.slice(1)).toEqual([[SIZE / 2, SIZE / 2]]);
    expect(cache.committedBytes).toBe(SIZE);
  });

  it('4: a cached island in the middle gives server, cache, server', async () => {
    const e = engine();
    const cache = await cacheWith([256 * KiB, 512 * KiB]);
    const { out, bytes } = await readAll(e, cache);
    expect(sha(bytes)).toBe(sha(data));
    expect(adds(e, out.request.debugId).map((a) => a[0])).toEqual(['DOWN', 'READ', 'DOWN']);
  });

  it('5: an extent with unaligned edges is trimmed inward; the partial blocks come from the server', async () => {
    const e = engine();
    const cache = await cacheWith([1000, 300_000]);
    const { out, bytes } = await readAll(e, cache);
    expect(sha(bytes)).toBe(sha(data));
    expect(adds(e, out.request.debugId)).toEqual([
      ['DOWN', 0, 4096],
      ['READ', 4096, 299_008 - 4096],
      ['DOWN', 299_008, SIZE - 299_008],
    ]);
  });

  it('6: a wholly cached object is one extent: no server I/O, one occupancy question', async () => {
    const e = engine();
    const cache = await cacheWith([0, SIZE]);
    let queries = 0;
    const ask = cache.queryOccupancy.bind(cache);
    cache.queryOccupancy = (s, t) => {
      queries++;
      return ask(s, t);
    };
    const before = await getCount();
    const { bytes } = await readAll(e, cache);
    expect(sha(bytes)).toBe(sha(data));
    expect(await getCount()).toBe(before);
    expect(e.stats().downOps.DL).toBe(0);
    expect(queries).toBe(1);
  });

  it('7: the cache is asked for at most two extents at a time, and again only when both are used up', async () => {
    const e = engine();
    const cache = await cacheWith([64 * KiB, 128 * KiB], [256 * KiB, 320 * KiB], [512 * KiB, 576 * KiB], [768 * KiB, 832 * KiB]);
    const answers: number[] = [];
    const ask = cache.queryOccupancy.bind(cache);
    cache.queryOccupancy = async (s, t) => {
      const r = await ask(s, t);
      answers.push(r.length);
      return r;
    };
    const { out, bytes } = await readAll(e, cache);
    expect(sha(bytes)).toBe(sha(data));
    expect(answers.every((a) => a <= 2)).toBe(true);
    expect(answers.slice(0, 2)).toEqual([2, 2]);
    expect(adds(e, out.request.debugId).map((a) => a[0]).join(' ')).toBe('DOWN READ DOWN READ DOWN READ DOWN READ DOWN');
  });

  it('18: a cache read that fails is fetched from the server instead; the data is right and rf counts it', async () => {
    const e = engine();
    const cache = await cacheWith([0, SIZE / 2]);
    await truncate(cache.path, 4096); // the backing file lost its data behind the cache's back
    const { bytes } = await readAll(e, cache);
    expect(sha(bytes)).toBe(sha(data));
    expect(e.stats().caRdOps).toMatchObject({ RD: 1, rf: 1 });
    expect(e.stats().downOps.di).toBe(1);
    expect(e.trace().some((t) => t.what === 'RDOWN')).toBe(true);
  });
});

describe('copy-to-cache (§2.8)', () => {
  it('a first read fills the cache from the same buffers; a second read makes no GET', async () => {
    const e = engine();
    const cache = await cacheWith();
    const first = await readAll(e, cache);
    expect(sha(first.bytes)).toBe(sha(data));
    expect(cache.committedBytes).toBe(SIZE);
    expect(sha(await readFile(cache.path))).toBe(sha(data));
    const before = await getCount();
    const second = await readAll(engine(), cache);
    expect(sha(second.bytes)).toBe(sha(data));
    expect(await getCount()).toBe(before);
  });

  it('a range read is widened to the cache granule: only that range is fetched and cached', async () => {
    const e = engine();
    const cache = await cacheWith();
    const got: Buffer[] = [];
    await e.read('/f.bin', { offset: 100_000, length: 10, size: SIZE, cache, consumer: { deliver: (_f, v) => void got.push(...v.map((x) => Buffer.from(x))) } });
    expect(Buffer.concat(got)).toEqual(data.subarray(100_000, 100_010));
    expect(cache.committed).toEqual([[65_536, 131_072]]);
  });
});

describe('tiles never outgrow the pool', () => {
  it('a cached extent and a zero region larger than the pool are read in rsize pieces, without a hang', async () => {
    const pool = new BufferPool({ blockSize: 64 * KiB, capacity: 512 * KiB });
    const e = new NetfsEngine({ backend: dav, pool, limits: { rsize: 128 * KiB } });
    const cache = await cacheWith([0, SIZE]);
    const parts: Buffer[] = [];
    await e.read('/f.bin', { offset: 0, length: SIZE, size: SIZE, cache, consumer: { deliver: (_f, v) => void parts.push(...v.map((x) => Buffer.from(x))) } });
    expect(sha(Buffer.concat(parts))).toBe(sha(data));
    const { netfsRead } = await import('./read.js');
    const zeros: number[] = [];
    await netfsRead(e.ctx, { origin: 'read', path: '/f.bin', start: 0, len: SIZE, size: SIZE, zeroPoint: 0, consumer: { deliver: (_f, v) => void zeros.push(...v.map((x) => x.length)) } });
    expect(zeros.reduce((a, b) => a + b, 0)).toBe(SIZE);
    expect(pool.inUse).toBe(0);
  });
});
