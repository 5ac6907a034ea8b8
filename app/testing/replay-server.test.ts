// The replay server against real clients (raw sockets and node:http): exact bytes out,
// requests recorded as sent, keep-alive, and the misbehaviours (hang, reset, drip, no final chunk).
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest } from './http-client.js';
import { responseBytes } from './http-bytes.js';
import { multistatus, multistatusResponse } from './multistatus.js';
import { startReplayServer } from './replay-server.js';
import type { ReplayHandler, ReplayServer } from './replay-server.js';

interface RawResult {
  data: Buffer;
  /** Arrival times (ms since the request was written) of each data event. */
  times: number[];
  error: Error | null;
}

/** Writes `bytes` on a fresh connection and collects all that comes back until EOF, error or timeout. */
function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const times: number[] = [];
    let started = 0;
    let error: Error | null = null;
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('raw client timeout')));
    socket.on('connect', () => {
      started = Date.now();
      socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      times.push(Date.now() - started);
    });
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('close', () => resolve({ data: Buffer.concat(chunks), times, error }));
  });
}

const GET_CLOSE = 'GET /dav/x HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n';

describe('startReplayServer', () => {
  let server: ReplayServer | undefined;
  const start = async (handler: ReplayHandler): Promise<ReplayServer> => {
    server = await startReplayServer(handler);
    return server;
  };
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('sends exactly the bytes given, nothing added', async () => {
    const exact = 'HTTP/1.1 200 OK\r\nX-Odd :  spaced\r\nContent-Length: 2\r\n\r\nhi';
    const s = await start((_req, reply) => reply.raw(exact));
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/dav/`);
    const res = await rawExchange(s.port, GET_CLOSE);
    expect(res.data.toString('latin1')).toBe(exact);
    expect(res.error).toBeNull();
  });

  it('records method, raw path, headers and body (Content-Length and chunked)', async () => {
    const s = await start((_req, reply) => reply.send({ status: 204 }));
    const put = await httpRequest({
      url: `${s.origin}/dav/a%20b%2Fc?x=1`,
      method: 'PUT',
      body: 'content',
      headers: { 'If-Match': '"abc"', Range: 'bytes=3-' },
      auth: { user: 'u', password: 'p' },
    });
    expect(put.status).toBe(204);
    await rawExchange(
      s.port,
      'POST /dav/%2e%2e/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n',
    );
    const [first, second] = s.requests;
    expect(first).toMatchObject({ method: 'PUT', path: '/dav/a%20b%2Fc?x=1', httpVersion: 'HTTP/1.1', index: 0 });
    expect(first?.headers['if-match']).toBe('"abc"');
    expect(first?.headers['range']).toBe('bytes=3-');
    expect(first?.headers['authorization']).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(first?.rawHeaders).toContainEqual(['If-Match', '"abc"']);
    expect(first?.body.toString()).toBe('content');
    expect(second).toMatchObject({ method: 'POST', path: '/dav/%2e%2e/x', index: 1 });
    expect(second?.body.toString()).toBe('abcde');
  });

  it('keeps a connection alive across several requests', async () => {
    const s = await start((req, reply) => reply.send({ status: 200, body: `you asked ${req.path}` }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: s.port, path, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/dav/1')).toBe('you asked /dav/1');
    expect(await get('/dav/2')).toBe('you asked /dav/2');
    expect(await get('/dav/3')).toBe('you asked /dav/3');
    agent.destroy();
    expect(s.connectionCount).toBe(1);
    expect(s.requests.map((r) => [r.connection, r.indexOnConnection])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
  });

  it('answers Expect: 100-continue before reading the body', async () => {
    const s = await start((req, reply) => reply.send({ status: 201, body: req.body, close: true }));
    const socket = connect({ port: s.port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.write('PUT /dav/f HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    expect(Buffer.concat(received).toString()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('body');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Buffer.concat(received).toString()).toMatch(/HTTP\/1\.1 201 Created\r\nContent-Length: 4\r\n\r\nbody$/);
  });

  it('hangs: the request is read, never answered, and close() ends the connection', async () => {
    const s = await start((_req, reply) => reply.hang());
    const pending = httpRequest({ url: s.url, timeoutMs: 300 });
    await expect(pending).rejects.toThrow(/no activity for 300 ms/);
    expect(s.requests).toHaveLength(1);
    const held = rawExchange(s.port, GET_CLOSE);
    for (let i = 0; i < 100 && s.requests.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.openConnections()).toBeGreaterThanOrEqual(1);
    await s.close();
    const res = await held;
    expect(res.data.length).toBe(0);
  });

  it('resets the connection after K bytes', async () => {
    const full = responseBytes({ status: 200, body: 'x'.repeat(1000) });
    const s = await start((_req, reply) => reply.reset(full, 50));
    const res = await rawExchange(s.port, GET_CLOSE);
    expect(res.data.equals(full.subarray(0, 50))).toBe(true);
    // A RST that arrives together with the last data reaches a Node client as a plain EOF
    // (libuv's POLLHUP shortcut), so only the reset with nothing before it must be an error.
    expect([null, 'ECONNRESET']).toContain((res.error as NodeJS.ErrnoException | null)?.code ?? null);
    s.setHandler((_req, reply) => reply.reset());
    const bare = await rawExchange(s.port, GET_CLOSE);
    expect(bare.data.length).toBe(0);
    expect((bare.error as NodeJS.ErrnoException | null)?.code).toBe('ECONNRESET');
  });

  it('sends a chunked body without its final chunk, and lies about Content-Length', async () => {
    const s = await start(async (req, reply) => {
      if (req.path.endsWith('/chunked')) await reply.chunked(200, { 'X-A': '1' }, ['abc', '', 'defg'], { final: false, close: true });
      else await reply.send({ status: 200, body: 'short', contentLength: 100, close: true });
    });
    const chunked = await rawExchange(s.port, GET_CLOSE.replace('/dav/x', '/dav/chunked'));
    expect(chunked.data.toString()).toBe('HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n');
    const short = await rawExchange(s.port, GET_CLOSE);
    expect(short.data.toString()).toBe('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort');
  });

  it('drips a response one byte at a time, and sends 1 MiB of headers', async () => {
    const s = await start(async (req, reply) => {
      if (req.path.endsWith('/drip')) await reply.drip('HTTP/1.1 204 No Content\r\n\r\n', 15, { bytesPerTick: 9, close: true });
      else await reply.send({ status: 200, headers: [['X-Big', 'a'.repeat(1024 * 1024)]], close: true });
    });
    const drip = await rawExchange(s.port, GET_CLOSE.replace('/dav/x', '/dav/drip'));
    expect(drip.data.toString()).toBe('HTTP/1.1 204 No Content\r\n\r\n');
    expect(drip.times.length).toBeGreaterThanOrEqual(2);
    expect(drip.times.at(-1)).toBeGreaterThanOrEqual(25);
    const big = await rawExchange(s.port, GET_CLOSE);
    expect(big.data.length).toBeGreaterThan(1024 * 1024);
  });

  it('answers 500 when the handler throws or forgets to reply, 431 for a huge request head', async () => {
    const s = await start((req) => {
      if (req.path.endsWith('/throw')) throw new Error('boom');
    });
    expect((await httpRequest({ url: `${s.url}throw` })).status).toBe(500);
    expect(s.errors.map((e) => e.message)).toEqual(['boom']);
    const silent = await httpRequest({ url: `${s.url}nothing` });
    expect(silent.status).toBe(500);
    expect(silent.text()).toMatch(/sent no reply/);
    const huge = await rawExchange(s.port, `GET /dav/ HTTP/1.1\r\nX: ${'b'.repeat(70 * 1024)}\r\n\r\n`);
    expect(huge.data.toString()).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('multistatus', () => {
  it('builds a 207 body with per-propstat statuses, response-level statuses and escaped hrefs', () => {
    const xml = multistatus([
      { href: '/dav/', props: { resourcetype: 'collection', getetag: '"root"' } },
      {
        href: '/dav/a&b.txt',
        props: { resourcetype: 'file', getcontentlength: 5, getlastmodified: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), getetag: '"e1"' },
        propstats: [{ status: 404, props: { getcontenttype: '' } }],
      },
      { href: '/dav/secret', status: 403 },
    ]);
    const parsed = new XMLParser({ removeNSPrefix: true, isArray: (name) => ['response', 'propstat'].includes(name) }).parse(xml) as {
      multistatus: { response: Array<{ href: string; status?: string; propstat?: Array<{ status: string; prop: Record<string, unknown> }> }> };
    };
    const [root, file, secret] = parsed.multistatus.response;
    expect(root?.href).toBe('/dav/');
    expect(root?.propstat?.[0]?.prop['resourcetype']).toEqual({ collection: '' });
    expect(file?.href).toBe('/dav/a&b.txt');
    expect(file?.propstat?.[0]?.prop).toMatchObject({ getcontentlength: 5, getlastmodified: 'Tue, 02 Jan 2024 03:04:05 GMT', getetag: '"e1"' });
    expect(file?.propstat?.[1]?.status).toBe('HTTP/1.1 404 Not Found');
    expect(secret?.status).toBe('HTTP/1.1 403 Forbidden');
    expect(multistatus([{ href: 'a<b', rawHref: true }])).toContain('<D:href>a<b</D:href>');
    expect(multistatusResponse([]).status).toBe(207);
  });
});
