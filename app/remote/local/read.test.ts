import { execFileSync } from 'node:child_process';
import { closeSync, futimesSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statEntry } from './list.js';
import { MAX_READ_CHUNK, readRange } from './read.js';
import { makeTempRoot, pattern, sameBytes } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

const MiB = 1024 * 1024;

describe('local reads', () => {
  let t: TempRoot;
  let data: Uint8Array;
  beforeEach(async () => {
    t = await makeTempRoot();
    data = pattern(10_000);
    await t.put('docs/a.bin', data);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('reads a range at an odd offset, exactly, with size and the current ETag', async () => {
    const buffer = new Uint8Array(777);
    const result = await readRange(t.ctx, '/docs/a.bin', { offset: 1234, length: 777, buffers: [buffer] });
    expect(result).toEqual({ transferred: 777, eof: false, size: 10_000, etag: (await statEntry(t.ctx, '/docs/a.bin')).etag });
    expect(buffer).toEqual(data.subarray(1234, 2011));
  });

  it('is short only at end of file, with eof: true', async () => {
    const buffer = new Uint8Array(100);
    expect(await readRange(t.ctx, '/docs/a.bin', { offset: 9_990, length: 100, buffers: [buffer] })).toMatchObject({ transferred: 10, eof: true, size: 10_000 });
    expect(buffer.subarray(0, 10)).toEqual(data.subarray(9_990));
    expect(await readRange(t.ctx, '/docs/a.bin', { offset: 9_000, length: 1_000, buffers: [new Uint8Array(1_000)] })).toMatchObject({ transferred: 1_000, eof: true });
    expect(await readRange(t.ctx, '/docs/a.bin', { offset: 8_999, length: 1_000, buffers: [new Uint8Array(1_000)] })).toMatchObject({ transferred: 1_000, eof: false });
    expect(await readRange(t.ctx, '/docs/a.bin', { offset: 20_000, length: 10, buffers: [new Uint8Array(10)] })).toMatchObject({ transferred: 0, eof: true });
    expect(await readRange(t.ctx, '/docs/a.bin', { offset: 5, length: 0, buffers: [] })).toMatchObject({ transferred: 0, eof: false });
    await t.put('empty', '');
    expect(await readRange(t.ctx, '/empty', { offset: 0, length: 0, buffers: [] })).toMatchObject({ transferred: 0, eof: true, size: 0 });
  });

  it('fills several small buffers in order and nothing past length', async () => {
    const buffers = [1, 3, 7, 0, 100].map((n) => new Uint8Array(n).fill(0xee));
    const result = await readRange(t.ctx, '/docs/a.bin', { offset: 3, length: 50, buffers });
    expect(result.transferred).toBe(50);
    const joined = Buffer.concat(buffers);
    expect(new Uint8Array(joined.subarray(0, 50))).toEqual(data.subarray(3, 53));
    expect([...joined.subarray(50)].every((b) => b === 0xee)).toBe(true);
  });

  it('reads at most 1 MiB per syscall and reports progress after each', async () => {
    const big = pattern(3.5 * MiB, 2);
    await t.put('big.bin', big);
    const buffer = new Uint8Array(4 * MiB);
    const progress: number[] = [];
    const result = await readRange(t.ctx, '/big.bin', { offset: 0, length: big.length, buffers: [buffer], onProgress: (n) => progress.push(n) });
    expect(result).toMatchObject({ transferred: big.length, eof: true });
    expect(progress).toEqual([MAX_READ_CHUNK, 2 * MiB, 3 * MiB, 3.5 * MiB]);
    expect(sameBytes(buffer.subarray(0, big.length), big)).toBe(true);
  });

  it('checks `expect`: a strong ETag decides; weak or missing ETags fall back to size and mtime', async () => {
    const entry = await statEntry(t.ctx, '/docs/a.bin');
    const read = (expected: Parameters<typeof readRange>[2]['expect']) =>
      readRange(t.ctx, '/docs/a.bin', { offset: 0, length: 10, buffers: [new Uint8Array(10)], expect: expected });
    await expect(read({ etag: entry.etag })).resolves.toMatchObject({ transferred: 10 });
    await expect(read({ etag: '"1-2-3"' })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('/docs/a.bin') });
    await expect(read({ etag: null, size: 10_000, mtimeMs: entry.mtimeMs })).resolves.toMatchObject({ transferred: 10 });
    await expect(read({ etag: 'W/"weak"', size: 10_000 })).resolves.toMatchObject({ transferred: 10 });
    await expect(read({ etag: 'W/"weak"', size: 9_999 })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    await expect(read({ etag: null, mtimeMs: (entry.mtimeMs ?? 0) - 5_000 })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('keeps reading the version it opened when the file is replaced by rename mid-read, and says which', async () => {
    const old = pattern(3 * MiB, 3);
    await t.put('r.bin', old);
    const before = await statEntry(t.ctx, '/r.bin');
    const buffer = new Uint8Array(old.length);
    let replaced = false;
    const result = await readRange(t.ctx, '/r.bin', {
      offset: 0,
      length: old.length,
      buffers: [buffer],
      expect: { etag: before.etag },
      onProgress: () => {
        if (replaced) return;
        replaced = true;
        // Synchronous on purpose: the swap happens between two chunks of the read.
        writeFileSync(t.disk('r.tmp'), 'new');
        renameSync(t.disk('r.tmp'), t.disk('r.bin'));
      },
    });
    expect(replaced).toBe(true);
    expect(result).toMatchObject({ transferred: old.length, eof: true, etag: before.etag, size: old.length });
    expect(sameBytes(buffer, old)).toBe(true);
    expect((await statEntry(t.ctx, '/r.bin')).etag).not.toBe(before.etag);
  });

  it('fails with PRECONDITION_FAILED (with transferred) when the file changes in place mid-read under `expect`; etag null without', async () => {
    await t.put('w.bin', pattern(3 * MiB, 4));
    // Synchronous on purpose: the change happens between two chunks of the read.
    const changeInPlace = (seconds: number): void => {
      const fd = openSync(t.disk('w.bin'), 'r+');
      writeSync(fd, new Uint8Array([1, 2, 3]), 0, 3, 2 * MiB + 5);
      futimesSync(fd, seconds, seconds);
      closeSync(fd);
    };
    const entry = await statEntry(t.ctx, '/w.bin');
    const withExpect = readRange(t.ctx, '/w.bin', {
      offset: 0,
      length: 3 * MiB,
      buffers: [new Uint8Array(3 * MiB)],
      expect: { etag: entry.etag },
      onProgress: (n) => {
        if (n === MiB) changeInPlace(1);
      },
    });
    await expect(withExpect).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', transferred: 3 * MiB });
    const again = await statEntry(t.ctx, '/w.bin');
    const withoutExpect = await readRange(t.ctx, '/w.bin', {
      offset: 0,
      length: 3 * MiB,
      buffers: [new Uint8Array(3 * MiB)],
      onProgress: (n) => {
        if (n === MiB) changeInPlace(2);
      },
    });
    expect(withoutExpect).toMatchObject({ transferred: 3 * MiB, etag: null });
    expect(again.etag).not.toBe(entry.etag);
  });

  it('stops between chunks when aborted, with CANCELLED and the bytes placed so far', async () => {
    await t.put('big.bin', pattern(3 * MiB));
    const controller = new AbortController();
    const pending = readRange(t.ctx, '/big.bin', {
      offset: 0,
      length: 3 * MiB,
      buffers: [new Uint8Array(3 * MiB)],
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED', transferred: MiB });
  });

  it('refuses folders, missing files, bad arguments and special files, each with its code', async () => {
    const one = { offset: 0, length: 1, buffers: [new Uint8Array(1)] };
    await expect(readRange(t.ctx, '/docs', one)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/is a folder/) });
    await expect(readRange(t.ctx, '/', one)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(readRange(t.ctx, '/docs/missing', one)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(readRange(t.ctx, '/docs/a.bin', { ...one, offset: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(readRange(t.ctx, '/docs/a.bin', { ...one, offset: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(readRange(t.ctx, '/docs/a.bin', { offset: 0, length: 10, buffers: [new Uint8Array(9)] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/buffers hold 9 bytes/),
    });
    execFileSync('mkfifo', [t.disk('pipe')]);
    await expect(readRange(t.ctx, '/pipe', one)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it("M1/M2: never reads outside the root: '..' is refused, symlinks are not followed", async () => {
    const one = { offset: 0, length: 5, buffers: [new Uint8Array(5)] };
    await fs.symlink(path.join(t.outside, 'secret.txt'), t.disk('leak.txt'));
    await fs.symlink(t.outside, t.disk('out'));
    await expect(readRange(t.ctx, '/../outside/secret.txt', one)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(readRange(t.ctx, '/leak.txt', one)).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/symbolic link/) });
    await expect(readRange(t.ctx, '/out/secret.txt', one)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect([...(one.buffers[0] as Uint8Array)]).toEqual([0, 0, 0, 0, 0]);
  });
});
