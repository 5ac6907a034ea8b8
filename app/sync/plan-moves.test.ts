/**
 * L4: folder renames in the planner (plan-folder-moves.ts): a local folder renamed as a whole is
 * one move-remote of the folder; what else changed below it is planned after, against the moved
 * base; a server change below the old folder means no folder move (per-file rules instead). The
 * server's folder renames (same ETags below a new folder) become one move-local.
 */
import { describe, it, expect } from 'vitest';
import type { RemoteEntry } from '../api/remote.js';
import type { Action, BaseEntry, Blind, LocalEntry } from './model.js';
import { actionSteps, plan } from './plan.js';

const lf = (path: string, ino: number, size = 10, mtimeMs = 1000): LocalEntry => ({ path, kind: 'file', size, mtimeMs, ino });
const ld = (path: string, ino: number): LocalEntry => ({ path, kind: 'folder', size: 0, mtimeMs: 1, ino });
const rf = (path: string, etag = '"e1"', size = 10): RemoteEntry => ({
  path,
  name: path.slice(path.lastIndexOf('/') + 1),
  kind: 'file',
  size,
  etag,
  etagStrength: 'strong',
  mtimeMs: 2000,
  contentType: null,
});
const rd = (path: string): RemoteEntry => ({ ...rf(path, '"d"'), size: null, kind: 'folder' });
const bf = (path: string, ino: number, etag = '"e1"'): BaseEntry => ({ path, kind: 'file', etag, remoteSize: 10, remoteMtimeMs: 2000, localSize: 10, localMtimeMs: 1000, localIno: ino });
const bd = (path: string, ino: number): BaseEntry => ({ path, kind: 'folder', etag: '"d"', remoteSize: null, remoteMtimeMs: 2000, localSize: 0, localMtimeMs: 1, localIno: ino });
const noBlind: Blind = { remoteFolders: [], remotePaths: [], localPaths: [] };
const tree = <T extends { path: string }>(entries: T[]): Map<string, T> => new Map(entries.map((e) => [e.path, e]));

function describeAction(a: Action): string {
  if (a.type === 'move-remote') return `move-remote ${a.from} -> ${a.path}${a.local.kind === 'folder' ? ' (folder)' : ''}`;
  if (a.type === 'move-local') return `move-local ${a.from} -> ${a.path}`;
  if (a.type === 'upload') return `upload ${a.path}${a.base === null ? ' (new)' : ` If-Match ${a.base.etag ?? '-'}`}`;
  return `${a.type} ${a.path}`;
}

interface World {
  base: BaseEntry[];
  local: LocalEntry[];
  remote: RemoteEntry[];
}
function planOf(w: World): Action[] {
  // A bystander on both sides keeps the root non-empty and the mass-delete hold out of the way.
  const keep = { base: bf('/keep', 999), local: lf('/keep', 999), remote: rf('/keep') };
  const p = plan(tree([keep.base, ...w.base]), tree([keep.local, ...w.local]), tree([keep.remote, ...w.remote]), { placementOf: () => 'synced', blind: noBlind });
  expect(p.hold).toBeNull();
  return p.actions;
}
const steps = (actions: Action[]): string[][] => actionSteps(actions).map((s) => s.map(describeAction));

/** /old holding three files and a sub-folder, synced; folder inode 50. */
function synced(folderIno = 50): World {
  return {
    base: [bd('/old', folderIno), bf('/old/a', 1, '"ea"'), bf('/old/b', 2, '"eb"'), bd('/old/s', 51), bf('/old/s/c', 3, '"ec"')],
    local: [ld('/old', 50), lf('/old/a', 1), lf('/old/b', 2), ld('/old/s', 51), lf('/old/s/c', 3)],
    remote: [rd('/old'), rf('/old/a', '"ea"'), rf('/old/b', '"eb"'), rd('/old/s'), rf('/old/s/c', '"ec"')],
  };
}
/** The same world with the local folder renamed: every inode, size and mtime kept. */
function renamedLocally(w: World, from: string, to: string): World {
  const moved = (p: string): string => (p === from || p.startsWith(`${from}/`) ? to + p.slice(from.length) : p);
  return { ...w, local: w.local.map((l) => ({ ...l, path: moved(l.path) })) };
}

