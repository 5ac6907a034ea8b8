/**
 * One conformance suite for every backend (as rclone's fstests run against every remote):
 *
 *   apache.conformance.test.ts ─┐
 *   rclone.conformance.test.ts ─┼─> defineConformanceSuite(name, open) ─> list, stat, ranged reads,
 *   local.conformance.test.ts  ─┘                                          writes, mkdir, move, delete,
 *                                                                          preconditions, names (B1, B2)
 *
 * Each precondition test asks the backend's probed capabilities() first: where the backend
 * says it enforces a condition, the suite checks it does; where it says it does not, the suite
 * checks that the probe told the truth (the condition really is ignored).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../../api/errors.js';
import type { Capabilities } from '../../api/remote.js';
import type { DavServer } from '../../testing/dav-server.js';
import type { RemoteBackend } from '../backend.js';
import { createWebdavBackend } from '../webdav/backend.js';

/** A conformance target over a real WebDAV server of the harness (Apache, rclone serve). */
export function davTarget(server: DavServer): ConformanceTarget {
  const backend = createWebdavBackend({ url: server.url, user: server.user, password: server.password });
  return {
    backend,
    writeBehind: async (path, data) => {
      await server.writeFile(path, data);
    },
    close: async () => {
      await backend.close();
      await server.stop();
    },
  };
}

