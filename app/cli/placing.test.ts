/**
 * A download killed between its rename into place and its journal row (C1's window), end to end
 * against a real Apache. The state a kill leaves there is rebuilt exactly: the file placed at
 * version 2, the journal's row still at version 1, and the placing row (markPlacing) of version 2.
 *
 *   server edits again (v3) -> the next pass finds the placed file unchanged (inode, size, mtime):
 *                              synced at v2, so v3 is a plain download: no conflict copy
 *   the user edits the placed file before that pass -> not the placed file any more: a real
 *                              conflict, the user's edit kept as a conflict copy
 *   without the placing row (what a kill left before it existed) -> a needless conflict copy
 */
import { readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../sync/journal.js';
import { JOURNAL_FILE } from '../sync/state-folder.js';
import { startApache, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, type ScenarioAccount } from './scenario-kit.js';

let apache: ApacheServer;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  temp = await makeTempDir('netfs-placing-');
});
afterAll(async () => {
  await apache.stop();
  await temp.remove();
});

/** Synced at v1, then v2 downloaded, then the journal put back to what a kill after the rename leaves. */
async function killedAfterRename(withMarker: boolean): Promise<ScenarioAccount> {
  const a = await account({ server: apache, work: temp.path, files: { 'doc.txt': 'version 1\n' } });
  expect((await a.run('sync', '--once')).code).toBe(0);
  const journal = () => Journal.open(join(a.state, JOURNAL_FILE));
  let j = journal();
  const v1 = j.entry('/doc.txt')!;
  j.close();
  await a.serverWrite('doc.txt', 'version 2, from the server\n', 20_000);
  expect((await a.run('sync', '--once')).code).toBe(0);
  expect(await readFile(join(a.local, 'doc.txt'), 'utf8')).toBe('version 2, from the server\n');
  j = journal();
  const v2 = j.entry('/doc.txt')!;
  expect(v2.etag).not.toBe(v1.etag);
  j.recordSynced([v1]);
  if (withMarker) {
    const { placement: _placement, ...row } = v2;
    j.markPlacing(row);
  }
  j.close();
  await a.serverWrite('doc.txt', 'version 3, from the server again\n', 10_000);
  return a;
}

async function conflictCopies(a: ScenarioAccount): Promise<string[]> {
  return (await readdir(a.local)).filter((n) => n.includes('conflicted copy'));
}

describe('a download killed between its rename and its journal row (C1)', () => {
  it('C1: the placed file is recognised (same inode, size, mtime): the server\'s next edit is a plain download, no conflict copy', async () => {
    const a = await killedAfterRename(true);
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(a.local, 'doc.txt'), 'utf8')).toBe('version 3, from the server again\n');
    expect(await conflictCopies(a)).toEqual([]);
    const j = Journal.open(join(a.state, JOURNAL_FILE));
    try {
      expect(j.placings()).toEqual([]);
    } finally {
      j.close();
    }
  });

  it('C1: a user edit after the placement is not mistaken for it: a real conflict, the edit kept', async () => {
    const a = await killedAfterRename(true);
    await writeFile(join(a.local, 'doc.txt'), 'my edit of version 2\n');
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(a.local, 'doc.txt'), 'utf8')).toBe('version 3, from the server again\n');
    const [copy] = await conflictCopies(a);
    expect(copy).toBeDefined();
    expect(await readFile(join(a.local, copy!), 'utf8')).toBe('my edit of version 2\n');
  });

  it('C1: an edit that keeps size and mtime but not the inode (an editor\'s atomic save) is a conflict too', async () => {
    const a = await killedAfterRename(true);
    const file = join(a.local, 'doc.txt');
    const { mtime, size } = await stat(file);
    const tmp = join(a.local, 'doc.txt.new');
    await writeFile(tmp, 'X'.repeat(size - 1) + '\n');
    await utimes(tmp, mtime, mtime);
    await rename(tmp, file);
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(await conflictCopies(a)).toHaveLength(1);
  });

  it('without the placing row the same state gives a needless conflict copy (why the row exists)', async () => {
    const a = await killedAfterRename(false);
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(await conflictCopies(a)).toHaveLength(1);
  });
});
