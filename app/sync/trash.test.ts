import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { copyStamp } from './conflict-name.js';
import { Journal } from './journal.js';
import { Trash, TRASH_KEEP_MS } from './trash.js';

let tmp: TempDir;
let root: string;
let state: string;
let journal: Journal;
let trash: Trash;
beforeEach(async () => {
  tmp = await makeTempDir('netfs-trash-');
  root = join(tmp.path, 'root');
  state = join(tmp.path, 'state');
  await mkdir(join(root, 'd'), { recursive: true });
  await mkdir(state);
  journal = Journal.open(join(state, 'journal.sqlite'));
  trash = new Trash(state, journal);
});
afterEach(async () => {
  journal.close();
  await tmp.remove();
});

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

describe('trash (issue 5 item 6)', () => {
  it('moves a file into <state>/trash, records it, lists it, and restores it with its bytes and mtime', async () => {
    const file = join(root, 'd', 'a.txt');
    await writeFile(file, 'hello');
    await utimes(file, 1_600_000_000, 1_600_000_000);
    const row = await trash.put(root, '/d/a.txt', 1000);
    expect(await exists(file)).toBe(false);
    expect(row).toMatchObject({ originalPath: '/d/a.txt', kind: 'file', size: 5, deletedMs: 1000 });
    expect(row.fileName.endsWith('-a.txt')).toBe(true);
    expect(await readFile(join(state, 'trash', row.fileName), 'utf8')).toBe('hello');
    expect((await stat(join(state, 'trash'))).mode & 0o777).toBe(0o700);
    expect(await trash.list()).toEqual([row]);
    const back = await trash.restore(root, row.id);
    expect(back).toMatchObject({ restoredTo: '/d/a.txt', renamed: false });
    expect(await readFile(file, 'utf8')).toBe('hello');
    expect((await stat(file)).mtimeMs).toBe(1_600_000_000_000);
    expect(await trash.list()).toEqual([]);
  });

  it('restores by original path (the newest entry) and creates missing folders', async () => {
    await mkdir(join(root, 'x', 'y'), { recursive: true });
    await writeFile(join(root, 'x', 'y', 'f'), 'one');
    await trash.put(root, '/x/y/f', 1);
    await mkdir(join(root, 'x', 'y'), { recursive: true });
    await writeFile(join(root, 'x', 'y', 'f'), 'two');
    await trash.put(root, '/x/y/f', 2);
    await rm(join(root, 'x'), { recursive: true });
    const back = await trash.restore(root, '/x/y/f');
    expect(back.entry.deletedMs).toBe(2);
    expect(await readFile(join(root, 'x', 'y', 'f'), 'utf8')).toBe('two');
    expect((await trash.list()).map((r) => r.deletedMs)).toEqual([1]);
  });

  it('never restores over an existing file: it comes back under a restored-copy name, and says so', async () => {
    await writeFile(join(root, 'd', 'a.txt'), 'old');
    const row = await trash.put(root, '/d/a.txt');
    await writeFile(join(root, 'd', 'a.txt'), 'new');
    const when = Date.UTC(2025, 5, 1, 10, 0, 0);
    const back = await trash.restore(root, row.id, when);
    const name = `a (restored copy ${copyStamp(new Date(when))}).txt`;
    expect(back).toMatchObject({ renamed: true, restoredTo: `/d/${name}` });
    expect(back.message).toContain('exists');
    expect(await readFile(join(root, 'd', 'a.txt'), 'utf8')).toBe('new');
    expect(await readFile(join(root, 'd', name), 'utf8')).toBe('old');
  });

  it('takes a folder as a whole', async () => {
    await mkdir(join(root, 'd', 'sub'));
    await writeFile(join(root, 'd', 'sub', 'x'), 'x');
    const row = await trash.put(root, '/d/sub');
    expect(row.kind).toBe('folder');
    expect(await exists(join(root, 'd', 'sub'))).toBe(false);
    await trash.restore(root, row.id);
    expect(await readFile(join(root, 'd', 'sub', 'x'), 'utf8')).toBe('x');
  });

  it('purges entries older than 30 days, keeps the rest', async () => {
    await writeFile(join(root, 'old'), 'o');
    await writeFile(join(root, 'young'), 'y');
    const now = 100 * 24 * 3600 * 1000;
    const old = await trash.put(root, '/old', now - TRASH_KEEP_MS - 1);
    const young = await trash.put(root, '/young', now - TRASH_KEEP_MS + 60_000);
    expect((await trash.purge(now)).map((r) => r.id)).toEqual([old.id]);
    expect(await readdir(join(state, 'trash'))).toEqual([young.fileName]);
    expect((await trash.list()).map((r) => r.id)).toEqual([young.id]);
  });

  it('a failed move leaves no row; a missing file is NOT_FOUND; a symlinked parent is refused (M2)', async () => {
    await expect(trash.put(root, '/d/missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(journal.trashEntries()).toEqual([]);
    const outside = join(tmp.path, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'f'), 'precious');
    await symlink(outside, join(root, 'link'));
    await expect(trash.put(root, '/link/f')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await readFile(join(outside, 'f'), 'utf8')).toBe('precious');
    await expect(trash.restore(root, 'no-such-id')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a row whose trash file vanished (a crash between its two steps) is dropped from the list', async () => {
    journal.addTrash({ id: 'ghost', originalPath: '/g', fileName: 'ghost-g', kind: 'file', size: 1, deletedMs: 1 });
    expect(await trash.list()).toEqual([]);
    expect(journal.trashEntries()).toEqual([]);
  });
});

describe('trash across filesystems', () => {
  let shm: string;
  beforeEach(() => {
    shm = mkdtempSync('/dev/shm/netfs-trash-'); // tmpfs, while the sync root is on the disk
  });
  afterEach(() => {
    rmSync(shm, { recursive: true, force: true });
  });

  it('copies (timestamps kept) and removes the original when rename fails with EXDEV, both ways', async () => {
    expect(statSync(shm).dev).not.toBe(statSync(root).dev);
    const far = new Trash(shm, journal);
    const file = join(root, 'd', 'big.bin');
    await writeFile(file, Buffer.alloc(300_000, 7));
    await utimes(file, 1_500_000_000, 1_500_000_000);
    const row = await far.put(root, '/d/big.bin');
    expect(await exists(file)).toBe(false);
    const inTrash = join(shm, 'trash', row.fileName);
    expect((await stat(inTrash)).dev).toBe(statSync(shm).dev);
    expect((await stat(inTrash)).mtimeMs).toBe(1_500_000_000_000);
    await far.restore(root, row.id);
    expect(await readFile(file)).toEqual(Buffer.alloc(300_000, 7));
    expect((await stat(file)).mtimeMs).toBe(1_500_000_000_000);
    expect(await readdir(join(shm, 'trash'))).toEqual([]);
  });
});
