// The fault proxy in front of a real Apache mod_dav, seen from plain node:http clients:
// pass-through (keep-alive, MOVE, Location), big streamed bodies, rule matching (nth, every
// with a seed, times, when), and every action (cuts, truncate, statuses, ignore-range,
// throttle, weak ETags, dropped preconditions, hang, delay), then a restart on the same port.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, utimes } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApache } from './apache.js';
import type { ApacheServer } from './apache.js';
import { startFaultProxy } from './fault-proxy.js';
import type { FaultProxy } from './fault-proxy.js';

interface Outcome {
  status: number | null;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The client's error (reset, aborted body, timeout), or null when the exchange completed. */
  error: NodeJS.ErrnoException | null;
  ms: number;
}

interface ExchangeOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Default: a fresh connection (agent: false). */
  agent?: Agent;
  timeoutMs?: number;
}

const MiB = 1024 * 1024;

describe('startFaultProxy in front of Apache', () => {
  let apache: ApacheServer;
  let proxy: FaultProxy;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

  /** One request through the proxy; always resolves, with whatever arrived. */
  function exchange(url: string, options: ExchangeOptions = {}): Promise<Outcome> {
    const target = new URL(url);
    const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
    const headers: Record<string, string> = { Authorization: apache.authorization, ...options.headers };
    if (body !== undefined) headers['Content-Length'] = String(body.length);
    const started = performance.now();
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let status: number | null = null;
      let responseHeaders: IncomingHttpHeaders = {};
      let settled = false;
      const settle = (error: Error | null): void => {
        if (settled) return;
        settled = true;
        resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), error, ms: performance.now() - started });
      };
      const req = request(
        { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: options.method ?? 'GET', headers, agent: options.agent ?? false },
        (res) => {
          status = res.statusCode ?? null;
          responseHeaders = res.headers;
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', settle);
          res.on('end', () => settle(null));
        },
      );
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        req.setTimeout(ms, () => req.destroy(Object.assign(new Error(`client timeout after ${ms} ms`), { code: 'CLIENT_TIMEOUT' })));
      }
      req.on('error', settle);
      req.end(body);
    });
  }

  const davUrl = (path: string): string => proxy.url(`${apache.url}${path}`);

  beforeAll(async () => {
    apache = await startApache();
    proxy = await startFaultProxy({ target: apache.origin });
    await apache.writeFile('file-1m.bin', Buffer.alloc(MiB, 0x42));
  });
  afterEach(() => {
    proxy.clearRules();
    proxy.setThrottle(null);
  });
  afterAll(async () => {
    keepAlive.destroy();
    await proxy?.close();
    await apache?.stop();
  });

  it('passes PROPFIND, GET, PUT, MKCOL, MOVE and DELETE through on one kept-alive connection', async () => {
    expect(proxy.url(apache.url)).toBe(`${proxy.origin}/dav/`);
    expect(proxy.url('/dav/x')).toBe(`${proxy.origin}/dav/x`);
    const viaAgent = { agent: keepAlive };
    const from = proxy.requests.length;
    const upstreamBefore = proxy.upstreamConnections;
    expect((await exchange(davUrl('pt/'), { method: 'MKCOL', ...viaAgent })).status).toBe(201);
    const put = await exchange(davUrl('pt/a.txt'), { method: 'PUT', body: 'hello through the proxy', ...viaAgent });
    expect(put.status).toBe(201);
    // Apache names itself in Location; the proxy points it back at itself.
    expect(put.headers.location).toBe(`${proxy.origin}/dav/pt/a.txt`);
    const get = await exchange(davUrl('pt/a.txt'), viaAgent);
    expect([get.status, get.body.toString()]).toEqual([200, 'hello through the proxy']);
    const list = await exchange(davUrl('pt/'), { method: 'PROPFIND', headers: { Depth: '1' }, ...viaAgent });
    expect(list.status).toBe(207);
    expect(list.body.toString()).toContain('<D:href>/dav/pt/a.txt</D:href>');
    const move = await exchange(davUrl('pt/a.txt'), { method: 'MOVE', headers: { Destination: davUrl('pt/b.txt') }, ...viaAgent });
    expect(move.status).toBe(201);
    expect(move.headers.location).toBe(`${proxy.origin}/dav/pt/b.txt`);
    expect((await exchange(davUrl('pt/a.txt'), viaAgent)).status).toBe(404);
    expect((await exchange(davUrl('pt/b.txt'), viaAgent)).body.toString()).toBe('hello through the proxy');
    expect((await exchange(davUrl('pt/'), { method: 'DELETE', ...viaAgent })).status).toBe(204);

    const seen = proxy.requests.slice(from);
    expect(seen.map((r) => `${r.method} ${r.status}`)).toEqual(['MKCOL 201', 'PUT 201', 'GET 200', 'PROPFIND 207', 'MOVE 201', 'GET 404', 'GET 200', 'DELETE 204']);
    expect(new Set(seen.map((r) => r.connection)).size).toBe(1);
    expect(seen.every((r) => r.outcome === 'complete' && r.forwarded && r.rule === null)).toBe(true);
    expect(seen[1]?.bytesIn).toBe('hello through the proxy'.length);
    expect(seen[2]?.bytesOut).toBe('hello through the proxy'.length);
    // Kept alive towards Apache too: eight requests, at most one new connection.
    expect(proxy.upstreamConnections - upstreamBefore).toBeLessThanOrEqual(1);
    const log = await apache.waitForAccessLog((entries) => entries.some((e) => e.method === 'MOVE' && e.target === '/dav/pt/a.txt'));
    expect(log.find((e) => e.method === 'MOVE')?.status).toBe(201);
  });

  it('forwards a request without Content-Length as one without a body (MKCOL, raw bytes)', async () => {
    const head = `MKCOL /dav/raw/ HTTP/1.1\r\nHost: ${new URL(proxy.origin).host}\r\nAuthorization: ${apache.authorization}\r\nConnection: close\r\n\r\n`;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port });
      const chunks: Buffer[] = [];
      socket.setTimeout(5_000, () => socket.destroy(new Error('raw client timeout')));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.write(head);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 201 /);
    expect(existsSync(apache.pathOf('raw'))).toBe(true);
  });

  it('streams a 64 MiB PUT and GET while its memory stays small', async () => {
    const size = 64 * MiB;
    const block = Buffer.alloc(MiB);
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
    const expected = createHash('sha256');
    for (let i = 0; i < size / MiB; i++) expected.update(block);
    const digest = expected.digest('hex');
    const put = (url: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const target = new URL(url);
        const req = request(
          { host: target.hostname, port: target.port, path: target.pathname, method: 'PUT', agent: false, headers: { Authorization: apache.authorization, 'Content-Length': String(size) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        Readable.from(
          (function* () {
            for (let i = 0; i < size / MiB; i++) yield block;
          })(),
        ).pipe(req);
      });
    const get = (url: string): Promise<{ status: number; digest: string; bytes: number }> =>
      new Promise((resolve, reject) => {
        const target = new URL(url);
        const req = request({ host: target.hostname, port: target.port, path: target.pathname, agent: false, headers: { Authorization: apache.authorization } }, (res) => {
          const hash = createHash('sha256');
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            hash.update(chunk);
            bytes += chunk.length;
          });
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, digest: hash.digest('hex'), bytes }));
        });
        req.on('error', reject);
        req.end();
      });

    // Warm-up: the first 64 MiB this process moves leaves some tens of MiB of not yet collected
    // chunks and allocator arenas behind, proxy or not (measured: a direct GET alone grew RSS
    // by ~47 MiB). The measured round comes after it, so growth there means something is held.
    expect(await put(davUrl('big-64m.bin'))).toBe(201);
    expect(await get(`${apache.url}big-64m.bin`)).toEqual({ status: 200, digest, bytes: size });

    const rss = { base: process.memoryUsage.rss(), peak: 0 };
    const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, process.memoryUsage.rss())), 10);
    try {
      expect(await get(davUrl('big-64m.bin'))).toEqual({ status: 200, digest, bytes: size });
      expect(await put(davUrl('big-64m.bin'))).toBe(204);
    } finally {
      clearInterval(sampler);
    }
    const growth = rss.peak - rss.base;
    expect(growth, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`).toBeLessThan(40 * MiB);
    const records = proxy.requests.filter((r) => r.path === '/dav/big-64m.bin');
    expect(records.map((r) => [r.method, r.status, r.bytesIn, r.bytesOut])).toEqual([
      ['PUT', 201, size, records[0]?.bytesOut],
      ['GET', 200, 0, size],
      ['PUT', 204, size, 0],
    ]);
  });

  it('fires an nth rule on the n-th matching request only', async () => {
    await apache.writeFile('nth.txt', 'nth');
    const rule = proxy.addRule({ match: { method: 'GET', path: '/dav/nth.txt', nth: 3 }, action: { kind: 'status', status: 500 } });
    const statuses: Array<number | null> = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await exchange(davUrl('nth.txt'), { agent: keepAlive })).status);
      // A HEAD does not count: the rule is for GET.
      await exchange(davUrl('nth.txt'), { method: 'HEAD', agent: keepAlive });
    }
    expect(statuses).toEqual([200, 200, 500, 200, 200]);
    expect([rule.matched, rule.fired, rule.spent]).toEqual([5, 1, true]);
    const hit = proxy.requests.filter((r) => r.rule === rule.name);
    expect(hit.map((r) => [r.method, r.status, r.action, r.forwarded])).toEqual([['GET', 500, 'status', false]]);
  });

  it('fires an every rule on one request in N, the same ones for the same seed', async () => {
    await apache.writeFile('every/x.txt', 'x');
    const hits = async (match: { every: number; seed?: number }): Promise<number[]> => {
      proxy.clearRules();
      proxy.addRule({ match: { path: { prefix: '/dav/every/' }, ...match }, action: { kind: 'status', status: 503, body: 'busy' } });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        if ((await exchange(davUrl('every/x.txt'), { agent: keepAlive })).status === 503) out.push(i);
      }
      return out;
    };
    const seeded = await hits({ every: 4, seed: 7 });
    expect(seeded).toHaveLength(5);
    seeded.forEach((hit, block) => expect(Math.floor(hit / 4)).toBe(block));
    expect(await hits({ every: 4, seed: 7 })).toEqual(seeded);
    const other = await hits({ every: 4, seed: 8 });
    expect(other).toHaveLength(5);
    expect(other).not.toEqual(seeded);
    expect(await hits({ every: 4 })).toEqual([3, 7, 11, 15, 19]);
  });

  it('stops a rule after `times`, and lets `when` and the first rule that fires decide', async () => {
    await apache.writeFile('times.txt', 'times');
    const limited = proxy.addRule({ name: 'two 503s', match: { path: '/dav/times.txt' }, action: { kind: 'status', status: 503 }, times: 2 });
    proxy.addRule({ name: 'shadowed', match: { path: '/dav/times.txt', when: (r) => r.headers['x-test'] === 'yes' }, action: { kind: 'status', status: 418 } });
    const statuses: Array<number | null> = [];
    for (let i = 0; i < 4; i++) statuses.push((await exchange(davUrl('times.txt'), { agent: keepAlive, headers: { 'X-Test': i === 3 ? 'yes' : 'no' } })).status);
    expect(statuses).toEqual([503, 503, 200, 418]);
    expect([limited.fired, limited.spent]).toEqual([2, true]);
    const stats = proxy.stats();
    expect(stats.byRule['two 503s']).toBe(2);
    expect(stats.byRule['shadowed']).toBe(1);

    // An action chosen per firing (e.g. a random cut point for F1).
    proxy.clearRules();
    proxy.addRule({ name: 'picked', match: { path: '/dav/times.txt' }, action: (_request, fire) => ({ kind: 'status', status: fire === 1 ? 423 : 507 }), times: 2 });
    const picked: Array<number | null> = [];
    for (let i = 0; i < 3; i++) picked.push((await exchange(davUrl('times.txt'), { agent: keepAlive })).status);
    expect(picked).toEqual([423, 507, 200]);
    expect(proxy.requests.at(-2)?.rule).toBe('picked');
  });

  it('resets before headers: the client gets ECONNRESET and the server never sees the request', async () => {
    proxy.addRule({ match: { path: '/dav/never.txt' }, action: { kind: 'reset', at: 'before-headers' } });
    const got = await exchange(davUrl('never.txt'), { method: 'PUT', body: 'x'.repeat(10_000) });
    expect(got.status).toBeNull();
    expect(got.error?.code).toMatch(/ECONNRESET|EPIPE/);
    expect((await proxy.waitFor((r) => r.path === '/dav/never.txt')).outcome).toBe('reset');
    expect(existsSync(apache.pathOf('never.txt'))).toBe(false);

    // forward: true — the server did the PUT, the client cannot know.
    proxy.addRule({ match: { path: '/dav/done.txt' }, action: { kind: 'reset', at: 'before-headers', forward: true } });
    const forwarded = await exchange(davUrl('done.txt'), { method: 'PUT', body: 'done anyway' });
    expect(forwarded.error?.code).toBe('ECONNRESET');
    const record = await proxy.waitFor((r) => r.path === '/dav/done.txt' && r.outcome !== 'pending');
    expect([record.forwarded, record.upstreamStatus, record.status, record.outcome]).toEqual([true, 201, null, 'reset']);
    expect(await readFile(apache.pathOf('done.txt'), 'utf8')).toBe('done anyway');
  });

  it('resets in the middle of the response head', async () => {
    proxy.addRule({ match: { path: '/dav/file-1m.bin' }, action: { kind: 'reset', at: 'mid-headers', headBytes: 20 } });
    const got = await exchange(davUrl('file-1m.bin'));
    expect(got.status).toBeNull();
    expect(got.error?.code).toMatch(/ECONNRESET|HPE_/);
    const record = await proxy.waitFor((r) => r.path === '/dav/file-1m.bin' && r.outcome !== 'pending');
    expect([record.upstreamStatus, record.outcome]).toEqual([200, 'reset']);
  });

  it('resets (RST) or closes (FIN) in the middle of the body', async () => {
    proxy.addRule({ match: { path: '/dav/file-1m.bin' }, action: { kind: 'reset', at: 'mid-body', afterBodyBytes: 100_000 }, times: 1 });
    const reset = await exchange(davUrl('file-1m.bin'));
    expect(reset.status).toBe(200);
    expect(reset.headers['content-length']).toBe(String(MiB));
    expect(reset.error?.code).toBe('ECONNRESET');
    expect(reset.body.length).toBeLessThanOrEqual(100_000);

    proxy.addRule({ match: { path: '/dav/file-1m.bin' }, action: { kind: 'close', at: 'mid-body', afterBodyBytes: 100_000 }, times: 1 });
    const closed = await exchange(davUrl('file-1m.bin'));
    expect(closed.status).toBe(200);
    expect(closed.error).not.toBeNull();
    expect(closed.body.length).toBe(100_000);
    const records = proxy.requests.filter((r) => r.path === '/dav/file-1m.bin').slice(-2);
    expect(records.map((r) => [r.outcome, r.bytesOut])).toEqual([
      ['reset', 100_000],
      ['closed', 100_000],
    ]);
  });

  it('truncates: full Content-Length, fewer body bytes, then EOF', async () => {
    proxy.addRule({ match: { method: 'GET', path: /file-1m\.bin$/ }, action: { kind: 'truncate', afterBodyBytes: 300_000 } });
    const got = await exchange(davUrl('file-1m.bin'));
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(MiB));
    expect(got.body.length).toBe(300_000);
    expect(got.error).not.toBeNull();
  });

  it('resize-body (F18): a well-formed answer of the wrong size, cut or padded, Content-Length and Content-Range to match', async () => {
    proxy.addRule({ match: { method: 'GET', path: /file-1m\.bin$/, nth: 1 }, action: { kind: 'resize-body', bytes: 1000 } });
    proxy.addRule({ match: { method: 'GET', path: /file-1m\.bin$/ }, action: { kind: 'resize-body', bytes: 20, fill: 0x41 } });
    const real = await readFile(apache.pathOf('file-1m.bin'));
    const cut = await exchange(davUrl('file-1m.bin'));
    expect([cut.status, cut.headers['content-length'], cut.body.length, cut.error]).toEqual([200, '1000', 1000, null]);
    expect(cut.body.equals(real.subarray(0, 1000))).toBe(true);
    const padded = await exchange(davUrl('file-1m.bin'), { headers: { Range: 'bytes=100-109' } });
    expect([padded.status, padded.headers['content-length'], padded.headers['content-range'], padded.error]).toEqual([206, '20', 'bytes 100-119/120', null]);
    expect(padded.body.equals(Buffer.concat([real.subarray(100, 110), Buffer.alloc(10, 0x41)]))).toBe(true);
  });

  it('answers made-up statuses without forwarding: 429/503 with Retry-After, 503 maintenance, 507 for big PUTs', async () => {
    const later = new Date(Math.ceil(Date.now() / 1000) * 1000 + 10_000);
    proxy.addRule({ match: { path: '/dav/limited' }, action: { kind: 'status', status: 429, retryAfter: 7 }, times: 1 });
    proxy.addRule({ match: { path: '/dav/limited' }, action: { kind: 'status', status: 503, retryAfter: later }, times: 1 });
    proxy.addRule({ match: { path: '/dav/maintenance' }, action: { kind: 'status', status: 503 } });
    proxy.addRule({
      match: { method: 'PUT', when: (r) => Number(r.headers['content-length'] ?? '0') > 1000 },
      action: { kind: 'status', status: 507 },
    });
    const first = await exchange(davUrl('limited'));
    expect([first.status, first.headers['retry-after']]).toEqual([429, '7']);
    const second = await exchange(davUrl('limited'));
    expect(second.status).toBe(503);
    expect(new Date(String(second.headers['retry-after'])).getTime()).toBe(later.getTime());
    const maintenance = await exchange(davUrl('maintenance'));
    expect(maintenance.status).toBe(503);
    expect(maintenance.body.toString()).toContain('maintenance mode');
    const big = await exchange(davUrl('quota-big.bin'), { method: 'PUT', body: Buffer.alloc(2000) });
    const small = await exchange(davUrl('quota-small.bin'), { method: 'PUT', body: Buffer.alloc(10) });
    expect([big.status, small.status]).toEqual([507, 201]);
    expect(existsSync(apache.pathOf('quota-big.bin'))).toBe(false);
    const limited = proxy.requests.filter((r) => r.path === '/dav/limited');
    expect(limited.every((r) => !r.forwarded && r.time > 0 && r.endTime !== null && r.endTime >= r.time)).toBe(true);
  });

  it('ignores Range: 200 and the whole body instead of 206', async () => {
    const ranged = { headers: { Range: 'bytes=0-9' } };
    const plain = await exchange(davUrl('file-1m.bin'), ranged);
    expect([plain.status, plain.body.length]).toEqual([206, 10]);
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'ignore-range' } });
    const ignored = await exchange(davUrl('file-1m.bin'), ranged);
    expect([ignored.status, ignored.body.length]).toEqual([200, MiB]);
    const record = proxy.requests.at(-1);
    expect(record?.headers['range']).toBe('bytes=0-9');
  });

  it('throttles a 1 MiB body to about the rate it is given', async () => {
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'throttle', bytesPerSecond: 512 * 1024 } });
    const got = await exchange(davUrl('file-1m.bin'));
    expect(got.body.length).toBe(MiB);
    expect(got.ms).toBeGreaterThan(1_500);
    proxy.clearRules();
    proxy.setThrottle(1024 * 1024, 'upload');
    const put = await exchange(davUrl('throttled-up.bin'), { method: 'PUT', body: Buffer.alloc(MiB) });
    expect(put.status).toBe(201);
    expect(put.ms).toBeGreaterThan(700);
  });

  it('turns the ETag header and getetag values weak', async () => {
    // Apache itself hands out weak ETags for files changed within the current second.
    const old = new Date(Date.now() - 60_000);
    for (const name of ['weak/a.txt', 'weak/b.txt']) await utimes(await apache.writeFile(name, name), old, old);
    const strong = await exchange(davUrl('weak/a.txt'));
    expect(String(strong.headers.etag)).toMatch(/^"/);
    const strongList = (await exchange(davUrl('weak/'), { method: 'PROPFIND', headers: { Depth: '1' } })).body.toString();
    expect(strongList.match(/getetag>"/g)).toHaveLength(2);
    proxy.addRule({ action: { kind: 'weak-etags' } });
    const weak = await exchange(davUrl('weak/a.txt'));
    expect(weak.headers.etag).toBe(`W/${String(strong.headers.etag)}`);
    const list = await exchange(davUrl('weak/'), { method: 'PROPFIND', headers: { Depth: '1' } });
    const xml = list.body.toString();
    expect(list.status).toBe(207);
    expect(Number(list.headers['content-length'])).toBe(list.body.length);
    const etags = [...xml.matchAll(/<(?:\w+:)?getetag>([^<]*)<\//g)].map((m) => m[1]);
    expect(etags.length).toBeGreaterThanOrEqual(3);
    expect(etags.every((e) => e?.startsWith('W/"')), xml).toBe(true);
  });

  it('drops preconditions: a PUT with a failing If-Match succeeds', async () => {
    await apache.writeFile('pre.txt', 'theirs');
    const refused = await exchange(davUrl('pre.txt'), { method: 'PUT', body: 'ours', headers: { 'If-Match': '"not-the-etag"' } });
    expect(refused.status).toBe(412);
    proxy.addRule({ match: { method: 'PUT' }, action: { kind: 'drop-preconditions' } });
    const accepted = await exchange(davUrl('pre.txt'), { method: 'PUT', body: 'ours', headers: { 'If-Match': '"not-the-etag"' } });
    expect(accepted.status).toBe(204);
    expect(await readFile(apache.pathOf('pre.txt'), 'utf8')).toBe('ours');
  });

  it('hangs until the client gives up, and delays before forwarding', async () => {
    proxy.addRule({ match: { path: '/dav/hang.txt' }, action: { kind: 'hang' } });
    const hung = await exchange(davUrl('hang.txt'), { timeoutMs: 400 });
    expect(hung.error?.code).toBe('CLIENT_TIMEOUT');
    expect(hung.ms).toBeGreaterThanOrEqual(390);
    const record = await proxy.waitFor((r) => r.path === '/dav/hang.txt' && r.endTime !== null, 2_000);
    expect([record.outcome, record.forwarded, record.status]).toEqual(['hung', false, null]);

    proxy.addRule({ match: { path: '/dav/file-1m.bin' }, action: { kind: 'delay', ms: 300 } });
    const delayed = await exchange(davUrl('file-1m.bin'));
    expect(delayed.status).toBe(200);
    expect(delayed.ms).toBeGreaterThanOrEqual(290);
  });

  it('answers 502 while the server is down, and forwards again once it is back', async () => {
    await apache.stopServer();
    try {
      const down = await exchange(davUrl('file-1m.bin'));
      expect(down.status).toBe(502);
      expect(down.body.toString()).toContain('ECONNREFUSED');
      expect(proxy.requests.at(-1)?.outcome).toBe('upstream-error');
    } finally {
      await apache.startServer();
    }
    const back = await exchange(davUrl('file-1m.bin'));
    expect([back.status, back.body.length]).toEqual([200, MiB]);
  });

  it('cuts a hung request when it closes, and starts again on the same port', async () => {
    proxy.addRule({ action: { kind: 'hang' } });
    const hanging = exchange(davUrl('file-1m.bin'));
    await proxy.waitFor((r) => r.outcome === 'hung' && r.path === '/dav/file-1m.bin');
    const port = proxy.port;
    await proxy.close();
    expect((await hanging).error?.code).toBe('ECONNRESET');
    proxy = await startFaultProxy({ target: apache.url, port });
    expect(proxy.port).toBe(port);
    expect(proxy.url('file-1m.bin')).toBe(`http://127.0.0.1:${port}/dav/file-1m.bin`);
    const got = await exchange(proxy.url('file-1m.bin'));
    expect([got.status, got.body.length]).toEqual([200, MiB]);
    expect(proxy.stats()).toMatchObject({ total: 1, byMethod: { GET: 1 }, byStatus: { '200': 1 }, byOutcome: { complete: 1 } });
  });
});
