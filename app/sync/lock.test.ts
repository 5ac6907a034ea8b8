import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { EngineLock, isAlive, LOCK_FILE_NAME, processStartTime } from './lock.js';

let tmp: TempDir;
let lockFile: string;
beforeEach(async () => {
  tmp = await makeTempDir('netfs-lock-');
  lockFile = join(tmp.path, LOCK_FILE_NAME);
});
afterEach(async () => {
  await tmp.remove();
});

const here = fileURLToPath(new URL('.', import.meta.url));

async function startChild(mode: 'hold' | 'exit'): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const child = spawn(process.execPath, ['--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'testing-lock-child.ts'), tmp.path, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('READY')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`child exited ${code} before READY: ${err}`)));
  });
  return { child, exited };
}

describe('engine lock (issue 5 item 1)', () => {
  it('holds the owner pid (and start time) while held, and is gone after release', () => {
    const lock = EngineLock.acquire(tmp.path);
    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n${processStartTime(process.pid)}\n`);
    expect(EngineLock.holder(tmp.path)).toEqual({ pid: process.pid, startTime: processStartTime(process.pid) });
    lock.release();
    expect(existsSync(lockFile)).toBe(false);
    expect(EngineLock.holder(tmp.path)).toBeNull();
    EngineLock.acquire(tmp.path).release();
    lock.release(); // idempotent, and it does not remove a lock that is no longer its own
  });

  it('a second engine is refused with exactly "already running (pid N)"', () => {
    const lock = EngineLock.acquire(tmp.path);
    expect(() => EngineLock.acquire(tmp.path)).toThrow(expect.objectContaining({ code: 'CONFLICT', message: `already running (pid ${process.pid})` }));
    lock.release();
  });

  it('a child holding the lock keeps others out; SIGKILLed, its stale lock is taken over', async () => {
    const { child, exited } = await startChild('hold');
    expect(() => EngineLock.acquire(tmp.path)).toThrow(expect.objectContaining({ code: 'CONFLICT', message: `already running (pid ${child.pid})` }));
    expect(EngineLock.holder(tmp.path)?.pid).toBe(child.pid);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    expect(readFileSync(lockFile, 'utf8').split('\n')[0]).toBe(String(child.pid)); // left behind
    expect(EngineLock.holder(tmp.path)).toBeNull();
    const lock = EngineLock.acquire(tmp.path);
    expect(readFileSync(lockFile, 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });

  it('is released when the holder exits normally', async () => {
    const { exited } = await startChild('exit');
    expect((await exited).code).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  });

  it('takes over a lock whose pid is dead, reused by another process, or unreadable', () => {
    for (const content of ['4194303\n\n', `${process.pid}\n1\n`, 'garbage', '']) {
      writeFileSync(lockFile, content);
      const lock = EngineLock.acquire(tmp.path);
      expect(readFileSync(lockFile, 'utf8').split('\n')[0]).toBe(String(process.pid));
      lock.release();
    }
    expect(isAlive({ pid: process.pid, startTime: 1 })).toBe(false);
    expect(isAlive({ pid: process.pid, startTime: null })).toBe(true);
  });

  it('a missing state folder is an IO error naming the lock file', () => {
    expect(() => EngineLock.acquire(join(tmp.path, 'nope'))).toThrow(expect.objectContaining({ code: 'IO', message: expect.stringContaining(LOCK_FILE_NAME) }));
  });
});
