// The rclone harness against the real `rclone serve webdav`: auth, PUT/GET/PROPFIND, big
// bodies, files written straight to disk, restart on the same port, clean stop. Also pins the
// quirks the engine must live with (no precondition checks on PUT).
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest } from './http-client.js';
import { startRcloneServe } from './rclone-serve.js';
import type { RcloneServer } from './rclone-serve.js';

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('startRcloneServe', () => {
  let rclone: RcloneServer;
  const auth = (): { user: string; password: string } => ({ user: rclone.user, password: rclone.password });

  beforeAll(async () => {
    rclone = await startRcloneServe();
  });
  afterAll(async () => {
    await rclone?.stop();
  });

  it('serves WebDAV at / on 127.0.0.1 with Basic auth', async () => {
    expect(rclone.url).toBe(`http://127.0.0.1:${rclone.port}/`);
    const res = await httpRequest({ url: rclone.url, method: 'OPTIONS', auth: auth() });
    expect(res.status).toBe(200);
    expect((await httpRequest({ url: rclone.url, method: 'PROPFIND', headers: { Depth: '0' } })).status).toBe(401);
    const wrong = await httpRequest({ url: rclone.url, method: 'PROPFIND', headers: { Depth: '0' }, auth: { user: rclone.user, password: 'wrong' } });
    expect(wrong.status).toBe(401);
  });

  it('answers PUT, GET and PROPFIND (207), Depth infinity included', async () => {
    const put = await httpRequest({ url: `${rclone.url}hello.txt`, method: 'PUT', body: 'hello', auth: auth() });
    expect(put.status).toBe(201);
    const get = await httpRequest({ url: `${rclone.url}hello.txt`, auth: auth() });
    expect(get.text()).toBe('hello');
    expect(await readFile(rclone.pathOf('hello.txt'), 'utf8')).toBe('hello');
    const list = await httpRequest({ url: rclone.url, method: 'PROPFIND', headers: { Depth: '1' }, auth: auth() });
    expect(list.status).toBe(207);
    expect(list.text()).toContain('<D:href>/hello.txt</D:href>');
    const deep = await httpRequest({ url: rclone.url, method: 'PROPFIND', headers: { Depth: 'infinity' }, auth: auth() });
    expect(deep.status).toBe(207);
  });

  it('takes a PUT body of several MB', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 0x62);
    const put = await httpRequest({ url: `${rclone.url}big.bin`, method: 'PUT', body, auth: auth() });
    expect(put.status).toBe(201);
    expect((await stat(rclone.pathOf('big.bin'))).size).toBe(body.length);
  });

  it('lists files written straight into dataDir at once (--dir-cache-time 0s)', async () => {
    await rclone.writeFile('direct/a.txt', 'on disk');
    const list = await httpRequest({ url: `${rclone.url}direct/`, method: 'PROPFIND', headers: { Depth: '1' }, auth: auth() });
    expect(list.text()).toContain('<D:href>/direct/a.txt</D:href>');
  });

  it('quirk: ignores If-Match and If-None-Match on PUT (answers 201 and overwrites)', async () => {
    const res = await httpRequest({
      url: `${rclone.url}hello.txt`,
      method: 'PUT',
      body: 'overwritten',
      headers: { 'If-Match': '"certainly-not-the-etag"' },
      auth: auth(),
    });
    expect(res.status).toBe(201);
    expect(res.headers['etag']).toMatch(/^"/);
    const none = await httpRequest({ url: `${rclone.url}hello.txt`, method: 'PUT', body: 'again', headers: { 'If-None-Match': '*' }, auth: auth() });
    expect(none.status).toBe(201);
    expect(await readFile(rclone.pathOf('hello.txt'), 'utf8')).toBe('again');
  });

  it('restarts on the same port with the same data, and refuses connections while stopped', async () => {
    const { port } = rclone;
    const before = rclone.pid;
    await rclone.stopServer();
    expect(rclone.isRunning()).toBe(false);
    expect(before !== null && processGone(before)).toBe(true);
    await expect(httpRequest({ url: rclone.url, method: 'OPTIONS', auth: auth() })).rejects.toThrow(/ECONNREFUSED/);
    await rclone.startServer();
    expect(rclone.port).toBe(port);
    expect((await httpRequest({ url: `${rclone.url}hello.txt`, auth: auth() })).text()).toBe('again');
    await rclone.restart();
    expect((await httpRequest({ url: `${rclone.url}big.bin`, method: 'HEAD', auth: auth() })).status).toBe(200);
  });
});

describe('startRcloneServe lifecycle', () => {
  it('stop() ends the process and deletes the temp folder', async () => {
    const rclone = await startRcloneServe({ baseUrl: '/dav' });
    expect(rclone.url).toBe(`http://127.0.0.1:${rclone.port}/dav/`);
    const pid = rclone.pid;
    await rclone.stop();
    expect(processGone(pid ?? -1)).toBe(true);
    expect(existsSync(rclone.tempDir)).toBe(false);
  });
});
