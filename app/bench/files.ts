/**
 * Test files and output checks: a big file of random bytes written in chunks (never held in
 * memory whole), made durable so its writeback cannot disturb the timed runs; a streamed
 * CRC32 to prove an output is the source byte for byte; and warming the page cache.
 */
import { randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { runChild } from './child.js';

const CHUNK = 8 * 1024 * 1024;

/** Writes `size` random bytes to `path` in 8 MiB chunks, then fsyncs it. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w', 0o644);
  try {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
    for (let pos = 0; pos < size; ) {
      const n = Math.min(buf.length, size - pos);
      randomFillSync(buf, 0, n);
      let done = 0;
      while (done < n) {
        const { bytesWritten } = await fh.write(buf, done, n - done, pos + done);
        done += bytesWritten;
      }
      pos += n;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface FileCheck {
  size: number;
  crc32: number;
}

/** Size and CRC32 of a file, read as a stream. */
export async function checkFile(path: string): Promise<FileCheck> {
  let crc = 0;
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    const b = chunk as Buffer;
    crc = crc32(b, crc);
    size += b.length;
  }
  return { size, crc32: crc };
}

/** null when `path` is the source byte for byte, else what is wrong. */
export async function verifyCopy(path: string, source: FileCheck): Promise<string | null> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    return `no output file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (size !== source.size) return `output has ${size} bytes, the source ${source.size}`;
  const got = await checkFile(path);
  if (got.crc32 !== source.crc32) return `output differs from the source (CRC32 ${hex(got.crc32)}, expected ${hex(source.crc32)})`;
  return null;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Reads the file once with `cat > /dev/null`, so every side starts with it in the page cache. */
export async function warmPageCache(path: string): Promise<void> {
  const r = await runChild({ command: 'sh', args: ['-c', 'cat -- "$1" > /dev/null', 'warm', path] });
  if (r.code !== 0) throw new Error(`warming the page cache failed: ${r.stderr.trim()}`);
}

/** Whether two paths live on the same filesystem (device). */
export async function sameDevice(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  return sa.dev === sb.dev;
}