export interface ConformanceTarget {
  backend: RemoteBackend;
  /** Writes a file behind the backend's back (another client), for change-detection tests. */
  writeBehind(path: string, data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

async function* chunks(data: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(data.length, i + size));
}

export async function put(b: RemoteBackend, path: string, data: Uint8Array | string, precondition: Parameters<RemoteBackend['write']>[1]['precondition'] = { kind: 'none' }) {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return b.write(path, { length: bytes.length, source: chunks(bytes), precondition });
}

export async function get(b: RemoteBackend, path: string, offset = 0, length?: number): Promise<Buffer> {
  const size = length ?? ((await b.stat(path)).size ?? 0) - offset;
  const buf = new Uint8Array(Math.max(size, 0));
  const r = await b.read(path, { offset, length: size, buffers: [buf] });
  return Buffer.from(buf.subarray(0, r.transferred));
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    if (isNetfsError(e)) return e.code;
    throw e;
  }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Names that must round-trip byte for byte (B1). */
export const B1_NAMES = [
  'a b.txt', 'literal%20.txt', '100%.txt', 'hash#tag', 'what?.txt', 'a&b', 'c+d', 'semi;colon', '[brackets]',
  'caf\u00e9 (NFC)', 'cafe\u0301 (NFD)', '\u{1F600} emoji', "quote's", 'equals=sign', '~tilde', '@at', '$dollar', '!bang',
  '\u65e5\u672c\u8a9e', 'comma,name', 'x'.repeat(200),
];

/** rclone's FsEncoding set (B2): each name round-trips exactly or is refused with a clear error. */
export const B2_NAMES = [
  'control\u0001char', 'tab\tname', 'new\nline', 'carriage\rreturn', ' leading space', 'trailing space ', '.leading dot',
  'trailing dot.', '...', ' ', '\t', 'test%46.txt', 'back\\slash', 'colon:name', 'star*name', 'pipe|name', 'lt<gt>',
  'quote"name', 'del\u007fchar', '\u00a0nbsp', 'zero\u200bwidth', 'bidi\u202eoverride', 'fullwidth\uff0fslash',
  'lone\ud800surrogate', '.', '..', 'slash/inside',
];

export function defineConformanceSuite(name: string, open: () => Promise<ConformanceTarget>, expected: Partial<Capabilities>): void {
  describe(`conformance: ${name}`, () => {
    let t: ConformanceTarget;
    let b: RemoteBackend;
    let caps: Capabilities;
    const base = `/conf-${randomBytes(3).toString('hex')}`;

    beforeAll(async () => {
      t = await open();
      b = t.backend;
      caps = await b.capabilities();
      await b.mkdir(base);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('capabilities() are probed and match what this server is known to do; the probe folder is gone', async () => {
      expect(caps).toMatchObject(expected);
      const root = await b.list('/');
      expect(root.entries.filter((e) => e.name.startsWith('.netfs-probe-'))).toEqual([]);
    });

    it('lists a folder: the folder itself apart, files and folders with sizes, never the folder as its own child', async () => {
      const dir = `${base}/list`;
      await b.mkdir(dir);
      await b.mkdir(`${dir}/sub`);
      await put(b, `${dir}/one.txt`, 'one');
      await put(b, `${dir}/empty`, '');
      const l = await b.list(dir);
      expect(l.folder).toMatchObject({ path: dir, name: 'list', kind: 'folder' });
      const byName = Object.fromEntries(l.entries.map((e) => [e.name, e]));
      expect(Object.keys(byName).sort()).toEqual(['empty', 'one.txt', 'sub']);
      expect(byName['one.txt']).toMatchObject({ path: `${dir}/one.txt`, kind: 'file', size: 3 });
      expect(byName['empty']).toMatchObject({ kind: 'file', size: 0 });
      expect(byName['sub']).toMatchObject({ kind: 'folder', size: null });
      expect(byName['one.txt']!.mtimeMs).toBeGreaterThan(Date.now() - 3600_000);
      expect(l.problems).toEqual([]);
      expect(await code(b.list(`${dir}/missing`))).toBe('NOT_FOUND');
      expect(await code(b.list(`${dir}/one.txt`))).toBe('CONFLICT');
    });

    it('stats files, folders and the root; a missing path is NOT_FOUND', async () => {
      await put(b, `${base}/stat.bin`, 'abcdef');
      expect(await b.stat(`${base}/stat.bin`)).toMatchObject({ kind: 'file', size: 6, name: 'stat.bin' });
      expect(await b.stat(base)).toMatchObject({ kind: 'folder' });
      expect(await b.stat('/')).toMatchObject({ kind: 'folder', path: '/', name: '' });
      expect(await code(b.stat(`${base}/nope`))).toBe('NOT_FOUND');
    });

    it('reads ranges at odd offsets, across and at EOF, into several small buffers', async () => {
      const data = randomBytes(200_003);
      await put(b, `${base}/ranges.bin`, data);
      for (const [off, len] of [[0, 1], [1, 4095], [4095, 65537], [131071, 3], [199_999, 4]] as const) {
        expect(sha(await get(b, `${base}/ranges.bin`, off, len)), `${off}+${len}`).toBe(sha(data.subarray(off, off + len)));
      }
      // Across EOF: short, with eof.
      const tail = new Uint8Array(100);
      const r = await b.read(`${base}/ranges.bin`, { offset: 199_990, length: 100, buffers: [tail] });
      expect(r).toMatchObject({ transferred: 13, eof: true, size: 200_003 });
      expect(Buffer.from(tail.subarray(0, 13))).toEqual(data.subarray(199_990));
      // At and past EOF: nothing, eof.
      for (const off of [200_003, 300_000]) {
        const none = await b.read(`${base}/ranges.bin`, { offset: off, length: 10, buffers: [new Uint8Array(10)] });
        expect(none).toMatchObject({ transferred: 0, eof: true });
      }
      // Several small buffers, filled in order; progress reported.
      const bufs = [new Uint8Array(7), new Uint8Array(1), new Uint8Array(1000), new Uint8Array(5000)];
      let progress = 0;
      const s = await b.read(`${base}/ranges.bin`, { offset: 12345, length: 6008, buffers: bufs, onProgress: (n) => (progress = n) });
      expect(s.transferred).toBe(6008);
      expect(progress).toBe(6008);
      expect(Buffer.concat(bufs)).toEqual(data.subarray(12345, 12345 + 6008));
    });

    it('reads with the expected version; a changed file fails with PRECONDITION_FAILED', async () => {
      const path = `${base}/expect.bin`;
      await put(b, path, 'version one');
      const v1 = await b.stat(path);
      const buf = new Uint8Array(11);
      await b.read(path, { offset: 0, length: 11, buffers: [buf], expect: { etag: v1.etag, size: v1.size, mtimeMs: v1.mtimeMs } });
      await t.writeBehind(path, Buffer.from('version two, longer'));
      expect(await code(b.read(path, { offset: 0, length: 11, buffers: [buf], expect: { etag: v1.etag, size: v1.size, mtimeMs: v1.mtimeMs } }))).toBe(
        'PRECONDITION_FAILED',
      );
    });

    it('writes new files, overwrites, and streams a large body byte-exact', async () => {
      const big = randomBytes(9 * 1024 * 1024 + 17);
      const w = await put(b, `${base}/big.bin`, big, { kind: 'absent' });
      expect(w.size).toBe(big.length);
      const st = await b.stat(`${base}/big.bin`);
      expect(st.size).toBe(big.length);
      expect(w.etag === null || st.etag === null || w.etag.replace(/^W\//, '') === st.etag.replace(/^W\//, '')).toBe(true);
      expect(sha(await get(b, `${base}/big.bin`))).toBe(sha(big));
      await put(b, `${base}/big.bin`, 'small now', { kind: 'none' });
      expect((await get(b, `${base}/big.bin`)).toString()).toBe('small now');
    });

    it('B7: a source shorter or longer than announced fails and leaves the target untouched', async () => {
      const path = `${base}/b7.txt`;
      await put(b, path, 'original');
      async function* short() {
        yield Buffer.from('abc');
      }
      async function* long() {
        yield Buffer.from('abcdefghijk');
      }
      // Apache and a local folder discard a cut upload; rclone serve keeps exactly the bytes it got
      // before the client gave up (B7 allows "stores exactly the bytes read", never anything else).
      const keepsCutUploads = name === 'rclone serve webdav';
      expect(await code(b.write(path, { length: 5, source: long(), precondition: { kind: 'none' } }))).toBe('TOO_LARGE');
      expect(keepsCutUploads ? ['original', ''] : ['original']).toContain((await get(b, path)).toString());
      await put(b, path, 'original');
      expect(await code(b.write(path, { length: 10, source: short(), precondition: { kind: 'none' } }))).toMatch(/IO|TRANSIENT/);
      expect(keepsCutUploads ? ['original', '', 'abc'] : ['original']).toContain((await get(b, path)).toString());
      const names = (await b.list(base)).entries.map((e) => e.name);
      expect(names.filter((n) => n.startsWith('.netfs'))).toEqual([]);
    });

    it('If-None-Match: * on PUT is enforced exactly where the probe says so', async () => {
      const path = `${base}/inm.txt`;
      await put(b, path, 'first', { kind: 'absent' });
      const outcome = await code(put(b, path, 'second', { kind: 'absent' }));
      expect(outcome).toBe(caps.ifNoneMatchOnPut ? 'PRECONDITION_FAILED' : 'OK');
      expect((await get(b, path)).toString()).toBe(caps.ifNoneMatchOnPut ? 'first' : 'second');
    });

    it('If-Match on PUT is enforced exactly where the probe says so', async () => {
      const path = `${base}/im.txt`;
      await put(b, path, 'mine');
      const mine = await b.stat(path);
      await t.writeBehind(path, Buffer.from('theirs, changed'));
      const stale = { kind: 'match' as const, etag: mine.etag, size: mine.size, mtimeMs: mine.mtimeMs };
      const outcome = await code(put(b, path, 'overwrite?', stale));
      if (mine.etagStrength === 'strong') {
        expect(outcome).toBe(caps.ifMatchOnPut ? 'PRECONDITION_FAILED' : 'OK');
      } else {
        // No strong tag to send: the size/date re-check must still catch this change.
        expect(outcome).toBe('PRECONDITION_FAILED');
      }
      // A current version is accepted.
      const now = await b.stat(path);
      const ok = await code(put(b, path, 'updated', { kind: 'match', etag: now.etag, size: now.size, mtimeMs: now.mtimeMs }));
      expect(ok).toBe('OK');
    });

    it('mkdir: a new folder; an existing one or a missing parent is CONFLICT', async () => {
      await b.mkdir(`${base}/mk`);
      expect((await b.stat(`${base}/mk`)).kind).toBe('folder');
      expect(await code(b.mkdir(`${base}/mk/a/b`))).toBe('CONFLICT');
      // rclone serve answers MKCOL on an existing folder with success (litmus notes); say so, accept it.
      const again = await code(b.mkdir(`${base}/mk`));
      expect(name === 'rclone serve webdav' ? ['CONFLICT', 'OK'] : ['CONFLICT']).toContain(again);
    });

    it('move: rename, no overwrite unless asked, folders with their contents', async () => {
      await put(b, `${base}/mv-a`, 'A');
      await put(b, `${base}/mv-b`, 'B');
      expect(await code(b.move(`${base}/mv-a`, `${base}/mv-b`))).toBe('CONFLICT');
      expect((await get(b, `${base}/mv-b`)).toString()).toBe('B');
      await b.move(`${base}/mv-a`, `${base}/mv-b`, { overwrite: true });
      expect((await get(b, `${base}/mv-b`)).toString()).toBe('A');
      expect(await code(b.stat(`${base}/mv-a`))).toBe('NOT_FOUND');
      await b.mkdir(`${base}/mv-dir`);
      await put(b, `${base}/mv-dir/inner.txt`, 'inner');
      await b.move(`${base}/mv-dir`, `${base}/mv-dir2`);
      expect((await get(b, `${base}/mv-dir2/inner.txt`)).toString()).toBe('inner');
      expect(await code(b.move(`${base}/missing`, `${base}/x`))).toBe('NOT_FOUND');
    });

    it('delete: files, whole folders, missing paths; If-Match exactly where the probe says so', async () => {
      await put(b, `${base}/del.txt`, 'x');
      await b.delete(`${base}/del.txt`);
      expect(await code(b.stat(`${base}/del.txt`))).toBe('NOT_FOUND');
      await b.mkdir(`${base}/del-dir`);
      await put(b, `${base}/del-dir/f`, 'f');
      await b.delete(`${base}/del-dir`);
      expect(await code(b.stat(`${base}/del-dir`))).toBe('NOT_FOUND');
      expect(await code(b.delete(`${base}/nothing-here`))).toBe('NOT_FOUND');

      const path = `${base}/del-cond.txt`;
      await put(b, path, 'mine');
      const mine = await b.stat(path);
      await t.writeBehind(path, Buffer.from('theirs, changed meanwhile'));
      const outcome = await code(b.delete(path, { precondition: { kind: 'match', etag: mine.etag, size: mine.size, mtimeMs: mine.mtimeMs } }));
      expect(outcome).toBe(mine.etagStrength !== 'strong' || caps.ifMatchOnDelete ? 'PRECONDITION_FAILED' : 'OK');
    });

    it('B1: names round-trip byte for byte (write, list, read)', async () => {
      const dir = `${base}/b1`;
      await b.mkdir(dir);
      for (const n of B1_NAMES) await put(b, `${dir}/${n}`, `content of ${n}`);
      const listed = (await b.list(dir)).entries.map((e) => e.name).sort();
      expect(listed).toEqual([...B1_NAMES].sort());
      for (const n of B1_NAMES) expect((await get(b, `${dir}/${n}`)).toString()).toBe(`content of ${n}`);
      // A folder with odd characters lists its own children under the right paths.
      await b.mkdir(`${dir}/sub #?%`);
      await put(b, `${dir}/sub #?%/in`, 'in');
      expect((await b.list(`${dir}/sub #?%`)).entries.map((e) => e.path)).toEqual([`${dir}/sub #?%/in`]);
    });

    it('B2: each odd name round-trips exactly or is refused with a clear error; never stored under another name', async () => {
      const dir = `${base}/b2`;
      await b.mkdir(dir);
      const stored: string[] = [];
      const refused: string[] = [];
      for (const n of B2_NAMES) {
        try {
          await put(b, `${dir}/${n}`, `bytes of ${JSON.stringify(n)}`);
          stored.push(n);
        } catch (e) {
          expect(isNetfsError(e), String(e)).toBe(true);
          expect((e as Error).message.length).toBeGreaterThan(10);
          refused.push(n);
        }
      }
      // Whatever was stored is listed under exactly its name and reads back its own bytes.
      const listing = await b.list(dir);
      const listed = listing.entries.map((e) => e.name);
      expect([...listed].sort()).toEqual([...stored].sort());
      for (const n of stored) expect((await get(b, `${dir}/${n}`)).toString()).toBe(`bytes of ${JSON.stringify(n)}`);
      // Names that no client could store safely are always refused.
      for (const n of ['.', '..', 'slash/inside', 'back\\slash', 'lone\ud800surrogate', 'tab\tname', 'new\nline', 'control\u0001char', 'del\u007fchar']) {
        expect(refused).toContain(n);
      }
    });
  });
}
