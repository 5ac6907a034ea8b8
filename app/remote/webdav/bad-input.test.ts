// Bad and hostile server input at the backend level (test-scenarios.md §6.3, §6.4), served
// byte for byte by the harness's replay server on 127.0.0.1.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isNetfsError } from '../../api/errors.js';
import { multistatus, multistatusResponse, type MultistatusEntry } from '../../testing/multistatus.js';
import { responseHead } from '../../testing/http-bytes.js';
import type { Reply } from '../../testing/replay-reply.js';
import { startReplayServer, type ReplayHandler, type ReplayServer } from '../../testing/replay-server.js';
import { createWebdavBackend, type WebdavBackend } from './backend.js';
import type { WebdavOptions } from './options.js';

let server: ReplayServer;
let canary: ReplayServer;
const open: WebdavBackend[] = [];

function backend(options: Partial<WebdavOptions> = {}): WebdavBackend {
  const b = createWebdavBackend({ url: server.url, user: 'alice', password: 's3cret', ...options });
  open.push(b);
  return b;
}

function serve(handler: ReplayHandler): void {
  server.setHandler(handler);
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; status?: number; retryAfterMs?: number }> {
  try {
    await p;
  } catch (e) {
    if (isNetfsError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure, got success');
}

const self = (href = '/dav/'): MultistatusEntry => ({ href, props: { resourcetype: 'collection', getetag: '"root"' } });
const file = (href: string, extra: Partial<NonNullable<MultistatusEntry['props']>> = {}): MultistatusEntry => ({
  href,
  props: { resourcetype: 'file', getcontentlength: 5, getetag: '"e"', getlastmodified: 'Sun, 06 Nov 1994 08:49:37 GMT', ...extra },
});

/** Whole headers at once, then the body one byte every `ms`. */
async function dripBody(reply: Reply, body: string, ms: number): Promise<void> {
  await reply.raw(responseHead(207, [['content-type', 'application/xml'], ['content-length', String(Buffer.byteLength(body))]]));
  await reply.drip(body, ms);
}

beforeAll(async () => {
  server = await startReplayServer(async (_req, reply) => reply.send({ status: 500 }));
  canary = await startReplayServer(async (_req, reply) => reply.send({ status: 200, body: 'canary' }));
});
afterAll(async () => {
  await Promise.all(open.map((b) => b.close()));
  await server?.close();
  await canary?.close();
});
beforeEach(() => {
  server.requests.length = 0;
  canary.requests.length = 0;
});

describe('B1: names in listings decode exactly once, whatever form the hrefs take', () => {
  it('encoded, unencoded, lower-case hex, absolute URL, relative; the folder with and without slash', async () => {
    serve(async (req, reply) =>
      reply.send(
        multistatusResponse([
          self('/dav'),
          self('/dav/'),
          file('/dav/a%20b%25c.txt'),
          file('/dav/sp ace'),
          file('/dav/%c3%a9t%c3%a9'),
          file(`${server.origin}/dav/abs%23url`),
          file('rel%3Fative'),
          file('/dav/nfd-e%CC%81'),
          file('/dav/lit%2520eral'),
          file('/dav/amp&amp;ersand'.replace('&amp;', '&')),
          { href: '/dav/sub/', props: { resourcetype: 'collection' } },
        ]),
      ),
    );
    const l = await backend().list('/');
    expect(l.entries.map((e) => e.name).sort()).toEqual(
      ['a b%c.txt', 'sp ace', '\u00e9t\u00e9', 'abs#url', 'rel?ative', 'nfd-e\u0301', 'lit%20eral', 'amp&ersand', 'sub'].sort(),
    );
    expect(l.entries.find((e) => e.name === 'sub')).toMatchObject({ kind: 'folder', path: '/sub' });
    expect(l.problems).toEqual([]);
    // What we asked for was encoded once, exactly.
    expect(server.requests[0]).toMatchObject({ method: 'PROPFIND', path: '/dav/' });
  });

  it('a request for an odd name is encoded so that the server decodes it to the same bytes', async () => {
    serve(async (req, reply) => reply.send(multistatusResponse([{ href: req.path, props: { resourcetype: 'file', getcontentlength: 1 } }])));
    const e = await backend().stat('/dir #1/a b?c&d+e%f;g[h].txt');
    expect(e.name).toBe('a b?c&d+e%f;g[h].txt');
    expect(server.requests[0]!.path).toBe('/dav/dir%20%231/a%20b%3Fc%26d%2Be%25f%3Bg%5Bh%5D.txt');
  });
});

describe('B3: getlastmodified in every format, empty, garbage or absent', () => {
  it('parses what can be parsed; the rest is unknown (null), never a problem and never a guess', async () => {
    const dates = ['Sun, 06 Nov 1994 08:49:37 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT', 'Sun Nov  6 08:49:37 1994', 'Sun, 06 Nov 1994 09:49:37 +0100', '1994-11-06T08:49:37Z', '', 'not a date'];
    serve(async (_req, reply) =>
      reply.send(
        multistatusResponse([
          self(),
          ...dates.map((d, i) => file(`/dav/f${i}`, { getlastmodified: d })),
          { href: '/dav/absent', props: { resourcetype: 'file', getcontentlength: 1 } },
        ]),
      ),
    );
    const l = await backend().list('/');
    const byName = Object.fromEntries(l.entries.map((e) => [e.name, e.mtimeMs]));
    for (let i = 0; i < 5; i++) expect(byName[`f${i}`], dates[i]).toBe(784111777000);
    expect(byName['f5']).toBeNull();
    expect(byName['f6']).toBeNull();
    expect(byName['absent']).toBeNull();
    expect(l.problems).toEqual([]);
  });
});

describe('B4: entries with missing properties are entry errors; the rest of the listing stands', () => {
  it('missing getetag / getcontentlength / resourcetype, 404 propstats, a 403 response, duplicate hrefs', async () => {
    serve(async (_req, reply) =>
      reply.send(
        multistatusResponse([
          self(),
          file('/dav/good'),
          { href: '/dav/no-etag', props: { resourcetype: 'file', getcontentlength: 3 } },
          { href: '/dav/no-length', props: { resourcetype: 'file', getetag: '"x"' } },
          { href: '/dav/no-type', props: { getcontentlength: 3, getetag: '"x"' } },
          {
            href: '/dav/propstat-404',
            propstats: [
              { status: 200, props: { getetag: '"y"' } },
              { status: 404, props: { resourcetype: '', getcontentlength: '' } },
            ],
          },
          { href: '/dav/forbidden', status: 403 },
          file('/dav/dup'),
          file('/dav/dup', { getetag: '"other"' }),
        ]),
      ),
    );
    const l = await backend().list('/');
    expect(l.entries.map((e) => e.name).sort()).toEqual(['good', 'no-etag']);
    expect(l.entries.find((e) => e.name === 'no-etag')).toMatchObject({ etag: null, etagStrength: 'none', size: 3 });
    const problems = Object.fromEntries(l.problems.map((p) => [p.href, p.kind]));
    expect(problems).toEqual({
      '/dav/no-length': 'MISSING_PROPERTIES',
      '/dav/no-type': 'MISSING_PROPERTIES',
      '/dav/propstat-404': 'MISSING_PROPERTIES',
      '/dav/forbidden': 'ENTRY_STATUS',
      '/dav/dup': 'DUPLICATE',
    });
  });
});

describe('B5: a broken listing fails with PROTOCOL, never an empty success', () => {
  const cases: Array<[string, ReplayHandler]> = [
    ['200 with an HTML login page', async (_r, reply) => reply.send({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Login</body></html>' })],
    ['empty 207', async (_r, reply) => reply.send({ status: 207, headers: { 'content-type': 'application/xml' }, body: '' })],
    ['207 with no responses', async (_r, reply) => reply.send({ status: 207, body: '<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"/>' })],
    ['XML cut short', async (_r, reply) => reply.send({ status: 207, body: multistatus([self(), file('/dav/a')]).slice(0, -40) })],
    ['wrong charset (Latin-1 bytes)', async (_r, reply) => reply.send({ status: 207, headers: { 'content-type': 'text/xml; charset=iso-8859-1' }, body: Buffer.from(multistatus([self(), file('/dav/\u00e9')]), 'latin1') })],
    ['undeclared UTF-16', async (_r, reply) => reply.send({ status: 207, body: Buffer.from(multistatus([self()]), 'utf16le') })],
  ];
  it.each(cases)('%s', async (_name, handler) => {
    serve(handler);
    const e = await failure(backend().list('/'));
    expect(e.code).toBe('PROTOCOL');
    expect(e.message).toMatch(/PROPFIND \//);
  });

  it('a chunked body without its final chunk fails (as a cut connection, retryable)', async () => {
    serve(async (_r, reply) => reply.chunked(207, { 'content-type': 'application/xml' }, [multistatus([self(), file('/dav/a')])], { final: false, close: true }));
    const e = await failure(backend().list('/'));
    expect(['TRANSIENT', 'PROTOCOL']).toContain(e.code);
  });
});

describe('B6: a folder of 20,000 entries, many with & in the name', () => {
  it('parses completely and quickly', async () => {
    const entries = [self(), ...Array.from({ length: 20_000 }, (_, i) => file(`/dav/file%20${i}%20%26%20more&amp;${i % 7}`.replace('&amp;', '&')))];
    const body = multistatus(entries);
    serve(async (_r, reply) => reply.send({ status: 207, body }));
    const t0 = performance.now();
    const l = await backend().list('/');
    const ms = performance.now() - t0;
    expect(l.entries).toHaveLength(20_000);
    expect(l.entries[0]!.name).toMatch(/^file \d+ & more&\d$/);
    expect(ms).toBeLessThan(5000);
  });
});

describe('B7: odd GET bodies', () => {
  it('a chunked whole-file answer without Content-Length is read to its end', async () => {
    serve(async (_r, reply) => reply.chunked(200, {}, ['hello ', 'world'], { final: true }));
    const buf = new Uint8Array(64);
    const r = await backend().read('/f', { offset: 0, length: 64, buffers: [buf] });
    expect(r).toMatchObject({ transferred: 11, eof: true, size: 11 });
    expect(Buffer.from(buf.subarray(0, 11)).toString()).toBe('hello world');
  });

  it('a body longer than asked for is refused (TOO_LARGE), never used', async () => {
    serve(async (_r, reply) => reply.send({ status: 206, headers: { 'content-range': 'bytes 0-19/100' }, body: 'x'.repeat(20) }));
    const e = await failure(backend().read('/f', { offset: 0, length: 10, buffers: [new Uint8Array(10)] }));
    expect(e.code).toBe('TOO_LARGE');
  });

  it('a 206 whose body is longer than its Content-Length: only the promised bytes are taken', async () => {
    serve(async (_r, reply) =>
      reply.send({ status: 206, headers: { 'content-range': 'bytes 0-9/100' }, body: '0123456789EXTRAEXTRA', contentLength: 10, close: true }),
    );
    const buf = new Uint8Array(10);
    const r = await backend().read('/f', { offset: 0, length: 10, buffers: [buf] });
    expect(r.transferred).toBe(10);
    expect(Buffer.from(buf).toString()).toBe('0123456789');
  });

  it('a body cut under a full Content-Length fails TRANSIENT with the bytes already placed (F2 at the backend)', async () => {
    serve(async (_r, reply) => reply.send({ status: 206, headers: { 'content-range': 'bytes 0-99/100' }, body: 'y'.repeat(40), contentLength: 100, close: true }));
    const e = await failure(backend().read('/f', { offset: 0, length: 100, buffers: [new Uint8Array(100)] }));
    expect(e.code).toBe('TRANSIENT');
    expect((e as { transferred?: number }).transferred).toBe(40);
  });

  it('a server that ignores Range (200 and the whole body) fails as too much data, marked rangeIgnored (behaviour 13)', async () => {
    serve(async (_r, reply) => reply.send({ status: 200, body: 'z'.repeat(100) }));
    const e = await failure(backend().read('/f', { offset: 10, length: 10, buffers: [new Uint8Array(10)] }));
    expect(e).toMatchObject({ code: 'TOO_LARGE', rangeIgnored: true });
    expect(server.requests[0]!.headers['range']).toBe('bytes=10-19');
  });
});

describe('M1: hrefs outside the listed folder are dropped and reported; the rest is listed', () => {
  it('drops ../, encoded dots and slashes, NUL, other paths and hosts, a 4,096-byte name', async () => {
    const hostile = ['/dav/../x', '/dav/%2e%2e/x', '/dav/..%2fx', '/dav/a%2fb', '/dav/..%5cx', '/dav/a%00b', '/elsewhere/x', 'http://other-host/dav/x', `/dav/${'n'.repeat(4096)}`, '/dav/deep/er/x'];
    serve(async (_r, reply) => reply.send(multistatusResponse([self(), file('/dav/fine'), ...hostile.map((h) => ({ ...file(h), rawHref: true }))])));
    const l = await backend().list('/');
    expect(l.entries.map((e) => e.name)).toEqual(['fine']);
    expect(l.problems).toHaveLength(hostile.length);
    for (const p of l.problems) expect(['OUTSIDE_FOLDER', 'BAD_NAME']).toContain(p.kind);
  });
});

describe('M3: XML bombs in a PROPFIND answer', () => {
  it('billion laughs and external entities are refused within 1 s; the canary gets no request', async () => {
    const bombs = [
      `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/&c;</D:href></D:response></D:multistatus>`,
      `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "${canary.origin}/canary">]><D:multistatus xmlns:D="DAV:"><D:response><D:href>&x;</D:href></D:response></D:multistatus>`,
      `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><D:multistatus xmlns:D="DAV:"><D:response><D:href>&x;</D:href></D:response></D:multistatus>`,
    ];
    for (const body of bombs) {
      serve(async (_r, reply) => reply.send({ status: 207, body }));
      const t0 = performance.now();
      const e = await failure(backend().list('/'));
      expect(e.code).toBe('PROTOCOL');
      expect(e.message).not.toMatch(/root:/);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    expect(canary.requests).toHaveLength(0);
  });
});

describe('M4: answers that never end, or end too big', () => {
  it('a listing bigger than the cap is cut off with TOO_LARGE', async () => {
    serve(async (_r, reply) => reply.chunked(207, {}, (function* () { for (let i = 0; i < 10_000; i++) yield 'x'.repeat(1024); })(), { final: true }));
    const e = await failure(backend({ limits: { maxListingBytes: 1024 * 1024 } }).list('/'));
    expect(e.code).toBe('TOO_LARGE');
  });

  it('1 MiB of response headers is refused (PROTOCOL)', async () => {
    serve(async (_r, reply) => reply.send({ status: 207, headers: Array.from({ length: 1024 }, (_, i) => [`x-h${i}`, 'v'.repeat(1000)] as const), body: '' }));
    const e = await failure(backend().list('/'));
    expect(e.code).toBe('PROTOCOL');
    expect(e.message).toMatch(/headers/);
  });

  it('a body that drips one byte at a time is cut off by the idle timeout', async () => {
    serve(async (_r, reply) => dripBody(reply, multistatus([self()]), 2000));
    const t0 = performance.now();
    const e = await failure(backend({ timeouts: { bodyIdleMs: 300 } }).list('/'));
    expect(e.code).toBe('TRANSIENT');
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('a listing that drips fast enough to dodge the idle timeout is ended by the listing deadline', async () => {
    serve(async (_r, reply) => dripBody(reply, multistatus([self()]), 50));
    const t0 = performance.now();
    const e = await failure(backend({ timeouts: { bodyIdleMs: 1000, listingDeadlineMs: 700 } }).list('/'));
    expect(e.code).toBe('TRANSIENT');
    expect(e.message).toMatch(/deadline/);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('F3: a server that accepts and never answers times out within the configured limit', async () => {
    serve((_r, reply) => reply.hang());
    const t0 = performance.now();
    const e = await failure(backend({ timeouts: { headersMs: 400 } }).stat('/x'));
    expect(e.code).toBe('TRANSIENT');
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe('M5: redirects', () => {
  it('to another origin: followed for a GET without our credentials', async () => {
    canary.setHandler(async (_r, reply) => reply.send({ status: 200, body: 'moved' }));
    serve(async (_r, reply) => reply.send({ status: 302, headers: { location: `${canary.origin}/elsewhere/f` } }));
    const buf = new Uint8Array(5);
    await backend().read('/f', { offset: 0, length: 5, buffers: [buf] });
    expect(Buffer.from(buf).toString()).toBe('moved');
    expect(server.requests[0]!.headers['authorization']).toMatch(/^Basic /);
    expect(canary.requests).toHaveLength(1);
    expect(canary.requests[0]!.headers['authorization']).toBeUndefined();
  });

  it('to file:// or a custom scheme: refused', async () => {
    for (const location of ['file:///etc/passwd', 'ms-settings:privacy', 'javascript:alert(1)']) {
      serve(async (_r, reply) => reply.send({ status: 301, headers: { location } }));
      const e = await failure(backend().read('/f', { offset: 0, length: 5, buffers: [new Uint8Array(5)] }));
      expect(e.code).toBe('INSECURE');
    }
  });

  it('a loop: at most 5 hops, then PROTOCOL', async () => {
    serve(async (req, reply) => reply.send({ status: 307, headers: { location: req.path + 'x' } }));
    const e = await failure(backend().stat('/f'));
    expect(e.code).toBe('PROTOCOL');
    expect(e.message).toMatch(/redirects/);
    expect(server.requests.length).toBe(6);
  });

  it('a redirected PUT is not followed (its body cannot be replayed)', async () => {
    serve(async (_r, reply) => reply.send({ status: 307, headers: { location: `${canary.origin}/x` } }));
    async function* one() {
      yield Buffer.from('x');
    }
    const e = await failure(backend().write('/f', { length: 1, source: one(), precondition: { kind: 'absent' } }));
    expect(e.code).toBe('PROTOCOL');
    expect(canary.requests).toHaveLength(0);
  });
});

describe('status answers map to the small set of codes, with the server words shown as text', () => {
  it.each([
    [401, 'AUTH'], [403, 'FORBIDDEN'], [404, 'NOT_FOUND'], [409, 'CONFLICT'], [412, 'PRECONDITION_FAILED'], [423, 'LOCKED'],
    [500, 'TRANSIENT'], [502, 'TRANSIENT'], [507, 'INSUFFICIENT_STORAGE'], [413, 'TOO_LARGE'], [400, 'PROTOCOL'],
  ])('%i -> %s', async (status, code) => {
    serve(async (_r, reply) => reply.send({ status, body: '<b>Server</b> says <script>alert(1)</script>\u202eno' }));
    const e = await failure(backend().stat('/f'));
    expect(e.code).toBe(code);
    expect(e.message).not.toMatch(/[<>\u202e]/);
  });

  it('429 and 503 carry Retry-After (seconds or date), absurd values capped at one hour (F8)', async () => {
    serve(async (_r, reply) => reply.send({ status: 429, headers: { 'retry-after': '7' } }));
    expect(await failure(backend().stat('/f'))).toMatchObject({ code: 'TRANSIENT', retryAfterMs: 7000, status: 429 });
    serve(async (_r, reply) => reply.send({ status: 503, headers: { 'retry-after': '999999999' } }));
    expect(await failure(backend().stat('/f'))).toMatchObject({ code: 'TRANSIENT', retryAfterMs: 3_600_000 });
  });

  it('a reset connection is TRANSIENT; a refused one is UNREACHABLE', async () => {
    serve(async (_r, reply) => reply.reset());
    expect((await failure(backend().stat('/f'))).code).toBe('TRANSIENT');
    const dead = createWebdavBackend({ url: 'http://127.0.0.1:1/dav/' });
    open.push(dead);
    expect((await failure(dead.stat('/f'))).code).toBe('UNREACHABLE');
  });

  it('S12: plain http:// to a host off this machine is refused before anything is sent', () => {
    for (const url of ['http://example.com/dav/', 'http://10.0.0.1/dav/', 'http://127.0.0.1.nip.io/dav/']) {
      expect(() => createWebdavBackend({ url, user: 'u', password: 'p' }), url).toThrowError(expect.objectContaining({ code: 'INSECURE' }));
    }
    expect(() => createWebdavBackend({ url: 'http://example.com/dav/', allowInsecureHttp: true })).not.toThrow();
    expect(() => createWebdavBackend({ url: 'ftp://example.com/' })).toThrowError(expect.objectContaining({ code: 'INSECURE' }));
    expect(() => createWebdavBackend({ url: 'https://u:p@example.com/' })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('a cancelled request is CANCELLED, promptly', async () => {
    serve((_r, reply) => reply.hang());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = performance.now();
    expect((await failure(backend().stat('/f', { signal: ac.signal }))).code).toBe('CANCELLED');
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
