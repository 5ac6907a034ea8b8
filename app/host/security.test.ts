/**
 * S3, S8, S9, S10, S11 against a real host on real sockets (an AppService on an uninitialised
 * state folder: the checks come before any handler, and "no side effect" is visible as no
 * account.json appearing).
 */
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { CONTENT_SECURITY_POLICY } from './security-headers.js';
import { startHost } from './server.js';
import { AppService } from './service.js';
import { UI_NOT_BUILT } from './static-files.js';
import { WsClient, rawHttp, rawUpgrade, startTestHost, type TestHost } from './testing.js';

let tmp: TempDir;
let t: TestHost;
let port: number;
let token: string;
let stateDir: string;

const INDEX = '<!doctype html><title>t</title><script src="/app.js"></script>';

beforeAll(async () => {
  tmp = await makeTempDir('netfs-host-sec-');
  const ui = join(tmp.path, 'ui');
  await mkdir(join(ui, 'assets'), { recursive: true });
  await writeFile(join(ui, 'index.html'), INDEX);
  await writeFile(join(ui, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(tmp.path, 'outside.txt'), 'outside the UI folder');
  await symlink(join(tmp.path, 'outside.txt'), join(ui, 'assets', 'link.txt'));
  stateDir = join(tmp.path, 'state');
  t = await startTestHost({ stateDir, staticDir: ui });
  port = t.host.port;
  token = t.host.token;
});
afterAll(async () => {
  await t?.stop();
  await tmp?.remove();
});

const wrongSameLength = (): string => `${token.slice(0, 10)}${token[10] === 'x' ? 'y' : 'x'}${token.slice(11)}`;

function expectSecurityHeaders(h: Record<string, string>): void {
  expect(h['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(h['content-security-policy']).toContain("object-src 'none'");
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['x-frame-options']).toBe('DENY');
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['access-control-allow-origin']).toBeUndefined();
}

/** An authenticated API call over HTTP (the non-WebSocket route). */
function apiCall(command: string, body: unknown, headers: Record<string, string> = {}): ReturnType<typeof rawHttp> {
  return rawHttp({ port, method: 'POST', path: `/api/call/${command}`, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
const goodHeaders = (): Record<string, string> => ({ Authorization: `Bearer ${token}`, 'X-Netfs': '1' });
const addAccount = { remote: 'file:///nonexistent-netfs-remote', user: null, password: null, local: '/tmp/netfs-never' };

describe('headless host security', () => {
  it('listens on 127.0.0.1 and ::1; the token is 43 characters of base64url and only in the fragment', () => {
    expect(t.host.addresses).toEqual(['127.0.0.1', '::1']);
    expect(t.host.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t.host.url).toBe(`http://127.0.0.1:${port}/#token=${token}`);
  });

  it('S3: the UI and every other answer carry the CSP, nosniff, X-Frame-Options DENY and no-referrer', async () => {
    const index = await rawHttp({ port, path: '/' });
    expect(index.status).toBe(200);
    expect(index.body).toBe(INDEX);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(index.headers);
    const js = await rawHttp({ port, path: '/assets/app.js' });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expectSecurityHeaders(js.headers);
    for (const r of [await rawHttp({ port, path: '/nope.js' }), await rawHttp({ port, path: '/', hostHeader: 'evil.example' }), await rawHttp({ port, path: '/api/call/sync.status', method: 'POST' })]) {
      expect([404, 403, 401]).toContain(r.status);
      expectSecurityHeaders(r.headers);
    }
  });

  it('static files never leave the UI folder: "..", encoded "..", NUL, a symlink out -> 404', async () => {
    for (const path of ['/../outside.txt', '/%2e%2e/outside.txt', '/assets/%2e%2e/%2e%2e/outside.txt', '/assets/..%2f..%2foutside.txt', '/index.html%00', '/assets/link.txt', '/assets\\..\\..\\outside.txt']) {
      const r = await rawHttp({ port, path });
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('outside the UI folder');
    }
    expect((await rawHttp({ port, path: '/index.html', method: 'DELETE' })).status).toBe(405);
  });

  it('the UI not built: the index route answers a plain-text 503 saying so (no stand-in page)', async () => {
    const bare = await startTestHost({ stateDir: join(tmp.path, 'state-bare'), staticDir: join(tmp.path, 'no-such-ui') });
    try {
      const r = await rawHttp({ port: bare.host.port, path: '/' });
      expect(r.status).toBe(503);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.body.trim()).toBe(UI_NOT_BUILT);
      expectSecurityHeaders(r.headers);
      expect((await rawHttp({ port: bare.host.port, path: '/assets/app.js' })).status).toBe(404);
    } finally {
      await bare.stop();
    }
  });

  it('S8: HTTP with Host evil.example, evil.example:PORT, 127.0.0.1.nip.io, a wrong port, empty or none -> 403 before any auth or handler', async () => {
    const bad = ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, '127.0.0.1.nip.io', `127.0.0.1:${port + 1}`, `localhost:${port + 1}`, '', null];
    for (const hostHeader of bad) {
      for (const address of ['127.0.0.1', '::1']) {
        // With the right token and header: the Host check comes first, and the handler never runs.
        const r = await rawHttp({ port, address, hostHeader, method: 'POST', path: '/api/call/account.add', headers: { ...goodHeaders(), 'Content-Type': 'application/json' }, body: JSON.stringify(addAccount) });
        expect(r.status, `${String(hostHeader)} via ${address}`).toBe(403);
        expect((await rawHttp({ port, address, hostHeader, path: '/' })).status).toBe(403);
      }
    }
    expect(existsSync(join(stateDir, 'account.json'))).toBe(false);
  });

  it('S8: localhost:PORT, 127.0.0.1:PORT and [::1]:PORT proceed (UI, API and WebSocket upgrade)', async () => {
    for (const [hostHeader, address] of [
      [`localhost:${port}`, '127.0.0.1'],
      [`127.0.0.1:${port}`, '127.0.0.1'],
      [`[::1]:${port}`, '::1'],
      [`localhost:${port}`, '::1'],
    ] as const) {
      expect((await rawHttp({ port, address, hostHeader, path: '/' })).status).toBe(200);
      const api = await rawHttp({ port, address, hostHeader, method: 'POST', path: '/api/call/sync.status', headers: { ...goodHeaders(), 'Content-Type': 'application/json' }, body: '{}' });
      expect(api.status).toBe(200);
      expect(JSON.parse(api.body)).toEqual({ ok: true, value: expect.objectContaining({ sync: { state: 'unconfigured' } }) });
      expect((await rawUpgrade({ port, address, hostHeader, protocol: `netfs.token.${token}` })).status).toBe(101);
    }
  });

  it('S8: WebSocket upgrades with a foreign Host -> 403, even with the right token', async () => {
    for (const hostHeader of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `127.0.0.1:${port + 1}`, '', null]) {
      const r = await rawUpgrade({ port, hostHeader, protocol: `netfs.token.${token}` });
      expect(r.status, String(hostHeader)).toBe(403);
      expectSecurityHeaders(r.headers);
    }
  });

  it('S9: a foreign Origin is refused; a rebound name is refused by S8; no Origin works only with the token', async () => {
    for (const origin of ['https://evil.example', `http://evil.example:${port}`, 'null', `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`]) {
      expect((await rawUpgrade({ port, origin, protocol: `netfs.token.${token}` })).status, origin).toBe(403);
    }
    // DNS rebinding: the page's origin equals the Host it sends, both the attacker's name.
    expect((await rawUpgrade({ port, hostHeader: `evil.example:${port}`, origin: `http://evil.example:${port}`, protocol: `netfs.token.${token}` })).status).toBe(403);
    // Our own origin with the token: let through.
    expect((await rawUpgrade({ port, origin: `http://127.0.0.1:${port}`, protocol: `netfs.token.${token}` })).status).toBe(101);
    const withOrigin = new WsClient(t.wsUrl, { protocols: [`netfs.token.${token}`], origin: `http://localhost:${port}` });
    expect((await withOrigin.next((m) => m.type === 'hello'))['version']).toBe(1);
    withOrigin.close();
    // No Origin and no token: the socket is closed, nothing answered.
    const bare = new WsClient(t.wsUrl);
    await bare.opened;
    bare.send({ type: 'call', id: 1, command: 'sync.status', args: {} });
    expect((await bare.closed).code).toBe(4401);
    expect(bare.messages).toEqual([]);
  });

  it('S10: WebSocket with no token, a wrong one, a right-length wrong one: refused; the right one: hello', async () => {
    for (const bad of ['', 'x', wrongSameLength(), `${token}A`]) {
      const r = await rawUpgrade({ port, protocol: `netfs.token.${bad}` });
      expect(r.status, bad).toBe(401);
    }
    // Token as the first message: wrong -> closed 4401 without an answer; right -> hello.
    for (const bad of [wrongSameLength(), 'short', 42]) {
      const c = new WsClient(t.wsUrl);
      await c.opened;
      c.send({ type: 'auth', token: bad });
      expect((await c.closed).code).toBe(4401);
      expect(c.messages).toEqual([]);
    }
    const c = new WsClient(t.wsUrl);
    await c.opened;
    c.send({ type: 'auth', token });
    expect((await c.next((m) => m.type === 'hello'))['version']).toBe(1);
    expect(await c.call('sync.status', {})).toEqual({ ok: true, value: expect.objectContaining({ sync: { state: 'unconfigured' } }) });
    c.close();
    const viaProtocol = await t.connect();
    expect(viaProtocol.ws.protocol).toBe(`netfs.token.${token}`);
    viaProtocol.close();
  });

  it('S10: no token message within 5 s -> closed', async () => {
    const c = new WsClient(t.wsUrl);
    await c.opened;
    const started = Date.now();
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('S10: the token in a query string is never accepted', async () => {
    expect((await rawUpgrade({ port, path: `/api/ws?token=${token}` })).status).toBe(400);
    const r = await rawHttp({ port, method: 'POST', path: `/api/call/sync.status?token=${token}`, headers: { 'Content-Type': 'application/json', 'X-Netfs': '1' }, body: '{}' });
    expect(r.status).toBe(401);
  });

  it('S10: every API route without a token, with a wrong one, a right-length wrong one -> 401; the right one -> 200', async () => {
    for (const path of ['/api/call/sync.status', '/api/call/account.add', '/api/other', '/api/ws', '/api']) {
      for (const auth of [undefined, 'Bearer nope', `Bearer ${wrongSameLength()}`, `Basic ${Buffer.from(`x:${token}`).toString('base64')}`, token]) {
        const headers: Record<string, string> = { 'X-Netfs': '1', 'Content-Type': 'application/json' };
        if (auth !== undefined) headers['Authorization'] = auth;
        const r = await rawHttp({ port, method: 'POST', path, headers, body: JSON.stringify(addAccount) });
        expect(r.status, `${path} ${String(auth)}`).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer');
      }
    }
    expect((await apiCall('sync.status', {}, goodHeaders())).status).toBe(200);
    expect(existsSync(join(stateDir, 'account.json'))).toBe(false);
  });

  it('S11: a cross-site form POST (no custom header) is refused, with or without the token; no side effect', async () => {
    const form = 'remote=file%3A%2F%2F%2Ftmp&local=%2Ftmp%2Fx';
    const variants: Record<string, string>[] = [
      { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://evil.example' },
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      { 'Content-Type': 'text/plain', Authorization: `Bearer ${token}` },
      { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    ];
    for (const headers of variants) {
      const r = await rawHttp({ port, method: 'POST', path: '/api/call/account.add', headers, body: headers['Content-Type'] === 'application/json' ? JSON.stringify(addAccount) : form });
      expect([401, 403]).toContain(r.status);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
    // A page of another origin that somehow holds the token is still refused by its Origin.
    const foreign = await apiCall('account.add', addAccount, { ...goodHeaders(), Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    // The custom header and the token, but a form body: 415, nothing run.
    const formBody = await rawHttp({ port, method: 'POST', path: '/api/call/account.add', headers: { ...goodHeaders(), 'Content-Type': 'application/x-www-form-urlencoded' }, body: form });
    expect(formBody.status).toBe(415);
    expect(existsSync(join(stateDir, 'account.json'))).toBe(false);
  });

  it('S11: a CORS preflight from another origin gets no Access-Control-Allow-* header; authenticated answers carry none either', async () => {
    const pre = await rawHttp({
      port,
      method: 'OPTIONS',
      path: '/api/call/account.add',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, x-netfs, content-type' },
    });
    expect(pre.status).toBeGreaterThanOrEqual(400);
    for (const h of Object.keys(pre.headers)) expect(h.startsWith('access-control-')).toBe(false);
    const ok = await apiCall('sync.status', {}, goodHeaders());
    expect(ok.status).toBe(200);
    for (const h of Object.keys(ok.headers)) expect(h.startsWith('access-control-')).toBe(false);
    expectSecurityHeaders(ok.headers);
    // Framing by another origin is refused by the browser from these headers (S11, checked in S3 above).
    expect(ok.headers['x-frame-options']).toBe('DENY');
  });

  it('[::1] taken by someone else is not fatal: the host listens on 127.0.0.1 alone and says why', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen({ port: 0, host: '::1', ipv6Only: true }, () => r()));
    const taken = (squatter.address() as AddressInfo).port;
    const notes: string[] = [];
    const service = await AppService.open(join(tmp.path, 'state-v6'));
    try {
      const host = await startHost({ service, port: taken, staticDir: join(tmp.path, 'ui'), log: (m) => notes.push(m) });
      expect(host.addresses).toEqual(['127.0.0.1']);
      expect(notes.join('\n')).toContain(`not listening on [::1]:${taken}`);
      expect((await rawHttp({ port: taken, path: '/', hostHeader: `127.0.0.1:${taken}` })).status).toBe(200);
      await host.close();
    } finally {
      await service.close();
      squatter.close();
    }
  });

  it('an HTTP body over 1 MiB is refused with 413 and nothing runs', async () => {
    const big = JSON.stringify({ ...addAccount, local: 'x'.repeat(1024 * 1024 + 10) });
    const r = await apiCall('account.add', JSON.parse(big), goodHeaders());
    expect(r.status).toBe(413);
    expect(existsSync(join(stateDir, 'account.json'))).toBe(false);
  });
});
