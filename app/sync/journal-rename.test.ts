/**
 * Journal.renameTree (L4): a folder move renames the rows of the whole subtree in one
 * transaction, values unchanged; neighbours with a common prefix are untouched; names wider than
 * one UTF-16 unit are cut right (the prefix is cut in SQL).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { Journal } from './journal.js';
import type { BaseEntry } from './model.js';

let tmp: TempDir;
let journal: Journal;
beforeEach(async () => {
  tmp = await makeTempDir('netfs-journal-rename-');
  journal = Journal.open(join(tmp.path, 'journal.sqlite'));
});
afterEach(async () => {
  journal.close();
  await tmp.remove();
});

const row = (path: string, ino: number): BaseEntry => ({ path, kind: 'file', etag: `"e${ino}"`, remoteSize: 3, remoteMtimeMs: 1.5, localSize: 3, localMtimeMs: 2.25, localIno: ino });
const dir = (path: string, ino: number): BaseEntry => ({ ...row(path, ino), kind: 'folder', remoteSize: null, localSize: 0 });

describe('journal.renameTree (L4)', () => {
  it('L4: moves the folder row and every row below it, values kept; a sibling sharing the prefix stays', () => {
    journal.recordSynced([dir('/d', 1), row('/d/a', 2), dir('/d/s', 3), row('/d/s/b', 4), row('/d2', 5), row('/d-x/c', 6), row('/dd', 7)]);
    journal.renameTree('/d', '/new/place');
    const base = journal.base();
    expect([...base.keys()].sort()).toEqual(['/d-x/c', '/d2', '/dd', '/new/place', '/new/place/a', '/new/place/s', '/new/place/s/b']);
    expect(base.get('/new/place/s/b')).toEqual({ ...row('/new/place/s/b', 4), placement: 'synced' });
    expect(base.get('/new/place')?.localIno).toBe(1);
  });

  it('L4: stale rows at the destination are replaced; astral-plane names are cut by characters, not UTF-16 units', () => {
    journal.recordSynced([dir('/😀 x', 1), row('/😀 x/🎉.txt', 2), row('/ü/stale', 9)]);
    journal.renameTree('/😀 x', '/ü');
    expect([...journal.base().keys()].sort()).toEqual(['/ü', '/ü/🎉.txt']);
  });

  it('L4: pins, pending changes, failures and conflict records move with the folder; others stay', () => {
    journal.recordSynced([dir('/d', 1), row('/d/a', 2), row('/other', 3)]);
    journal.unpin('/d/s');
    journal.pin('/d/a');
    journal.pin('/other');
    journal.markPending(['/d/a', '/other']);
    journal.recordFailure('/d/a', { code: 'LOCKED', message: 'locked' }, 1000);
    journal.addConflict({ path: '/d/a', copyPath: '/d/a (conflicted copy 2026-01-01 000000)', createdMs: 1, ourSize: 3, ourMtimeMs: 2, theirEtag: '"t"' });
    journal.renameTree('/d', '/e');
    expect([...journal.pins()]).toEqual([['/e/a', 'synced'], ['/e/s', 'online-only'], ['/other', 'synced']]);
    expect([...journal.pending().keys()]).toEqual(['/e/a', '/other']);
    expect(journal.failures().map((f) => [f.path, f.code, f.attempts])).toEqual([['/e/a', 'LOCKED', 1]]);
    expect(journal.conflicts().map((c) => [c.path, c.copyPath])).toEqual([['/e/a', '/e/a (conflicted copy 2026-01-01 000000)']]);
  });

  it('L4: refuses the root and a move into its own subtree', () => {
    expect(() => journal.renameTree('/', '/x')).toThrow(/cannot rename/);
    expect(() => journal.renameTree('/a', '/a/b')).toThrow(/own subtree/);
  });
});
