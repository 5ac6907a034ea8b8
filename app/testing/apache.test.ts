// The Apache harness against the real apache2: auth, PUT/GET/PROPFIND, Depth infinity,
// big bodies, restart on the same port, and a stop that leaves nothing behind.
import { existsSync } from 'node:fs';
import { readFile, stat, utimes } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache } from './apache.js';
import type { ApacheServer } from './apache.js';
import { httpRequest } from './http-client.js';

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('startApache', () => {
  let apache: ApacheServer;
  const auth = (): { user: string; password: string } => ({ user: apache.user, password: apache.password });

  beforeAll(async () => {
    apache = await startApache();
  });
  afterAll(async () => {
    await apache?.stop();
  });

  it('serves WebDAV at /dav/ on 127.0.0.1 with Basic auth', async () => {
    expect(apache.url).toBe(`http://127.0.0.1:${apache.port}/dav/`);
    expect(apache.origin).toBe(`http://127.0.0.1:${apache.port}`);
    expect(apache.isRunning()).toBe(true);
    const res = await httpRequest({ url: apache.url, method: 'OPTIONS', auth: auth() });
    expect(res.status).toBe(200);
    expect(String(res.headers['dav'])).toMatch(/\b1\b.*\b2\b/);
    expect((await httpRequest({ url: apache.url, method: 'OPTIONS' })).status).toBe(401);
    const wrong = await httpRequest({ url: apache.url, method: 'OPTIONS', auth: { user: apache.user, password: 'wrong' } });
    expect(wrong.status).toBe(401);
  });

  it('answers PUT, GET and PROPFIND Depth 1 (207), and refuses Depth infinity (403)', async () => {
    const put = await httpRequest({ url: `${apache.url}hello.txt`, method: 'PUT', body: 'hello', auth: auth() });
    expect(put.status).toBe(201);
    const get = await httpRequest({ url: `${apache.url}hello.txt`, auth: auth() });
    expect(get.status).toBe(200);
    expect(get.text()).toBe('hello');
    expect(await readFile(apache.pathOf('hello.txt'), 'utf8')).toBe('hello');
    const list = await httpRequest({ url: apache.url, method: 'PROPFIND', headers: { Depth: '1' }, auth: auth() });
    expect(list.status).toBe(207);
    expect(list.text()).toContain('<D:href>/dav/hello.txt</D:href>');
    const deep = await httpRequest({ url: apache.url, method: 'PROPFIND', headers: { Depth: 'infinity' }, auth: auth() });
    expect(deep.status).toBe(403);
    const log = await apache.waitForAccessLog((entries) => entries.some((e) => e.method === 'PROPFIND' && e.depth === 'infinity'));
    expect(log.find((e) => e.method === 'PROPFIND' && e.depth === 'infinity')?.status).toBe(403);
    expect(log.some((e) => e.method === 'PUT' && e.target === '/dav/hello.txt' && e.status === 201)).toBe(true);
  });

  it('takes a PUT body of several MB (LimitRequestBody 0)', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const put = await httpRequest({ url: `${apache.url}big.bin`, method: 'PUT', body, auth: auth() });
    expect(put.status).toBe(201);
    expect((await stat(apache.pathOf('big.bin'))).size).toBe(body.length);
  });

  it('serves files written straight into dataDir, and lets a PUT replace them', async () => {
    await apache.writeFile('direct/a.txt', 'on disk');
    const get = await httpRequest({ url: `${apache.url}direct/a.txt`, auth: auth() });
    expect(get.text()).toBe('on disk');
    const put = await httpRequest({ url: `${apache.url}direct/a.txt`, method: 'PUT', body: 'replaced', auth: auth() });
    expect(put.status).toBe(204);
    expect(await readFile(apache.pathOf('direct/a.txt'), 'utf8')).toBe('replaced');
    expect(() => apache.pathOf('../escape')).toThrow(/not below/);
  });

  it('gives strong ETags (FileETag MTime Size) and checks If-Match on PUT', async () => {
    const path = await apache.writeFile('etag.txt', 'v1');
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const head = await httpRequest({ url: `${apache.url}etag.txt`, method: 'HEAD', auth: auth() });
    const etag = String(head.headers['etag']);
    expect(etag).toMatch(/^"[^"]+"$/);
    const stale = await httpRequest({
      url: `${apache.url}etag.txt`,
      method: 'PUT',
      body: 'v2',
      headers: { 'If-Match': '"not-the-etag"' },
      auth: auth(),
    });
    expect(stale.status).toBe(412);
    const fresh = await httpRequest({ url: `${apache.url}etag.txt`, method: 'PUT', body: 'v2', headers: { 'If-Match': etag }, auth: auth() });
    expect(fresh.status).toBe(204);
    // Fact for the engine: Apache's PUT answer carries no ETag at all.
    expect(fresh.headers['etag']).toBeUndefined();
  });

  it('restarts on the same port with the same data, and really refuses connections while stopped', async () => {
    const { port } = apache;
    const before = apache.pid;
    await apache.stopServer();
    expect(apache.isRunning()).toBe(false);
    expect(apache.pid).toBeNull();
    expect(before !== null && processGone(before)).toBe(true);
    await expect(httpRequest({ url: apache.url, method: 'OPTIONS', auth: auth() })).rejects.toThrow(/ECONNREFUSED/);
    await apache.startServer();
    expect(apache.port).toBe(port);
    expect((await httpRequest({ url: `${apache.url}hello.txt`, auth: auth() })).text()).toBe('hello');
    await apache.restart();
    expect(apache.pid).not.toBe(before);
    expect((await httpRequest({ url: `${apache.url}hello.txt`, auth: auth() })).text()).toBe('hello');
  });
});

describe('startApache lifecycle', () => {
  it('stop() ends every Apache process and deletes the temp folder', async () => {
    const apache = await startApache();
    const pid = apache.pid;
    expect(pid).not.toBeNull();
    await apache.stop();
    expect(processGone(pid ?? -1)).toBe(true);
    // The workers were in the parent's process group: none of them is left either.
    expect(() => process.kill(-(pid ?? -1), 0)).toThrow();
    expect(existsSync(apache.tempDir)).toBe(false);
    await apache.stop();
  });

  it('startServer() waits for its port while someone else holds it for a moment', async () => {
    const apache = await startApache();
    try {
      await apache.stopServer();
      const blocker = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: apache.port }, resolve));
      setTimeout(() => blocker.close(), 400);
      await apache.startServer();
      expect(apache.isRunning()).toBe(true);
      expect(apache.errorLog()).toMatch(/could not bind|Address already in use/);
      const res = await httpRequest({ url: apache.url, method: 'OPTIONS', auth: { user: apache.user, password: apache.password } });
      expect(res.status).toBe(200);
    } finally {
      await apache.stop();
    }
  });

  it('fails with the end of the error log when Apache cannot start, and cleans up', async () => {
    const error = await startApache({ extraConfig: 'NoSuchDirective on' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/apache2 did not start/);
    expect((error as Error).message).toMatch(/NoSuchDirective/);
  });
});
