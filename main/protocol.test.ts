// The app:// handler (S5: "UI via a custom protocol whose handler rejects '..'") on real files
// in a temp folder: only files inside dist/renderer are served, each with the strict CSP.
// protocol.ts imports `electron` for types only, so no test double is needed here.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CSP, handleAppRequest, resolveAppPath } from './protocol.js';

let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'netfs-protocol-'));
  root = join(base, 'dist', 'renderer');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>netfs-sync</title>');
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(root, 'assets', 'name with space.css'), 'body{}');
  await writeFile(join(base, 'dist', 'secret.txt'), 'outside the UI folder');
  await writeFile(join(base, 'dist', 'renderer-evil.txt'), 'a sibling whose name starts like the root');
  await symlink(join(base, 'dist', 'secret.txt'), join(root, 'assets', 'link.txt'));
  await symlink('/etc', join(root, 'etc'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function get(url: string, method = 'GET'): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await handleAppRequest(root, { url, method });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('app:// protocol handler (S5)', () => {
  it('serves index.html for / and files under dist/renderer with their type, the strict CSP and nosniff', async () => {
    for (const url of ['app://netfs/', 'app://netfs', 'app://netfs/index.html']) {
      const r = await get(url);
      expect(r.status, url).toBe(200);
      expect(r.body).toContain('<title>netfs-sync</title>');
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    }
    const js = await get('app://netfs/assets/app.js?v=1#x');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await get('app://netfs/assets/name%20with%20space.css')).status).toBe(200);
  });

  it('the CSP allows only the app\'s own files: no inline or eval script, no framing, no plugins', () => {
    expect(APP_CSP).toContain("default-src 'none'");
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).toContain("frame-ancestors 'none'");
    expect(APP_CSP).toContain("object-src 'none'");
    expect(APP_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('refuses ".." in every spelling, encoded separators and NUL, before touching the disk', async () => {
    const climbs = [
      'app://netfs/../secret.txt',
      'app://netfs/assets/../../secret.txt',
      'app://netfs/%2e%2e/secret.txt',
      'app://netfs/%2E%2E/%2e%2e/dist/secret.txt',
      'app://netfs/.%2e/secret.txt',
      'app://netfs/assets/..%2f..%2fsecret.txt',
      'app://netfs/assets/%2e%2e%5csecret.txt',
      'app://netfs/..\\secret.txt',
      'app://netfs/index.html%00.js',
      'app://netfs/./index.html',
    ];
    for (const url of climbs) {
      const r = await get(url);
      expect(r.status, url).toBe(403);
      expect(r.body).not.toContain('outside the UI folder');
      expect(resolveAppPath(root, url).kind, url).toBe('refused');
    }
  });

  it('refuses anything outside dist/renderer: symlinks out, absolute paths, other hosts and schemes, other methods', async () => {
    expect((await get('app://netfs/assets/link.txt')).status).toBe(403);
    expect((await get('app://netfs/etc/passwd')).status).toBe(403);
    expect((await get('app://netfs//etc/passwd')).status).toBe(403); // root/etc is the symlink to /etc
    expect((await get('app://netfs//passwd')).status).toBe(404);
    expect((await get('app://netfs/renderer-evil.txt')).status).toBe(404);
    expect((await get('app://evil/index.html')).status).toBe(404);
    expect((await get('file:///etc/passwd')).status).toBe(404);
    expect((await get('app://netfs/index.html', 'POST')).status).toBe(405);
    expect((await get('app://netfs/assets')).status).toBe(404);
    expect((await get('app://netfs/missing.js')).status).toBe(404);
    const head = await get('app://netfs/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });
});
