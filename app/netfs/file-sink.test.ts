import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink } from './file-sink.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('FileSink', () => {
  for (const durable of [true, false]) {
    it(`writes out-of-order positional deliveries into one file and cuts it to size (durable: ${durable})`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'netfs-sink-'));
      dirs.push(dir);
      const path = join(dir, 'out.bin');
      const sink = await FileSink.create(path, { durable, syncEvery: 1024 });
      const a = new Uint8Array(3000).fill(1);
      const b = new Uint8Array(2000).fill(2);
      await sink.deliver(3000, [b]);
      await sink.deliver(0, [a.subarray(0, 1000), a.subarray(1000)]);
      await sink.finish(4500);
      const got = await readFile(path);
      expect(got.length).toBe(4500);
      expect(got.subarray(0, 3000).every((x) => x === 1)).toBe(true);
      expect(got.subarray(3000).every((x) => x === 2)).toBe(true);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    });
  }

  it('mode and mtime asked for are set before the final fsync; a file written exactly to its size is not cut again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netfs-sink-'));
    dirs.push(dir);
    const path = join(dir, 'small.bin');
    const mtimeMs = Date.UTC(2023, 4, 6, 7, 8, 9);
    const sink = await FileSink.create(path, { mode: 0o644, mtimeMs });
    await sink.deliver(0, [new Uint8Array(4096).fill(7)]);
    await sink.finish(4096);
    const st = await stat(path);
    expect(st.mode & 0o777).toBe(0o644);
    expect(st.mtimeMs).toBe(mtimeMs);
    expect(st.size).toBe(4096);
    // Shorter than the size asked for (a zero tail): the file is extended to it.
    const tail = join(dir, 'tail.bin');
    const sink2 = await FileSink.create(tail, {});
    await sink2.deliver(0, [new Uint8Array(10).fill(1)]);
    await sink2.finish(100);
    const got = await readFile(tail);
    expect(got.length).toBe(100);
    expect(got.subarray(10).every((x) => x === 0)).toBe(true);
  });

  it('discard leaves nothing under the name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netfs-sink-'));
    dirs.push(dir);
    const path = join(dir, 'gone.bin');
    const sink = await FileSink.create(path, { durable: false });
    await sink.deliver(0, [new Uint8Array(10)]);
    await sink.discard();
    await expect(stat(path)).rejects.toThrow();
  });
});
