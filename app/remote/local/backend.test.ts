import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemoteBackend } from '../backend.js';
import { LocalBackend, createLocalBackend } from './backend.js';
import { chunked, hashTree, makeTempRoot, pattern, treeOf } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('local backend', () => {
  let t: TempRoot;
  let backend: LocalBackend;
  beforeEach(async () => {
    t = await makeTempRoot();
    backend = createLocalBackend({ url: pathToFileURL(t.root).href + '/' });
  });
  afterEach(async () => {
    await backend.close();
    await t.cleanup();
  });

  const write = (b: RemoteBackend, remotePath: string, data: Uint8Array) =>
    b.write(remotePath, { length: data.length, source: chunked(data), precondition: { kind: 'absent' } });

  const readAll = async (b: RemoteBackend, remotePath: string): Promise<Uint8Array> => {
    const entry = await b.stat(remotePath);
    const buffer = new Uint8Array(entry.size ?? 0);
    const result = await b.read(remotePath, { offset: 0, length: buffer.length, buffers: [buffer], expect: { etag: entry.etag } });
    expect(result).toMatchObject({ transferred: buffer.length, eof: true, etag: entry.etag });
    return buffer;
  };

  it('is created from a file: URL, with a normalised origin and kind "local"', () => {
    expect(backend.kind).toBe('local');
    expect(backend.root).toBe(t.root);
    expect(backend.origin).toBe(pathToFileURL(t.root).href);
    expect(backend.origin.endsWith('/')).toBe(false);
    expect(new LocalBackend('/').origin).toBe('file:///');
    expect(new LocalBackend('/srv/a b/').origin).toBe('file:///srv/a%20b');
    expect(() => createLocalBackend({ url: 'http://127.0.0.1:8080/dav' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createLocalBackend({ url: 'file:share' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new LocalBackend('relative/dir')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('fails stat("/") with NOT_FOUND for a missing root and never creates it', async () => {
    const missing = new LocalBackend(path.join(t.parent, 'not-there'));
    await expect(missing.stat('/')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('not-there') });
    await expect(missing.write('/a', { length: 0, source: chunked(new Uint8Array(0)), precondition: { kind: 'none' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(missing.capabilities()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fs.stat(path.join(t.parent, 'not-there'))).rejects.toThrow();
    await missing.close();
  });

  it('B1: round-trips names with space, %, #, ?, +, &, NFC and NFD, emoji through write, list and read', async () => {
    const names = ['a b.txt', '%20.txt', '100%', '#hash', 'q?x=1&y=2', 'a+b', 'caf\u00e9', 'cafe\u0301', '\u{1F600}\u{1F680}', '[x];y'];
    await backend.mkdir('/n m');
    for (const name of names) await write(backend, `/n m/${name}`, text(`content of ${name}`));
    const { entries, problems } = await backend.list('/n m');
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.name).sort()).toEqual([...names].sort());
    expect(entries.map((e) => e.path).sort()).toEqual(names.map((n) => `/n m/${n}`).sort());
    for (const name of names) {
      expect(new TextDecoder().decode(await readAll(backend, `/n m/${name}`))).toBe(`content of ${name}`);
    }
    const disk = (await fs.readdir(t.disk('n m'), { encoding: 'buffer' })).map((b) => b.toString('hex')).sort();
    expect(disk).toEqual(names.map((n) => Buffer.from(n).toString('hex')).sort());
  });

  it('B2: refuses names it cannot store safely (INVALID_ARGUMENT), storing nothing', async () => {
    for (const bad of ['/a\\b', '/tab\tname', '/' + 'x'.repeat(256), '/a\0b', '/.', '/..', '/\uD800', '/.netfs-partial-1']) {
      await expect(write(backend, bad, text('x')), JSON.stringify(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(await fs.readdir(t.root)).toEqual([]);
  });

  it("M1: hostile paths never create, change or delete anything outside the root", async () => {
    await t.put('inside.txt', 'x');
    await fs.symlink(t.outside, t.disk('out'));
    const before = await hashTree(t.parent);
    const hostile = ['/../x', '/../outside/secret.txt', '/a/../../x', '/..\\x', '/a\0', '/out/secret.txt', '/out/new', '/out', '//x', 'x', '/x/'];
    for (const p of hostile) {
      await expect(write(backend, p, text('pwned')), p).rejects.toMatchObject({ code: expect.stringMatching(/INVALID_ARGUMENT|FORBIDDEN/) });
      await expect(backend.delete(p), p).rejects.toMatchObject({ code: expect.stringMatching(/INVALID_ARGUMENT|FORBIDDEN/) });
      await expect(backend.mkdir(p), p).rejects.toThrow();
      await expect(backend.move('/inside.txt', p, { overwrite: true }), p).rejects.toThrow();
      await expect(backend.read(p, { offset: 0, length: 1, buffers: [new Uint8Array(1)] }), p).rejects.toThrow();
    }
    expect(await hashTree(t.parent)).toBe(before);
    // Percent-encoded dots are names like any other: they stay inside the root.
    await write(backend, '/%2e%2e', text('just a name'));
    expect(await fs.readFile(t.disk('%2e%2e'), 'utf8')).toBe('just a name');
  });

  it('runs every operation through the RemoteBackend interface', async () => {
    const b: RemoteBackend = backend;
    await b.mkdir('/docs');
    const written = await write(b, '/docs/a.txt', pattern(5000));
    expect(await b.stat('/docs/a.txt')).toMatchObject({ etag: written.etag, size: 5000 });
    await b.move('/docs/a.txt', '/docs/b.txt', { precondition: { kind: 'match', etag: written.etag } });
    await expect(b.delete('/docs/b.txt', { precondition: { kind: 'match', etag: '"0-0-0"' } })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    await b.delete('/docs/b.txt', { precondition: { kind: 'match', etag: written.etag } });
    expect((await b.list('/docs')).entries).toEqual([]);
    await b.delete('/docs');
    expect(await treeOf(t.root)).toEqual([]);
  });

  it('remembers its capabilities; refresh probes again; the probe folder is gone afterwards', async () => {
    const first = await backend.capabilities();
    expect(first).toMatchObject({ ranges: true, etags: 'strong', ifMatchOnPut: true, ifNoneMatchOnPut: true, ifMatchOnDelete: true, folderEtagsPropagate: false });
    expect(await backend.capabilities()).toBe(first);
    const [a, b] = await Promise.all([backend.capabilities({ refresh: true }), backend.capabilities()]);
    expect(a).not.toBe(first);
    expect(b).toBe(a);
    expect(a).toEqual(first);
    expect(await fs.readdir(t.root)).toEqual([]);
    const controller = new AbortController();
    controller.abort();
    await expect(backend.capabilities({ signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('passes the caller signal through (CANCELLED)', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(backend.list('/', { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(backend.stat('/', { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(backend.read('/x', { offset: 0, length: 0, buffers: [], signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('close() cancels a write in flight (no temp left), fails later calls with CANCELLED, and is idempotent', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield text('a');
      await gate;
      yield text('b');
    }
    const pending = backend.write('/w.txt', { length: 2, source: slow(), precondition: { kind: 'absent' } });
    const settled = pending.catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await fs.readdir(t.root)).length).toBe(1);
    await backend.close();
    expect(await settled).toMatchObject({ code: 'CANCELLED' });
    release();
    expect(await fs.readdir(t.root)).toEqual([]);
    await expect(backend.stat('/')).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/closed/) });
    await expect(backend.capabilities()).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(backend.close()).resolves.toBeUndefined();
  });
});