describe('L4: a folder rename becomes one MOVE (planner)', () => {
  it('L4: folder renamed locally -> one move-remote of the folder, nothing per file', () => {
    const a = planOf(renamedLocally(synced(), '/old', '/new'));
    expect(a.map(describeAction)).toEqual(['move-remote /old -> /new (folder)']);
  });

  it('L4: without a recorded folder inode the identity comes from the children (all moved together)', () => {
    const a = planOf(renamedLocally(synced(0), '/old', '/new'));
    expect(a.map(describeAction)).toEqual(['move-remote /old -> /new (folder)']);
  });

  it('L4: without a folder inode, one child missing -> no move of that folder (per-file moves and a delete; its sub-folder, inode known, still moves whole)', () => {
    const w = renamedLocally(synced(0), '/old', '/new');
    w.local = w.local.filter((l) => l.path !== '/new/b');
    const a = planOf(w).map(describeAction);
    expect(a).not.toContain('move-remote /old -> /new (folder)');
    expect(a).toContain('move-remote /old/a -> /new/a');
    expect(a).toContain('delete-remote /old/b');
    expect(a).toContain('move-remote /old/s -> /new/s (folder)');
  });

  it('L4: folder renamed and one child edited -> the folder move, then the upload at the new path (If-Match the base)', () => {
    const w = renamedLocally(synced(), '/old', '/new');
    w.local = w.local.map((l) => (l.path === '/new/a' ? { ...l, size: 11, mtimeMs: 5000 } : l));
    const a = planOf(w);
    expect(steps(a)).toEqual([['move-remote /old -> /new (folder)'], ['upload /new/a If-Match "ea"']]);
  });

  it('L4: folder renamed, a child added, one removed and a sub-folder made -> move first, then mkdir, upload, delete inside the new path', () => {
    const w = renamedLocally(synced(), '/old', '/new');
    w.local = w.local.filter((l) => l.path !== '/new/b');
    w.local.push(lf('/new/n', 70), ld('/new/t', 71), lf('/new/t/x', 72));
    expect(steps(planOf(w))).toEqual([
      ['move-remote /old -> /new (folder)'],
      ['mkdir-remote /new/t'],
      ['upload /new/n (new)', 'upload /new/t/x (new)'],
      ['delete-remote /new/b'],
    ]);
  });

  it('L4: folder renamed while the server changed a child -> no folder move (safe fallback per file)', () => {
    const w = renamedLocally(synced(), '/old', '/new');
    w.remote = w.remote.map((r) => (r.path === '/old/b' ? rf('/old/b', '"eb2"', 12) : r));
    const a = planOf(w).map(describeAction);
    expect(a).not.toContain('move-remote /old -> /new (folder)');
    // The unchanged ones move one by one; the server's edit is kept (downloaded, edit beats delete).
    expect(a).toContain('move-remote /old/a -> /new/a');
    expect(a).toContain('download /old/b');
    expect(a).not.toContain('delete-remote /old/b');
  });

  it('L4: folder renamed while the server added a file in it -> no folder move', () => {
    const w = renamedLocally(synced(), '/old', '/new');
    w.remote.push(rf('/old/added', '"e9"'));
    const a = planOf(w).map(describeAction);
    expect(a).not.toContain('move-remote /old -> /new (folder)');
    expect(a).toContain('download /old/added');
  });

  it('L4: the destination already exists on the server -> no folder move', () => {
    const w = renamedLocally(synced(), '/old', '/new');
    w.remote.push(rd('/new'));
    const a = planOf(w).map(describeAction);
    expect(a).not.toContain('move-remote /old -> /new (folder)');
    expect(a).toContain('move-remote /old/a -> /new/a');
  });

  it('L4: nested rename (outer and inner folder renamed) -> two folder moves, outer first, nothing per file', () => {
    const w = renamedLocally(renamedLocally(synced(), '/old', '/new'), '/new/s', '/new/s2');
    expect(steps(planOf(w))).toEqual([['move-remote /old -> /new (folder)'], ['move-remote /new/s -> /new/s2 (folder)']]);
  });

  it('L4: a rename deep inside an unchanged folder -> one move of the inner folder', () => {
    const w = renamedLocally(synced(), '/old/s', '/old/s2');
    expect(planOf(w).map(describeAction)).toEqual(['move-remote /old/s -> /old/s2 (folder)']);
  });

  it('L4: a folder moved into a new folder -> mkdir of the parent, then the move', () => {
    const w = renamedLocally(synced(), '/old', '/p/new');
    w.local.push(ld('/p', 80));
    expect(steps(planOf(w))).toEqual([['mkdir-remote /p'], ['move-remote /old -> /p/new (folder)']]);
  });

  it('L4: a folder moved out of a folder that is deleted -> the move, then the delete of the emptied folder', () => {
    const w: World = {
      base: [bd('/top', 40), ...synced().base.map((b) => ({ ...b, path: `/top${b.path}` }))],
      local: [ld('/new', 50), lf('/new/a', 1), lf('/new/b', 2), ld('/new/s', 51), lf('/new/s/c', 3)],
      remote: [rd('/top'), ...synced().remote.map((r) => ({ ...r, path: `/top${r.path}` }))],
    };
    expect(steps(planOf(w))).toEqual([['move-remote /top/old -> /new (folder)'], ['delete-remote /top']]);
  });
});

