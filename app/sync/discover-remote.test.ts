// Remote discovery (discover-remote.ts) against real servers: Apache mod_dav (with the fault
// proxy in front for F4/F5 statuses, cuts and hangs), the local-folder backend, the harness's
// replay server for crafted listings (B4, M1), and a small in-memory DAV whose folder ETags
// propagate (discover-testing-dav.ts) for the subtree skipping.
import { chmod, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError, NetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import type { RemoteBackend } from '../remote/backend.js';
import { createLocalBackend } from '../remote/local/backend.js';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import type { WebdavOptions } from '../remote/webdav/options.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { startFaultProxy, type FaultProxy } from '../testing/fault-proxy.js';
import type { FaultAction } from '../testing/fault-proxy-types.js';
import { multistatusResponse, type MultistatusEntry } from '../testing/multistatus.js';
import { startReplayServer, type ReplayServer } from '../testing/replay-server.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { childName, discoverRemote, isPerFolderFailure, type RemoteDiscovery } from './discover-remote.js';
import { PropagatingDav } from './discover-testing-dav.js';

const OLD = new Date('2024-05-06T07:08:09Z');
const open: Array<{ close(): Promise<void> }> = [];

function dav(url: string, server?: { user: string; password: string }, extra: Partial<WebdavOptions> = {}): WebdavBackend {
  const b = createWebdavBackend({ url, ...(server === undefined ? {} : { user: server.user, password: server.password }), ...extra });
  open.push(b);
  return b;
}

async function failure(p: Promise<unknown>): Promise<NetfsError> {
  try {
    await p;
  } catch (e) {
    if (isNetfsError(e)) return e as NetfsError;
    throw e;
  }
  throw new Error('expected discovery to fail, it succeeded');
}

/** The real backend, with every list() counted (calls, and how many were in flight at once). */
function counted(inner: RemoteBackend): { backend: RemoteBackend; listed: string[]; maxActive: () => number; active: () => number } {
  const listed: string[] = [];
  let active = 0;
  let max = 0;
  const backend: RemoteBackend = {
    origin: inner.origin,
    kind: inner.kind,
    stat: (p, o) => inner.stat(p, o),
    list: async (p, o) => {
      listed.push(p);
      active++;
      max = Math.max(max, active);
      try {
        return await inner.list(p, o);
      } finally {
        active--;
      }
    },
    read: (p, o) => inner.read(p, o),
    write: (p, o) => inner.write(p, o),
    mkdir: (p, o) => inner.mkdir(p, o),
    move: (a, b, o) => inner.move(a, b, o),
    delete: (p, o) => inner.delete(p, o),
    capabilities: (o) => inner.capabilities(o),
    close: () => inner.close(),
  };
  return { backend, listed, maxActive: () => max, active: () => active };
}

const paths = (d: RemoteDiscovery): string[] => [...d.tree.keys()].sort();
const subtreeOf = (d: RemoteDiscovery) => (path: string): RemoteEntry[] => [...d.tree.values()].filter((e) => e.path.startsWith(`${path}/`));

afterAll(async () => {
  await Promise.all(open.map((b) => b.close()));
});

describe('discoverRemote against Apache mod_dav', () => {
  let apache: ApacheServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    // A real 403 from Apache's own access control for one folder (F4).
    apache = await startApache({ extraConfig: '<Location "/dav/f4-real/locked">\n  Require all denied\n</Location>' });
    proxy = await startFaultProxy({ target: apache.origin });
  });
  afterAll(async () => {
    await proxy?.close();
    await apache?.stop();
  });

  /** A fresh folder below the DAV root with `files` (relative paths) and `folders` in it; returns its URL. */
  async function tree(name: string, files: string[], folders: string[] = []): Promise<string> {
    const base = apache.pathOf(name);
    await mkdir(base, { recursive: true });
    for (const f of folders) await mkdir(join(base, f), { recursive: true });
    for (const f of files) {
      await mkdir(join(base, f, '..'), { recursive: true });
      await writeFile(join(base, f), `content of ${f}`);
      // Apache gives a weak ETag while the mtime is within the current second; real trees are older.
      await utimes(join(base, f), OLD, OLD);
    }
    for (const f of [...files.map((f) => join(f, '..')), ...folders].sort().reverse()) await utimes(join(base, f), OLD, OLD);
    await apache.fixOwnership();
    return `${apache.url}${encodeURIComponent(name)}/`;
  }

  it('walks every folder with one PROPFIND Depth 1 each; the root is not in the tree; odd names kept byte for byte', async () => {
    const names = ['a b.txt', 'literal%20.txt', 'hash#tag', 'caf\u00e9 NFC', 'cafe\u0301 NFD', '\u{1F600} emoji', '100%.txt'];
    const url = await tree('walk', [...names.map((n) => `docs/${n}`), 'top.txt', 'docs/deep/er/x.bin'], ['empty']);
    const before = apache.accessLog().length;
    const d = await discoverRemote(dav(url, apache));
    expect(paths(d)).toEqual(
      ['/docs', ...names.map((n) => `/docs/${n}`), '/docs/deep', '/docs/deep/er', '/docs/deep/er/x.bin', '/empty', '/top.txt'].sort(),
    );
    expect(d.tree.has('/')).toBe(false);
    expect(d.root).toMatchObject({ path: '/', kind: 'folder' });
    expect(d.tree.get('/top.txt')).toMatchObject({ kind: 'file', size: Buffer.byteLength('content of top.txt'), name: 'top.txt' });
    expect(d.tree.get('/docs/caf\u00e9 NFC')?.name).toBe('caf\u00e9 NFC');
    expect(d.tree.get('/docs/cafe\u0301 NFD')?.name).toBe('cafe\u0301 NFD');
    expect(d.propfinds).toBe(5); // /, /docs, /docs/deep, /docs/deep/er, /empty
    expect(d.blind).toEqual({ remoteFolders: [], remotePaths: [] });
    expect(d.problems).toEqual([]);
    expect(d.skipping).toBe(false);
    const log = (await apache.waitForAccessLog((e) => e.length >= before + 5)).slice(before);
    // No capabilities probe (it writes): nothing could be skipped without previous ETags.
    expect(log.map((e) => `${e.method} ${e.depth} ${e.status}`)).toEqual(Array(5).fill('PROPFIND 1 207'));
    expect([...d.folderEtags.keys()].sort()).toEqual(['/', '/docs', '/docs/deep', '/docs/deep/er', '/empty']);
  });

  it('L2: a no-op resync of 2,000 entries in 50 folders makes only PROPFINDs, one per folder (Apache folder ETags do not propagate: all walked)', async () => {
    const files: string[] = [];
    for (let f = 0; f < 50; f++) for (let i = 0; i < 39; i++) files.push(`f${f}/file-${i}.txt`);
    const url = await tree('l2', files);
    const backend = dav(url, apache);
    const first = await discoverRemote(backend);
    expect(first.tree.size).toBe(2_000);
    const caps = await backend.capabilities(); // the probe writes; done once per account, before the resync
    expect(caps.folderEtagsPropagate).toBe(false);
    // The probe's last request removes its folder.
    await apache.waitForAccessLog((e) => e.some((x) => x.method === 'DELETE' && /\/\.netfs-probe-[0-9a-f]+$/.test(x.target) && x.status === 204));
    const before = apache.accessLog().length;
    const again = await discoverRemote(backend, { previousFolderEtags: first.folderEtags, previousSubtree: subtreeOf(first) });
    expect(again.skipping).toBe(false);
    expect(again.skippedFolders).toBe(0);
    expect(again.propfinds).toBe(51);
    expect(paths(again)).toEqual(paths(first));
    for (const [p, e] of again.tree) expect(e.etag).toBe(first.tree.get(p)?.etag);
    const log = (await apache.waitForAccessLog((e) => e.length >= before + 51)).slice(before);
    expect(log.map((e) => `${e.method} ${e.target} ${e.status}`).filter((l) => !l.startsWith('PROPFIND'))).toEqual([]);
    expect(log).toHaveLength(51);
    expect(log.filter((e) => e.method === 'GET' || e.method === 'PUT')).toEqual([]);
    expect(new Set(log.map((e) => `${e.method} ${e.depth} ${e.status}`))).toEqual(new Set(['PROPFIND 1 207']));
  });

  it('F4: a folder Apache refuses (403, its access rules) is blind, its subtree left out, every other folder discovered', async () => {
    const url = await tree('f4-real', ['ok/a.txt', 'ok/sub/b.txt', 'locked/secret.txt', 'locked/inner/c.txt', 'z.txt']);
    const d = await discoverRemote(dav(url, apache));
    expect(d.blind.remoteFolders).toEqual(['/locked']);
    expect(d.failures).toMatchObject([{ path: '/locked', code: 'FORBIDDEN', status: 403 }]);
    expect(paths(d)).toEqual(['/locked', '/ok', '/ok/a.txt', '/ok/sub', '/ok/sub/b.txt', '/z.txt']);
    // Neither the blind folder nor anything above it may be skipped next time.
    expect([...d.folderEtags.keys()].sort()).toEqual(['/ok', '/ok/sub']);
  });

  it('F5: a folder the Apache user cannot read makes Apache cut the answer (no status): the whole discovery fails, naming the folder', async () => {
    const url = await tree('unreadable', ['ok/a.txt', 'closed/secret.txt']);
    await chmod(apache.pathOf('unreadable/closed'), 0o000);
    try {
      const e = await failure(discoverRemote(dav(url, apache)));
      expect(e.code).toBe('TRANSIENT');
      expect(e.status).toBeUndefined();
      expect(e.message).toMatch(/failed listing \/closed; nothing is changed/);
    } finally {
      await chmod(apache.pathOf('unreadable/closed'), 0o755);
    }
  });

  it('F4: 404, 500 and 503 on one sub-folder (fault proxy) blind only that folder; the rest converges', async () => {
    const url = await tree('f4', ['a/one.txt', 'a/deep/two.txt', 'b/three.txt', 'b/x/four.txt', 'c.txt']);
    for (const status of [403, 404, 500, 503]) {
      proxy.clearRules();
      proxy.addRule({ match: { method: 'PROPFIND', path: '/dav/f4/b/' }, action: { kind: 'status', status } });
      const d = await discoverRemote(dav(proxy.url(url), apache));
      expect(d.blind.remoteFolders, `HTTP ${status}`).toEqual(['/b']);
      expect(d.failures[0]?.status).toBe(status);
      expect(paths(d), `HTTP ${status}`).toEqual(['/a', '/a/deep', '/a/deep/two.txt', '/a/one.txt', '/b', '/c.txt']);
    }
    proxy.clearRules();
  });

  it('F5: 400, 401, an HTML 200, truncated XML, a reset or a timeout on a sub-folder fail the whole discovery; nothing partial is returned', async () => {
    const url = await tree('f5', ['a/one.txt', 'b/two.txt', 'b/c/three.txt', 'd.txt']);
    const cases: Array<{ what: string; action: FaultAction; code: string }> = [
      { what: '400', action: { kind: 'status', status: 400 }, code: 'PROTOCOL' },
      { what: '401', action: { kind: 'status', status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' } }, code: 'AUTH' },
      { what: 'HTML 200', action: { kind: 'status', status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html><body>Login</body></html>' }, code: 'PROTOCOL' },
      { what: 'truncated XML', action: { kind: 'truncate', afterBodyBytes: 200 }, code: 'TRANSIENT' },
      { what: 'reset', action: { kind: 'reset', at: 'mid-body', afterBodyBytes: 100 }, code: 'TRANSIENT' },
      { what: 'timeout', action: { kind: 'hang' }, code: 'TRANSIENT' },
    ];
    for (const c of cases) {
      proxy.clearRules();
      proxy.addRule({ match: { method: 'PROPFIND', path: '/dav/f5/b/' }, action: c.action });
      const backend = dav(proxy.url(url), apache, { timeouts: { headersMs: 500, bodyIdleMs: 500 } });
      const e = await failure(discoverRemote(backend));
      expect(e.code, c.what).toBe(c.code);
      expect(e.message, c.what).toMatch(/remote discovery failed listing \/b; nothing is changed/);
    }
    // The root's listing failing is always whole, even with a per-folder status.
    proxy.clearRules();
    proxy.addRule({ match: { method: 'PROPFIND', path: '/dav/f5/' }, action: { kind: 'status', status: 503 } });
    const root = await failure(discoverRemote(dav(proxy.url(url), apache)));
    expect(root.code).toBe('TRANSIENT');
    expect(root.message).toMatch(/listing the root folder/);
    proxy.clearRules();
    const fine = await discoverRemote(dav(proxy.url(url), apache));
    expect(paths(fine)).toEqual(['/a', '/a/one.txt', '/b', '/b/c', '/b/c/three.txt', '/b/two.txt', '/d.txt']);
  });

  it('M1: a 100-deep tree on Apache is walked one level at a time, nothing lost (1,000 deep: in-memory server below)', async () => {
    // Apache's cost per request grows with the depth (it walks every path component), so the
    // 1,000-deep walk would take ~20 s here; the local-folder backend does the 1,000-deep one.
    const segments = Array.from({ length: 100 }, () => 'd');
    const deepest = join(apache.pathOf('deep'), ...segments);
    await mkdir(deepest, { recursive: true });
    await writeFile(join(deepest, 'bottom.txt'), 'x');
    await apache.fixOwnership();
    const d = await discoverRemote(dav(`${apache.url}deep/`, apache));
    expect(d.propfinds).toBe(101);
    expect(d.tree.size).toBe(101);
    expect(d.tree.get(`/${segments.join('/')}/bottom.txt`)?.kind).toBe('file');
  });
});

describe('discoverRemote with the local-folder backend', () => {
  let temp: TempDir;
  beforeAll(async () => {
    temp = await makeTempDir('netfs-discover-');
  });
  afterAll(async () => {
    await temp?.remove();
  });

  async function folder(name: string, files: string[]): Promise<string> {
    const root = join(temp.path, name);
    await mkdir(root, { recursive: true });
    for (const f of files) {
      await mkdir(join(root, f, '..'), { recursive: true });
      await writeFile(join(root, f), f);
    }
    return root;
  }

  it('lists at most `concurrency` folders at a time, and uses the room (bounded work queue)', async () => {
    const files: string[] = [];
    for (let f = 0; f < 40; f++) files.push(`f${f}/a.txt`, `f${f}/sub/b.txt`);
    const root = await folder('wide', files);
    for (const limit of [1, 3, 8]) {
      const c = counted(createLocalBackend({ url: `file://${root}` }));
      const d = await discoverRemote(c.backend, { concurrency: limit });
      expect(d.tree.size).toBe(160);
      expect(c.listed).toHaveLength(81);
      expect(new Set(c.listed).size).toBe(81);
      expect(c.maxActive()).toBe(limit);
    }
    await expect(discoverRemote(createLocalBackend({ url: `file://${root}` }), { concurrency: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('M2: a symlink on the remote side is dropped as UNSUPPORTED_KIND and its path is blind (never deleted)', async () => {
    const root = await folder('links', ['keep.txt', 'sub/x.txt']);
    await symlink('/etc', join(root, 'sub', 'to-etc'));
    const d = await discoverRemote(createLocalBackend({ url: `file://${root}` }));
    expect(paths(d)).toEqual(['/keep.txt', '/sub', '/sub/x.txt']);
    expect(d.blind.remotePaths).toEqual(['/sub/to-etc']);
    expect(d.problems).toMatchObject([{ folder: '/sub', path: '/sub/to-etc', kind: 'UNSUPPORTED_KIND' }]);
    expect([...d.folderEtags.keys()]).toEqual([]); // '/sub' and '/' have something unseen
  });

  it('with previous ETags but a backend whose folder ETags do not propagate, every folder is listed again', async () => {
    const root = await folder('noprop', ['a/1.txt', 'a/b/2.txt', 'c/3.txt']);
    const backend = createLocalBackend({ url: `file://${root}` });
    expect((await backend.capabilities()).folderEtagsPropagate).toBe(false);
    const first = await discoverRemote(backend);
    await writeFile(join(root, 'a', 'b', '2.txt'), 'changed, longer');
    const again = await discoverRemote(backend, { previousFolderEtags: first.folderEtags, previousSubtree: subtreeOf(first) });
    expect(again.skipping).toBe(false);
    expect(again.propfinds).toBe(first.propfinds);
    expect(again.tree.get('/a/b/2.txt')?.size).toBe('changed, longer'.length);
  });

  it('a missing root fails the whole discovery (NOT_FOUND) instead of looking empty (F17)', async () => {
    const e = await failure(discoverRemote(createLocalBackend({ url: `file://${join(temp.path, 'nope')}` })));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/root folder/);
  });

  it('a cancelled discovery fails with CANCELLED', async () => {
    const root = await folder('cancel', ['a/1.txt']);
    const controller = new AbortController();
    controller.abort();
    const e = await failure(discoverRemote(createLocalBackend({ url: `file://${root}` }), { signal: controller.signal }));
    expect(e.code).toBe('CANCELLED');
  });
});

describe('discoverRemote with crafted listings (replay server)', () => {
  let server: ReplayServer;
  const folderProps = (etag: string) => ({ resourcetype: 'collection', getetag: etag }) as const;
  const fileProps = { resourcetype: 'file', getcontentlength: 3, getetag: '"f"', getlastmodified: 'Sun, 06 Nov 1994 08:49:37 GMT' } as const;
  const listings = new Map<string, MultistatusEntry[]>();
  const delays = new Map<string, number>();

  beforeAll(async () => {
    server = await startReplayServer(async (req, reply) => {
      const delay = delays.get(req.path) ?? 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const listing = listings.get(req.path);
      if (req.method === 'PROPFIND' && listing !== undefined) return reply.send(multistatusResponse(listing));
      if (req.method === 'PROPFIND' && req.path === '/dav/bad/') return reply.send({ status: 400, body: 'bad request' });
      return reply.send({ status: 404 });
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('B4, M1: odd entries are dropped and reported; those naming a child are blind; the rest of the folder is discovered', async () => {
    listings.set('/dav/', [
      { href: '/dav/', props: folderProps('"root"') },
      { href: '/dav/good.txt', props: fileProps },
      { href: '/dav/clean/', props: folderProps('"clean"') },
      { href: '/dav/odd/', props: folderProps('"odd"') },
    ]);
    listings.set('/dav/clean/', [{ href: '/dav/clean/', props: folderProps('"clean"') }, { href: '/dav/clean/x.txt', props: fileProps }]);
    listings.set('/dav/odd/', [
      { href: '/dav/odd/', props: folderProps('"odd"') },
      { href: '/dav/odd/fine.txt', props: fileProps },
      { href: '/dav/odd/no-etag-ok.txt', props: { resourcetype: 'file', getcontentlength: 3 } },
      { href: '/dav/odd/no%20length.txt', props: { resourcetype: 'file', getetag: '"n"' } },
      { href: '/dav/odd/no-type', props: { getetag: '"t"', getcontentlength: 1 } },
      { href: '/dav/odd/refused.txt', status: 403 },
      { href: '/dav/odd/twice.txt', props: fileProps },
      { href: '/dav/odd/twice.txt', props: fileProps },
      { href: '/dav/odd/../x', props: fileProps },
      { href: '/dav/odd/..%2fx', props: fileProps },
      { href: '/dav/odd/a%2fb', props: fileProps },
      { href: '/dav/odd/%00', props: fileProps },
      { href: '/elsewhere/x', props: fileProps },
      { href: 'http://other-host/dav/odd/y', props: fileProps },
      { href: `/dav/odd/${'n'.repeat(4096)}`, props: fileProps },
    ]);
    const d = await discoverRemote(dav(server.url));
    expect(paths(d)).toEqual(['/clean', '/clean/x.txt', '/good.txt', '/odd', '/odd/fine.txt', '/odd/no-etag-ok.txt']);
    expect(d.tree.get('/odd/no-etag-ok.txt')?.etag).toBeNull();
    expect([...d.blind.remotePaths].sort()).toEqual(['/odd/no length.txt', '/odd/no-type', '/odd/refused.txt', '/odd/twice.txt']);
    expect(d.problems.every((p) => p.folder === '/odd')).toBe(true);
    const kinds = d.problems.map((p) => p.kind).sort();
    expect(kinds.filter((k) => k === 'OUTSIDE_FOLDER').length).toBeGreaterThanOrEqual(3);
    expect(kinds).toContain('BAD_NAME');
    expect(kinds).toContain('DUPLICATE');
    expect(kinds).toContain('ENTRY_STATUS');
    expect(kinds).toContain('MISSING_PROPERTIES');
    expect(d.problems.filter((p) => p.path === null).length).toBe(d.problems.length - 4);
    expect([...d.folderEtags.keys()]).toEqual(['/clean']);
  });

  it('a whole failure waits for the listings in flight before rejecting (nothing runs on afterwards)', async () => {
    listings.set('/dav/', [
      { href: '/dav/', props: folderProps('"root"') },
      ...['s1', 's2', 's3', 'bad'].map((n) => ({ href: `/dav/${n}/`, props: folderProps(`"${n}"`) })),
    ]);
    for (const n of ['s1', 's2', 's3']) {
      listings.set(`/dav/${n}/`, [{ href: `/dav/${n}/`, props: folderProps(`"${n}"`) }, { href: `/dav/${n}/sub/`, props: folderProps('"sub"') }]);
      delays.set(`/dav/${n}/`, 300);
    }
    const c = counted(dav(server.url));
    const e = await failure(discoverRemote(c.backend));
    expect(e.code).toBe('PROTOCOL');
    expect(c.active()).toBe(0);
    const listedThen = c.listed.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(c.listed.length).toBe(listedThen); // no '/sN/sub' listed after the failure
    delays.clear();
  });

  it('sorts errors into per-folder (F4) and whole (F5)', () => {
    expect(isPerFolderFailure(new NetfsError('FORBIDDEN', 'x', { status: 403 }))).toBe(true);
    expect(isPerFolderFailure(new NetfsError('NOT_FOUND', 'x', { status: 404 }))).toBe(true);
    expect(isPerFolderFailure(new NetfsError('TRANSIENT', 'x', { status: 500 }))).toBe(true);
    expect(isPerFolderFailure(new NetfsError('TRANSIENT', 'x', { status: 503 }))).toBe(true);
    expect(isPerFolderFailure(new NetfsError('TRANSIENT', 'x', { status: 429 }))).toBe(false);
    expect(isPerFolderFailure(new NetfsError('TRANSIENT', 'connection reset'))).toBe(false);
    expect(isPerFolderFailure(new NetfsError('PROTOCOL', 'x', { status: 400 }))).toBe(false);
    expect(isPerFolderFailure(new NetfsError('AUTH', 'x', { status: 401 }))).toBe(false);
    expect(isPerFolderFailure(new NetfsError('TOO_LARGE', 'x'))).toBe(false);
    expect(isPerFolderFailure(new Error('a bug'))).toBe(false);
  });

  it('names the child a dropped href stands for, or nothing', () => {
    expect(childName('/dav/odd/no%20length.txt', 'webdav')).toBe('no length.txt');
    expect(childName('http://h/dav/odd/sub/', 'webdav')).toBe('sub');
    expect(childName('/dav/odd/a%2fb', 'webdav')).toBeNull();
    expect(childName('/dav/odd/%00', 'webdav')).toBeNull();
    expect(childName('100%.txt', 'local')).toBe('100%.txt');
    expect(childName('a\\b', 'local')).toBeNull();
  });
});

describe('skipping unchanged subtrees where folder ETags propagate (in-memory DAV over a real socket)', () => {
  let server: ReplayServer;
  const store = new PropagatingDav();
  const refused = new Set<string>();

  beforeAll(async () => {
    server = await startReplayServer(async (req, reply) => {
      if (req.method === 'PROPFIND' && refused.has(req.path)) return reply.send({ status: 403 });
      return store.handle(req, reply);
    });
    for (const f of ['a/b/c/1.txt', 'a/b/2.txt', 'a/3.txt', 'x/y/4.txt', 'x/5.txt', 'top.txt']) store.put(f, `data ${f}`);
    store.mkdir('empty');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('M1: a 1,000-deep tree is walked iteratively (no recursion), one PROPFIND per level, nothing lost', async () => {
    // The local-folder backend checks every ancestor on each call (O(depth) lstats) and Apache walks
    // every path component, so both take 20-40 s at this depth; the in-memory server answers at once.
    const deep = new PropagatingDav();
    const segments = Array.from({ length: 1000 }, (_, i) => `d${i % 10}`);
    deep.put(`/${segments.join('/')}/bottom.txt`, 'x');
    const own = await startReplayServer(deep.handle);
    try {
      const d = await discoverRemote(dav(own.url));
      expect(d.propfinds).toBe(1001);
      expect(d.tree.size).toBe(1001);
      expect(d.tree.get(`/${segments.join('/')}/bottom.txt`)?.kind).toBe('file');
    } finally {
      await own.close();
    }
  });

  const propfindsOf = (from: number): string[] =>
    server.requests.slice(from).filter((r) => r.method === 'PROPFIND' && r.headers['depth'] === '1').map((r) => r.path);

  it('the probe finds propagation; unchanged folders are not listed again and their previous entries are reused', async () => {
    const backend = dav(server.url);
    const caps = await backend.capabilities();
    expect(caps.folderEtagsPropagate).toBe(true);
    const first = await discoverRemote(backend);
    expect(first.propfinds).toBe(7); // / a a/b a/b/c x x/y empty
    expect(first.folderEtags.size).toBe(7);

    let mark = server.requests.length;
    const same = await discoverRemote(backend, { previousFolderEtags: first.folderEtags, previousSubtree: subtreeOf(first) });
    expect(same.skipping).toBe(true);
    expect(same.propfinds).toBe(1);
    expect(propfindsOf(mark)).toEqual(['/dav/']);
    expect(same.skippedFolders).toBe(3); // a, x, empty
    expect(paths(same)).toEqual(paths(first));
    expect(same.folderEtags).toEqual(first.folderEtags);

    // A deep change: only the folders on its way are listed again.
    store.put('a/b/c/new.txt', 'new');
    mark = server.requests.length;
    const changed = await discoverRemote(backend, { previousFolderEtags: same.folderEtags, previousSubtree: subtreeOf(same) });
    expect(propfindsOf(mark).sort()).toEqual(['/dav/', '/dav/a/', '/dav/a/b/', '/dav/a/b/c/']);
    expect(changed.propfinds).toBe(4);
    expect(paths(changed)).toEqual([...paths(first), '/a/b/c/new.txt'].sort());
    expect(changed.tree.get('/x/y/4.txt')).toEqual(first.tree.get('/x/y/4.txt'));
    expect(changed.folderEtags.get('/a/b/c')).toBe(store.etagOf('/a/b/c'));
  });

  it('a blind folder keeps itself and every folder above it out of folderEtags, so they are listed again next time', async () => {
    const backend = dav(server.url);
    const first = await discoverRemote(backend);
    refused.add('/dav/a/b/');
    try {
      const d = await discoverRemote(backend, { previousFolderEtags: first.folderEtags, previousSubtree: subtreeOf(first) });
      // Nothing changed, so everything was skipped; the refusal is not even seen.
      expect(d.propfinds).toBe(1);
      const fresh = await discoverRemote(backend);
      expect(fresh.blind.remoteFolders).toEqual(['/a/b']);
      expect(fresh.folderEtags.has('/a/b')).toBe(false);
      expect(fresh.folderEtags.has('/a')).toBe(false);
      expect(fresh.folderEtags.has('/')).toBe(false);
      expect(fresh.folderEtags.has('/x')).toBe(true);
      const next = await discoverRemote(backend, { previousFolderEtags: fresh.folderEtags, previousSubtree: subtreeOf(fresh) });
      expect(next.blind.remoteFolders).toEqual(['/a/b']); // '/a' re-listed, '/a/b' tried again
      expect(next.skippedFolders).toBe(2); // x, empty
    } finally {
      refused.clear();
    }
  });
});
