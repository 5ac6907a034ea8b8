import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Precondition, WriteOptions } from '../backend.js';
import { listFolder, statEntry } from './list.js';
import { canMount, chunked, exists, makeTempRoot, mountTmpfs, pattern, sameBytes, treeOf, unmount } from './test-kit.js';
import type { TempRoot } from './test-kit.js';
import { writeFile } from './write.js';

const MOUNT_OK = canMount();

/** A source that yields `first`, waits for `gate`, then yields `rest`. */
async function* gated(first: Uint8Array, gate: Promise<void>, rest: Uint8Array): AsyncGenerator<Uint8Array> {
  yield first;
  await gate;
  yield rest;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('local writes', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
    await fs.mkdir(t.disk('docs'));
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const put = (remotePath: string, data: Uint8Array, precondition: Precondition = { kind: 'none' }, extra: Partial<WriteOptions> = {}) =>
    writeFile(t.ctx, remotePath, { length: data.length, source: chunked(data, 4096), precondition, ...extra });

  const noTemps = async (): Promise<void> => {
    expect((await treeOf(t.root)).filter((name) => name.includes('.netfs-'))).toEqual([]);
  };

  it('creates a new file and answers its ETag, size and mtime as stat sees them', async () => {
    const data = pattern(100_000);
    const result = await put('/docs/new.bin', data, { kind: 'absent' });
    const entry = await statEntry(t.ctx, '/docs/new.bin');
    expect(result).toEqual({ etag: entry.etag, etagStrength: 'strong', size: 100_000, mtimeMs: entry.mtimeMs });
    expect(sameBytes(await fs.readFile(t.disk('docs/new.bin')), data)).toBe(true);
    await noTemps();
  });

  it('writes empty files and sets the given mtime exactly', async () => {
    const result = await put('/docs/empty', new Uint8Array(0), { kind: 'absent' }, { mtimeMs: 1_600_000_000_123 });
    expect(result).toMatchObject({ size: 0, mtimeMs: 1_600_000_000_123 });
    expect((await fs.stat(t.disk('docs/empty'), { bigint: true })).mtimeNs).toBe(1_600_000_000_123_000_000n);
  });

  it('overwrites unconditionally (none), keeping the rwx bits (never setuid) of the file it replaces', async () => {
    await t.put('docs/a.txt', 'old');
    await fs.chmod(t.disk('docs/a.txt'), 0o600);
    const before = await statEntry(t.ctx, '/docs/a.txt');
    const result = await put('/docs/a.txt', text('new content'));
    expect(result.etag).not.toBe(before.etag);
    expect(await fs.readFile(t.disk('docs/a.txt'), 'utf8')).toBe('new content');
    expect((await fs.stat(t.disk('docs/a.txt'))).mode & 0o777).toBe(0o600);
    await t.put('docs/tool', 'old');
    await fs.chmod(t.disk('docs/tool'), 0o4755);
    await put('/docs/tool', text('new'));
    expect((await fs.stat(t.disk('docs/tool'))).mode & 0o7777).toBe(0o755);
    await noTemps();
  });

  it('enforces every precondition outcome and leaves the target untouched on failure', async () => {
    await t.put('docs/a.txt', 'v1');
    const v1 = await statEntry(t.ctx, '/docs/a.txt');
    await expect(put('/docs/a.txt', text('x'), { kind: 'absent' })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/"\/docs\/a\.txt": already exists/) });
    await expect(put('/docs/a.txt', text('x'), { kind: 'match', etag: '"0-0-0"' })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    await expect(put('/docs/none.txt', text('x'), { kind: 'match', etag: v1.etag })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/no longer exists/) });
    await expect(put('/docs/a.txt', text('x'), { kind: 'match', etag: null, size: 3 })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await fs.readFile(t.disk('docs/a.txt'), 'utf8')).toBe('v1');
    expect((await statEntry(t.ctx, '/docs/a.txt')).etag).toBe(v1.etag);
    expect(await exists(t.disk('docs/none.txt'))).toBe(false);

    const v2 = await put('/docs/a.txt', text('v2'), { kind: 'match', etag: v1.etag });
    expect(v2.etag).not.toBe(v1.etag);
    await expect(put('/docs/a.txt', text('v3'), { kind: 'match', etag: v1.etag })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    const v3 = await put('/docs/a.txt', text('v3'), { kind: 'match', etag: `W/${v2.etag}`, size: 2, mtimeMs: v2.mtimeMs });
    expect(await fs.readFile(t.disk('docs/a.txt'), 'utf8')).toBe('v3');
    expect(v3.size).toBe(2);
    await noTemps();
  });

  it('F11: checks the precondition again at commit, so a change made during the upload wins', async () => {
    await t.put('docs/a.txt', 'v1');
    const v1 = await statEntry(t.ctx, '/docs/a.txt');
    const gate = deferred();
    const pending = writeFile(t.ctx, '/docs/a.txt', { length: 5, source: gated(text('our'), gate.promise, text('s!')), precondition: { kind: 'match', etag: v1.etag } });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await fs.writeFile(t.disk('docs/theirs.tmp'), 'theirs');
    await fs.rename(t.disk('docs/theirs.tmp'), t.disk('docs/a.txt'));
    gate.resolve();
    await expect(pending).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/changed since it was read/) });
    expect(await fs.readFile(t.disk('docs/a.txt'), 'utf8')).toBe('theirs');
    await noTemps();
  });

  it('lets exactly one of two concurrent create-only writes win (link, atomic)', async () => {
    const gate = deferred();
    const a = writeFile(t.ctx, '/docs/race.txt', { length: 2, source: gated(text('a'), gate.promise, text('A')), precondition: { kind: 'absent' } });
    const b = writeFile(t.ctx, '/docs/race.txt', { length: 2, source: gated(text('b'), gate.promise, text('B')), precondition: { kind: 'absent' } });
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.resolve();
    const results = await Promise.allSettled([a, b]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'PRECONDITION_FAILED' } });
    expect(['aA', 'bB']).toContain(await fs.readFile(t.disk('docs/race.txt'), 'utf8'));
    await noTemps();
  });

  it('lets exactly one of two concurrent conditional writes on one version win (per-path lock)', async () => {
    await t.put('docs/a.txt', 'v1');
    const v1 = await statEntry(t.ctx, '/docs/a.txt');
    const gate = deferred();
    const writers = ['x', 'y', 'z'].map((c) =>
      writeFile(t.ctx, '/docs/a.txt', { length: 2, source: gated(text(c), gate.promise, text(c)), precondition: { kind: 'match', etag: v1.etag } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.resolve();
    const results = await Promise.allSettled(writers);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['PRECONDITION_FAILED', 'PRECONDITION_FAILED']);
    await noTemps();
  });

  it('B7: a source with fewer bytes than length fails with IO "source ended early"; target untouched, no temp left', async () => {
    await t.put('docs/a.txt', 'keep me');
    await expect(writeFile(t.ctx, '/docs/a.txt', { length: 10, source: chunked(text('short')), precondition: { kind: 'none' } })).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/"\/docs\/a\.txt": source ended early: 5 of 10/),
    });
    expect(await fs.readFile(t.disk('docs/a.txt'), 'utf8')).toBe('keep me');
    await noTemps();
  });

  it('B7: a source with more bytes than length fails with TOO_LARGE; target untouched, no temp left', async () => {
    await t.put('docs/a.txt', 'keep me');
    await expect(writeFile(t.ctx, '/docs/a.txt', { length: 3, source: chunked(text('too long'), 2), precondition: { kind: 'none' } })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    await expect(writeFile(t.ctx, '/docs/new.txt', { length: 0, source: chunked(text('x')), precondition: { kind: 'absent' } })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    expect(await fs.readFile(t.disk('docs/a.txt'), 'utf8')).toBe('keep me');
    expect(await exists(t.disk('docs/new.txt'))).toBe(false);
    await noTemps();
  });

  it('is cancelled mid-write (between chunks and while the source waits); target untouched, no temp left', async () => {
    await t.put('docs/a.txt', 'keep me');
    const controller = new AbortController();
    const data = pattern(1_000_000);
    const progress: number[] = [];
    const pending = writeFile(t.ctx, '/docs/a.txt', {
      length: data.length,
      source: chunked(data, 100_000),
      precondition: { kind: 'none' },
      signal: controller.signal,
      onProgress: (n) => {
        progress.push(n);
        if (n === 300_000) controller.abort();
      },
    });
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(progress).toEqual([100_000, 200_000, 300_000]);

    const waiting = new AbortController();
    const never = writeFile(t.ctx, '/docs/a.txt', { length: 2, source: gated(text('a'), new Promise(() => undefined), text('b')), precondition: { kind: 'none' }, signal: waiting.signal });
    setTimeout(() => waiting.abort(), 10);
    await expect(never).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await fs.readFile(t.disk('docs/a.txt'), 'utf8')).toBe('keep me');
    await noTemps();
  });

  it('C2: keeps the bytes in a hidden temp file until the commit, never under the final name', async () => {
    const gate = deferred();
    const pending = writeFile(t.ctx, '/docs/new.txt', { length: 2, source: gated(text('a'), gate.promise, text('b')), precondition: { kind: 'absent' } });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const names = await fs.readdir(t.disk('docs'));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\.netfs-partial-[0-9a-f]{16}$/);
    expect((await listFolder(t.ctx, '/docs')).entries).toEqual([]);
    gate.resolve();
    await pending;
    expect(await fs.readdir(t.disk('docs'))).toEqual(['new.txt']);
  });

  it('writes a source that reuses one chunk buffer correctly (each chunk is consumed before the next is pulled)', async () => {
    const data = pattern(50_000);
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const chunk = new Uint8Array(1000);
      for (let at = 0; at < data.length; at += 1000) {
        chunk.set(data.subarray(at, at + 1000));
        yield chunk;
      }
    }
    await writeFile(t.ctx, '/docs/reuse.bin', { length: data.length, source: reusing(), precondition: { kind: 'absent' } });
    expect(sameBytes(await fs.readFile(t.disk('docs/reuse.bin')), data)).toBe(true);
  });

  it('refuses a missing parent, a folder, the root, reserved names and bad options, with the right codes', async () => {
    await expect(put('/nope/a.txt', text('x'))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/parent folder missing/) });
    await expect(put('/docs', text('x'))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/is a folder/) });
    await expect(put('/', text('x'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(put('/docs/.netfs-partial-1234', text('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(put('/docs/../x', text('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(writeFile(t.ctx, '/docs/x', { length: -1, source: chunked(text('')), precondition: { kind: 'none' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(writeFile(t.ctx, '/docs/x', { length: 0, source: chunked(text('')), precondition: { kind: 'bogus' } as unknown as Precondition })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(put('/docs/x', text('x'), { kind: 'none' }, { mtimeMs: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await t.put('file.txt', 'x');
    await expect(put('/file.txt/x', text('x'))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/not a folder/) });
    await noTemps();
  });

  it('M2: never writes through a symlink or replaces one; what it points at stays untouched', async () => {
    await fs.symlink(path.join(t.outside, 'secret.txt'), t.disk('docs/link.txt'));
    await fs.symlink(t.outside, t.disk('out'));
    await expect(put('/docs/link.txt', text('pwned'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(put('/out/secret.txt', text('pwned'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(put('/out/new.txt', text('pwned'), { kind: 'absent' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await fs.readFile(path.join(t.outside, 'secret.txt'), 'utf8')).toBe('outside the root');
    expect(await fs.readdir(t.outside)).toEqual(['secret.txt']);
    expect((await fs.lstat(t.disk('docs/link.txt'))).isSymbolicLink()).toBe(true);
  });

  it.skipIf(!MOUNT_OK)('F15: out of space is INSUFFICIENT_STORAGE; the old file stays and no temp is left', async () => {
    const small = path.join(t.parent, 'small');
    await fs.mkdir(small);
    mountTmpfs(small, 'size=256k');
    try {
      const ctx = { ...t.ctx, root: small };
      await writeFile(ctx, '/a.bin', { length: 1000, source: chunked(pattern(1000)), precondition: { kind: 'absent' } });
      const big = pattern(1024 * 1024);
      await expect(writeFile(ctx, '/a.bin', { length: big.length, source: chunked(big), precondition: { kind: 'none' } })).rejects.toMatchObject({
        code: 'INSUFFICIENT_STORAGE',
        message: expect.stringMatching(/"\/a\.bin".*ENOSPC/),
      });
      expect(sameBytes(await fs.readFile(path.join(small, 'a.bin')), pattern(1000))).toBe(true);
      expect(await fs.readdir(small)).toEqual(['a.bin']);
    } finally {
      unmount(small);
    }
  });
});