/** The same world with the server's folder renamed (a WebDAV MOVE: ETags, sizes, dates kept). */
function renamedOnServer(w: World, from: string, to: string): World {
  const moved = (p: string): string => (p === from || p.startsWith(`${from}/`) ? to + p.slice(from.length) : p);
  return { ...w, remote: w.remote.map((r) => ({ ...r, path: moved(r.path), name: moved(r.path).slice(moved(r.path).lastIndexOf('/') + 1) })) };
}

describe('L4: a folder renamed on the server becomes one local rename (planner)', () => {
  it('L4: server folder renamed, ETags kept, local copy unchanged -> one move-local, nothing per file', () => {
    expect(planOf(renamedOnServer(synced(), '/old', '/new')).map(describeAction)).toEqual(['move-local /old -> /new']);
  });

  it('L4: server folder renamed into a folder new locally -> mkdir-local of the parent, then the move', () => {
    const w = renamedOnServer(synced(), '/old', '/p/new');
    w.remote.push(rd('/p'));
    expect(steps(planOf(w))).toEqual([['mkdir-local /p'], ['move-local /old -> /p/new']]);
  });

  it('L4: server folder renamed and a file added in it there -> the move, then the download at the new path', () => {
    const w = renamedOnServer(synced(), '/old', '/new');
    w.remote.push(rf('/new/added', '"e7"'));
    expect(steps(planOf(w))).toEqual([['move-local /old -> /new'], ['download /new/added']]);
  });

  it('L4: server folder renamed while a file in it was edited locally -> no folder move (per file, the edit kept)', () => {
    const w = renamedOnServer(synced(), '/old', '/new');
    w.local = w.local.map((l) => (l.path === '/old/a' ? { ...l, size: 11, mtimeMs: 5000 } : l));
    const a = planOf(w).map(describeAction);
    expect(a.some((x) => x.startsWith('move-local /old '))).toBe(false);
    expect(a).toContain('upload /old/a (new)');
  });

  it('L4: server folder renamed and a file in it changed there (other ETag) -> no move of that folder', () => {
    const w = renamedOnServer(synced(), '/old', '/new');
    w.remote = w.remote.map((r) => (r.path === '/new/b' ? rf('/new/b', '"e5"', 12) : r));
    expect(planOf(w).map(describeAction).some((x) => x.startsWith('move-local /old '))).toBe(false);
  });

  it('L4: weak ETags say nothing about identity -> no move-local', () => {
    const w = renamedOnServer(synced(), '/old', '/new');
    const weak = (e: BaseEntry): BaseEntry => (e.kind === 'file' ? { ...e, etag: `W/${e.etag ?? ''}` } : e);
    w.base = w.base.map(weak);
    w.remote = w.remote.map((r) => (r.kind === 'file' ? { ...r, etag: `W/${r.etag ?? ''}`, etagStrength: 'weak' as const } : r));
    expect(planOf(w).some((a) => a.type === 'move-local')).toBe(false);
  });
});
