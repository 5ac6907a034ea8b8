/**
 * Helpers for the cache tests: a fresh cache folder on the real disk, patterned bytes, and a
 * whole-range read.
 *
 *   tempCacheDir() -> /tmp/netfs-cache-XXXX   (removed by the returned cleanup)
 *   pattern(len, seed) -> bytes that differ per seed and per offset
 *   sameBytes(a, b)    -> byte equality (fast; use it for large arrays)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheObjectIo } from '../netfs/cache-api.js';

export async function tempCacheDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'netfs-cache-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return out;
}

/** Byte equality at memcmp speed (vitest's deep toEqual walks a 64 KiB array element by element). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

export async function readRange(obj: CacheObjectIo, start: number, len: number): Promise<Uint8Array> {
  const buf = new Uint8Array(len);
  await obj.read(start, [buf]);
  return buf;
}
