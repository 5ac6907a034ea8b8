/**
 * Temp names for uploads to servers that ignore preconditions on PUT (rclone serve webdav), and
 * the records that let a later pass remove the ones a crash left on the server.
 *
 *   /docs/report.pdf  --PUT-->  /docs/.netfs-upload-3f9c0a1b2c4d5e6f   (same folder: the MOVE
 *                                                                      onto the name is a rename)
 *   <sync root>/.netfs-uploads/3f9c0a1b2c4d5e6f
 *       {"temp":"/docs/.netfs-upload-3f9c…","target":"/docs/report.pdf","pid":…,"startedMs":…}
 *       written before the first byte goes out, removed once the temp is moved or deleted
 *
 *   sweepTempUploads: records of this sync root that no upload of this process owns (a SIGKILL
 *   mid-PUT left them) -> DELETE the server temp (gone already is fine) -> drop the record
 *
 * Both names are out of the sync on either side: the records folder is a top-level `.netfs*`
 * name, and `.netfs-upload-*` is a built-in ignore pattern (ignore.ts), so a server temp (ours,
 * or another client's still in flight) is never synced down, never deleted as a user file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isNetfsError } from '../api/errors.js';
import type { RemoteBackend } from '../remote/backend.js';
import { childPath, parentPath, parseRemotePath } from '../remote/path.js';

export const UPLOAD_TEMP_PREFIX = '.netfs-upload-';
/** Top-level folder of the sync root holding one record per upload in flight. */
export const UPLOAD_RECORDS_DIR = '.netfs-uploads';

export interface TempUpload {
  /** 64 random bits in hex: the record's file name and the temp name's tail. */
  id: string;
  /** Remote path of the temp, in the target's folder. */
  temp: string;
  /** Remote path the upload is for. */
  target: string;
}

/** True for a temp name of ours (or of another client of this kind). */
export function isUploadTempName(name: string): boolean {
  return name.startsWith(UPLOAD_TEMP_PREFIX);
}

/** A fresh temp beside `target`. */
export function newTempUpload(target: string): TempUpload {
  const id = randomBytes(8).toString('hex');
  return { id, temp: childPath(parentPath(target), UPLOAD_TEMP_PREFIX + id), target };
}

/** Records of uploads this process has in flight, as `<root>\0<id>`: the sweep leaves them alone. */
const inFlight = new Set<string>();

const recordFile = (root: string, id: string): string => join(root, UPLOAD_RECORDS_DIR, id);

/** Writes the record before anything is sent, so a crash at any later point leaves a trace. */
export async function recordTempUpload(root: string, t: TempUpload): Promise<void> {
  inFlight.add(`${root}\0${t.id}`);
  try {
    await mkdir(join(root, UPLOAD_RECORDS_DIR), { recursive: true, mode: 0o700 });
    await writeFile(recordFile(root, t.id), `${JSON.stringify({ temp: t.temp, target: t.target, pid: process.pid, startedMs: Date.now() })}\n`, { mode: 0o600 });
  } catch (e) {
    inFlight.delete(`${root}\0${t.id}`);
    throw e;
  }
}

/** The temp is gone from the server (moved into place or deleted): drop its record. */
export async function forgetTempUpload(root: string, t: TempUpload): Promise<void> {
  await unlink(recordFile(root, t.id)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  inFlight.delete(`${root}\0${t.id}`);
}

/** The temp a record names, when it is well formed and names a temp of ours (nothing else is ever deleted). */
function tempOfRecord(text: string, id: string): string | null {
  try {
    const r = JSON.parse(text) as { temp?: unknown };
    if (typeof r.temp !== 'string') return null;
    const segments = parseRemotePath(r.temp);
    return segments[segments.length - 1] === UPLOAD_TEMP_PREFIX + id ? r.temp : null;
  } catch {
    return null;
  }
}

export interface SweepResult {
  /** Server temps deleted (or found gone), records dropped. */
  removed: string[];
  /** Records kept because the DELETE failed; the next sweep tries again. */
  kept: { temp: string; message: string }[];
}

/** Removes the server temps that earlier, killed uploads of this sync root left behind. */
export async function sweepTempUploads(root: string, backend: RemoteBackend, signal?: AbortSignal): Promise<SweepResult> {
  const result: SweepResult = { removed: [], kept: [] };
  const ids = await readdir(join(root, UPLOAD_RECORDS_DIR)).catch(() => [] as string[]);
  for (const id of ids) {
    if (!/^[0-9a-f]{16}$/.test(id) || inFlight.has(`${root}\0${id}`)) continue;
    const text = await readFile(recordFile(root, id), 'utf8').catch(() => null);
    if (text === null) continue;
    const temp = tempOfRecord(text, id);
    if (temp !== null) {
      try {
        await backend.delete(temp, signal === undefined ? {} : { signal });
      } catch (e) {
        if (!(isNetfsError(e) && e.code === 'NOT_FOUND')) {
          result.kept.push({ temp, message: e instanceof Error ? e.message : String(e) });
          continue;
        }
      }
      result.removed.push(temp);
    }
    await unlink(recordFile(root, id)).catch(() => undefined);
  }
  return result;
}
