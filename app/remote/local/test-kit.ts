/**
 * Helpers for the local backend's tests: real temp folders, byte sources, and (when the tests
 * run as root, as CI does) a small tmpfs for real ENOSPC and read-only mounts.
 *
 *   const t = await makeTempRoot();     t.parent/            (hashed by the M1/M2 tests)
 *                                        t.root/  <- the backend's root
 *   ...                                  t.outside/           (a folder a symlink may point at)
 *   await t.cleanup();
 *
 * Used by *.test.ts only; no test framework imports here.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PathLocks } from './path-locks.js';
import type { LocalContext } from './context.js';

export interface TempRoot {
  /** The folder holding root/ and outside/. */
  parent: string;
  root: string;
  outside: string;
  ctx: LocalContext;
  /** Writes a file below the root (creating folders), returns its disk path. */
  put(relative: string, data: Uint8Array | string): Promise<string>;
  disk(relative: string): string;
  cleanup(): Promise<void>;
}

export async function makeTempRoot(): Promise<TempRoot> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'netfs-local-'));
  const root = path.join(parent, 'root');
  const outside = path.join(parent, 'outside');
  await fs.mkdir(root);
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'outside the root');
  const disk = (relative: string): string => path.join(root, relative);
  return {
    parent,
    root,
    outside,
    ctx: { root, locks: new PathLocks() },
    disk,
    async put(relative, data) {
      const file = disk(relative);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, data);
      return file;
    },
    async cleanup() {
      await fs.rm(parent, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes: a different pattern per seed. */
export function pattern(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** An async source yielding `data` in chunks of `chunkSize` bytes. */
export async function* chunked(data: Uint8Array, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += chunkSize) {
    yield data.subarray(at, Math.min(data.length, at + chunkSize));
    await Promise.resolve();
  }
}

/** All names in a folder, raw, recursively ('a/b'), sorted. */
export async function treeOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string, prefix: string): Promise<void> => {
    for (const dirent of await fs.readdir(current, { withFileTypes: true })) {
      const name = prefix + dirent.name;
      out.push(name);
      if (dirent.isDirectory()) await walk(path.join(current, dirent.name), name + '/');
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** A hash of every name, type, size and content below `dir` (symlinks by their target, not followed). */
export async function hashTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (current: string): Promise<void> => {
    const names = (await fs.readdir(current, { encoding: 'buffer' })).sort(Buffer.compare);
    for (const name of names) {
      const full = Buffer.concat([Buffer.from(current + '/'), name]);
      const stats = await fs.lstat(full);
      hash.update(full).update(`:${stats.mode}:${stats.size}:${stats.mtimeMs}\n`);
      if (stats.isSymbolicLink()) hash.update(await fs.readlink(full));
      else if (stats.isDirectory()) await walk(full.toString());
      else if (stats.isFile()) hash.update(await fs.readFile(full));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** True when this process may mount a tmpfs (root on Linux, with mount(8) allowed). */
export function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = path.join(os.tmpdir(), `netfs-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    try {
      execFileSync('rmdir', [probe], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
}

export function mountTmpfs(dir: string, options: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
}

export function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'ignore' });
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    // Not mounted.
  }
}

/** Byte equality without a deep-equal walk (fast on megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
