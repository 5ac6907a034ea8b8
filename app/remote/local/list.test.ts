import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listResultSchema, remoteEntrySchema } from '../../api/remote.js';
import { decodeName, escapeBytes, listFolder, statEntry } from './list.js';
import { makeTempRoot } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

/** A disk path with a raw (possibly non-UTF-8) last name. */
const rawPath = (folder: string, name: Buffer): Buffer => Buffer.concat([Buffer.from(folder + '/'), name]);

describe('local stat and list', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('stats files, folders and the root with strong ETags', async () => {
    await t.put('docs/a.txt', 'hello');
    const file = await statEntry(t.ctx, '/docs/a.txt');
    expect(remoteEntrySchema.parse(file)).toEqual(file);
    expect(file).toMatchObject({ path: '/docs/a.txt', name: 'a.txt', kind: 'file', size: 5, etagStrength: 'strong', contentType: null });
    expect(file.etag).toMatch(/^"[0-9a-f]+-5-[0-9a-f]+"$/);
    expect(file.mtimeMs).toBe(Math.round((await fs.stat(t.disk('docs/a.txt'))).mtimeMs));
    expect(await statEntry(t.ctx, '/docs')).toMatchObject({ path: '/docs', name: 'docs', kind: 'folder', size: null, etagStrength: 'strong' });
    expect(await statEntry(t.ctx, '/')).toMatchObject({ path: '/', name: '', kind: 'folder' });
    await expect(statEntry(t.ctx, '/docs/missing')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('/docs/missing') });
    await expect(statEntry(t.ctx, '/nope/missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('fails stat("/") with NOT_FOUND when the root is missing, without creating it', async () => {
    const missing = { ...t.ctx, root: path.join(t.parent, 'gone') };
    await expect(statEntry(missing, '/')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(listFolder(missing, '/')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fs.stat(missing.root)).rejects.toThrow();
  });

  it('lists depth 1, sorted, never the folder itself, with the folder entry beside', async () => {
    await t.put('docs/b.txt', '12');
    await t.put('docs/a.txt', '1');
    await t.put('docs/sub/deep.txt', 'deep');
    const result = await listFolder(t.ctx, '/docs');
    expect(listResultSchema.parse(result)).toEqual(result);
    expect(result.folder).toMatchObject({ path: '/docs', kind: 'folder' });
    expect(result.entries.map((e) => [e.path, e.kind, e.size])).toEqual([
      ['/docs/a.txt', 'file', 1],
      ['/docs/b.txt', 'file', 2],
      ['/docs/sub', 'folder', null],
    ]);
    expect(result.problems).toEqual([]);
    const root = await listFolder(t.ctx, '/');
    expect(root.folder).toMatchObject({ path: '/', name: '' });
    expect(root.entries.map((e) => e.path)).toEqual(['/docs']);
  });

  it('fails with CONFLICT "not a folder" when listing a file, NOT_FOUND for a missing folder', async () => {
    await t.put('a.txt', 'x');
    await expect(listFolder(t.ctx, '/a.txt')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/"\/a\.txt": not a folder/) });
    await expect(listFolder(t.ctx, '/missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('B1: lists names with space, %, #, ?, +, &, ;, [], NFC and NFD, emoji byte for byte', async () => {
    const names = ['a b.txt', '%20literal', 'hash#1', 'what?', 'plus+', 'amp&', 'semi;', '[x]', 'caf\u00e9', 'cafe\u0301', '\u{1F600}.txt', '\uFEFFbom'];
    for (const name of names) await fs.writeFile(path.join(t.root, name), name);
    const { entries, problems } = await listFolder(t.ctx, '/');
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.name).sort()).toEqual([...names].sort());
    for (const entry of entries) {
      expect(entry.path).toBe('/' + entry.name);
      expect(entry.size).toBe(Buffer.byteLength(entry.name));
    }
    const onDisk = (await fs.readdir(t.root, { encoding: 'buffer' })).map((b) => b.toString('hex')).sort();
    expect(entries.map((e) => Buffer.from(e.name).toString('hex')).sort()).toEqual(onDisk);
  });

  it('B2: reports names on disk that are not valid UTF-8 or not valid remote names as BAD_NAME problems, and lists the rest', async () => {
    await fs.writeFile(rawPath(t.root, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74])), 'latin-1 name');
    await fs.mkdir(rawPath(t.root, Buffer.from([0xff, 0xfe])));
    await fs.writeFile(rawPath(t.root, Buffer.from([0xed, 0xa0, 0x80])), 'encoded surrogate');
    await fs.writeFile(path.join(t.root, 'back\\slash'), 'x');
    await fs.writeFile(path.join(t.root, 'tab\tname'), 'x');
    await fs.writeFile(path.join(t.root, 'good.txt'), 'x');
    const { entries, problems } = await listFolder(t.ctx, '/');
    expect(entries.map((e) => e.name)).toEqual(['good.txt']);
    expect(problems).toHaveLength(5);
    expect(problems.every((p) => p.kind === 'BAD_NAME')).toBe(true);
    expect(problems.map((p) => p.href).sort()).toEqual(['%ED%A0%80', '%FF%FE', 'back\\slash', 'caf%E9.txt', 'tab\tname'].sort());
    expect(problems.find((p) => p.href === 'caf%E9.txt')?.message).toMatch(/not valid UTF-8/);
    expect(problems.find((p) => p.href === 'back\\slash')?.message).toMatch(/"\\"/);
    expect(problems.find((p) => p.href === 'tab\tname')?.message).toMatch(/control character U\+0009/);
  });

  it('M2: reports symlinks (outside, inside, dangling) as problems and never follows them', async () => {
    await fs.symlink(t.outside, path.join(t.root, 'to-outside'));
    await fs.symlink(path.join(t.outside, 'secret.txt'), path.join(t.root, 'secret-link'));
    await t.put('real/x.txt', 'x');
    await fs.symlink(t.disk('real'), path.join(t.root, 'to-inside'));
    await fs.symlink('/nonexistent/target', path.join(t.root, 'dangling'));
    const { entries, problems } = await listFolder(t.ctx, '/');
    expect(entries.map((e) => e.name)).toEqual(['real']);
    expect(problems.map((p) => [p.href, p.kind])).toEqual([
      ['dangling', 'UNSUPPORTED_KIND'],
      ['secret-link', 'UNSUPPORTED_KIND'],
      ['to-inside', 'UNSUPPORTED_KIND'],
      ['to-outside', 'UNSUPPORTED_KIND'],
    ]);
    expect(problems[3]?.message).toContain(JSON.stringify(t.outside));
    expect(problems[3]?.message).toMatch(/symbolic link .*not followed/);
    await expect(listFolder(t.ctx, '/to-outside')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(statEntry(t.ctx, '/secret-link')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(statEntry(t.ctx, '/to-outside/secret.txt')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('reports FIFOs and sockets as problems; stat of them is UNSUPPORTED', async () => {
    execFileSync('mkfifo', [path.join(t.root, 'pipe')]);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(t.root, 'sock'), resolve));
    try {
      await t.put('plain.txt', 'x');
      const { entries, problems } = await listFolder(t.ctx, '/');
      expect(entries.map((e) => e.name)).toEqual(['plain.txt']);
      expect(problems.map((p) => [p.href, p.kind])).toEqual([
        ['pipe', 'UNSUPPORTED_KIND'],
        ['sock', 'UNSUPPORTED_KIND'],
      ]);
      expect(problems[0]?.message).toMatch(/FIFO/);
      expect(problems[1]?.message).toMatch(/socket/);
      await expect(statEntry(t.ctx, '/pipe')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/FIFO/) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("C8: hides the backend's own temp files and probe folders, leftover or in use", async () => {
    await t.put('.netfs-partial-0123456789abcdef', 'half a file');
    await fs.mkdir(t.disk('.netfs-probe-0123456789abcdef'));
    await t.put('.netfs-ignore', 'a user dotfile stays visible');
    const { entries, problems } = await listFolder(t.ctx, '/');
    expect(entries.map((e) => e.name)).toEqual(['.netfs-ignore']);
    expect(problems).toEqual([]);
  });

  it('gives folders ETags that change with direct children only', async () => {
    await t.put('top/sub/a.txt', 'a');
    const before = await statEntry(t.ctx, '/top');
    // Past the filesystem's timestamp granularity, so a change of /top would show.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await t.put('top/sub/b.txt', 'b');
    expect((await statEntry(t.ctx, '/top')).etag).toBe(before.etag);
    await t.put('top/c.txt', 'c');
    expect((await statEntry(t.ctx, '/top')).etag).not.toBe(before.etag);
  });

  it('lists large folders in batches and stops when cancelled', async () => {
    for (let i = 0; i < 300; i++) await fs.writeFile(path.join(t.root, `f${String(i).padStart(3, '0')}`), '');
    const { entries } = await listFolder(t.ctx, '/');
    expect(entries).toHaveLength(300);
    expect(entries[0]?.name).toBe('f000');
    const controller = new AbortController();
    controller.abort();
    await expect(listFolder(t.ctx, '/', controller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('decodes and escapes raw names for the log', () => {
    expect(decodeName(Buffer.from('caf\u00e9'))).toBe('caf\u00e9');
    expect(decodeName(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('\uFEFFa');
    expect(decodeName(Buffer.from([0xc3]))).toBeNull();
    expect(escapeBytes(Buffer.from([0x61, 0x20, 0x25, 0xe9]))).toBe('a%20%25%E9');
  });
});
