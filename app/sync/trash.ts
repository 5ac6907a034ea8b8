/**
 * The local trash (issue 5 item 6): a file the server deleted is moved here, not unlinked, and
 * kept 30 days, listable and restorable.
 *
 *   put(root, '/d/a.txt')      journal row first (durable), then  <root>/d/a.txt  ──rename──>  <state>/trash/<id>-a.txt
 *                              (across filesystems: copy with timestamps, then remove the original)
 *   list()                     rows whose file is there (a row left by a crash between the two steps is dropped)
 *   restore(root, id | path)   back to <root>/d/a.txt; never over an existing file: then as
 *                              'a (restored copy YYYY-MM-DD HHMMSS).txt' beside it, and the result says so
 *   purge(now)                 entries deleted more than 30 days ago are removed for good
 */
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { cp, link, lstat, mkdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NetfsError } from '../api/errors.js';
import { restoredCopyName, trimToBytes, MAX_NAME_BYTES } from './conflict-name.js';
import type { Journal, TrashRow } from './journal.js';
import { checkNoSymlinkParents, localPath } from './local-path.js';
import { nameOf, parentOf } from './tree-paths.js';

export const TRASH_DIR_NAME = 'trash';
export const TRASH_KEEP_MS = 30 * 24 * 3600 * 1000;

export interface RestoreResult {
  entry: TrashRow;
  /** The remote path it is back at. */
  restoredTo: string;
  /** True when the original path was taken and it got a restored-copy name instead. */
  renamed: boolean;
  message: string;
}

const utf8 = new TextEncoder();

export class Trash {
  readonly dir: string;

  constructor(
    stateDir: string,
    private readonly journal: Journal,
  ) {
    this.dir = join(stateDir, TRASH_DIR_NAME);
  }

  /** Moves the file or folder at remote path `path` of the sync folder `root` into the trash. */
  async put(root: string, path: string, now = Date.now()): Promise<TrashRow> {
    await checkNoSymlinkParents(root, path);
    const source = localPath(root, path);
    const info = await lstat(source).catch((error: unknown) => {
      throw fsError(`cannot move ${path} to the trash`, error);
    });
    if (!info.isFile() && !info.isDirectory()) throw new NetfsError('UNSUPPORTED', `${path} is neither a file nor a folder; not moved to the trash`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = `${now.toString(36)}-${randomBytes(4).toString('hex')}`;
    const name = nameOf(path);
    const fileName = `${id}-${trimToBytes(name, MAX_NAME_BYTES - utf8.encode(id).length - 1)}`;
    const row: TrashRow = { id, originalPath: path, fileName, kind: info.isDirectory() ? 'folder' : 'file', size: info.isDirectory() ? 0 : info.size, deletedMs: now };
    this.journal.addTrash(row);
    try {
      await move(source, join(this.dir, fileName));
    } catch (error) {
      this.journal.removeTrash(id);
      throw fsError(`cannot move ${path} to the trash`, error);
    }
    return row;
  }

  /** The entries in the trash, oldest first. */
  async list(): Promise<TrashRow[]> {
    const out: TrashRow[] = [];
    for (const row of this.journal.trashEntries()) {
      if (await exists(join(this.dir, row.fileName))) out.push(row);
      else this.journal.removeTrash(row.id);
    }
    return out;
  }

  /**
   * Puts an entry back (by id, or the newest one deleted from `idOrPath`) into the sync folder. An
   * existing file there is never overwritten: the entry comes back under a restored-copy name.
   */
  async restore(root: string, idOrPath: string, now = Date.now()): Promise<RestoreResult> {
    const entry = this.journal.trashEntry(idOrPath) ?? this.journal.trashEntries().filter((r) => r.originalPath === idOrPath).pop();
    if (entry === undefined) throw new NetfsError('NOT_FOUND', `nothing in the trash is ${JSON.stringify(idOrPath)} (give an id or an original path)`);
    const source = join(this.dir, entry.fileName);
    if (!(await exists(source))) {
      this.journal.removeTrash(entry.id);
      throw new NetfsError('NOT_FOUND', `the trash file of ${entry.originalPath} is gone`);
    }
    await checkNoSymlinkParents(root, entry.originalPath);
    const parent = parentOf(entry.originalPath);
    const at = (name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);
    let restoredTo = entry.originalPath;
    if (existsNoFollow(localPath(root, restoredTo))) {
      restoredTo = at(restoredCopyName(nameOf(entry.originalPath), new Date(now), (name) => existsNoFollow(localPath(root, at(name)))));
    }
    const target = localPath(root, restoredTo);
    await mkdir(dirname(target), { recursive: true });
    try {
      await move(source, target, { noReplace: true });
    } catch (error) {
      throw fsError(`cannot restore ${entry.originalPath}`, error);
    }
    this.journal.removeTrash(entry.id);
    const renamed = restoredTo !== entry.originalPath;
    const message = renamed ? `${entry.originalPath} exists, so the trash entry was restored as ${restoredTo}` : `restored ${entry.originalPath}`;
    return { entry, restoredTo, renamed, message };
  }

  /** Removes for good what was deleted more than `keepMs` (30 days) before `now`; returns what went. */
  async purge(now = Date.now(), keepMs = TRASH_KEEP_MS): Promise<TrashRow[]> {
    const gone: TrashRow[] = [];
    for (const row of this.journal.trashEntries()) {
      if (row.deletedMs > now - keepMs) continue;
      await rm(join(this.dir, row.fileName), { recursive: true, force: true });
      this.journal.removeTrash(row.id);
      gone.push(row);
    }
    return gone;
  }
}

/**
 * rename(), or across filesystems a copy (timestamps kept) and a removal. With `noReplace` an
 * existing file at `to` makes it fail (a file is linked, which refuses to replace anything).
 */
async function move(from: string, to: string, opts: { noReplace?: boolean } = {}): Promise<void> {
  const info = await lstat(from);
  if (opts.noReplace === true && (await exists(to))) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST' });
  try {
    if (opts.noReplace === true && info.isFile()) {
      await link(from, to);
      await unlink(from);
    } else {
      await rename(from, to);
    }
    return;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EXDEV') throw error;
  }
  await cp(from, to, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false });
  await rm(from, { recursive: true, force: true });
}

function existsNoFollow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function fsError(message: string, error: unknown): NetfsError {
  if (error instanceof NetfsError) return error;
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  const mapped = code === 'ENOENT' ? 'NOT_FOUND' : code === 'EEXIST' ? 'CONFLICT' : code === 'EACCES' || code === 'EPERM' ? 'FORBIDDEN' : code === 'ENOSPC' || code === 'EDQUOT' ? 'INSUFFICIENT_STORAGE' : 'IO';
  return new NetfsError(mapped, `${message}: ${detail}`, { cause: error });
}
