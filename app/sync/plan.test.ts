import { describe, it, expect } from 'vitest';
import type { RemoteEntry } from '../api/remote.js';
import type { Placement } from '../api/states.js';
import type { Action, BaseEntry, Blind, LocalEntry } from './model.js';
import { actionSteps, localUnchanged, MASS_DELETE_MINIMUM, plan, remoteUnchanged } from './plan.js';

// ---- small builders: one synced file is local (size, mtime, ino) + server (etag, size, mtime) ----

const lf = (path: string, size = 10, mtimeMs = 1000, ino = 1): LocalEntry => ({ path, kind: 'file', size, mtimeMs, ino });
const ld = (path: string, ino = 0): LocalEntry => ({ path, kind: 'folder', size: 0, mtimeMs: 1, ino });
const rf = (path: string, etag: string | null = '"e1"', size: number | null = 10, mtimeMs: number | null = 2000): RemoteEntry => ({
  path,
  name: path.slice(path.lastIndexOf('/') + 1),
  kind: 'file',
  size,
  etag,
  etagStrength: etag === null ? 'none' : etag.startsWith('W/') ? 'weak' : 'strong',
  mtimeMs,
  contentType: null,
});
const rd = (path: string): RemoteEntry => ({ ...rf(path, '"d"', null, 1), kind: 'folder' });
const bf = (path: string, over: Partial<BaseEntry> = {}): BaseEntry => ({ path, kind: 'file', etag: '"e1"', remoteSize: 10, remoteMtimeMs: 2000, localSize: 10, localMtimeMs: 1000, localIno: 1, ...over });
const bd = (path: string, over: Partial<BaseEntry> = {}): BaseEntry => ({ path, kind: 'folder', etag: '"d"', remoteSize: null, remoteMtimeMs: 1, localSize: 0, localMtimeMs: 1, localIno: 0, ...over });

const noBlind: Blind = { remoteFolders: [], remotePaths: [], localPaths: [] };
const tree = <T extends { path: string }>(...entries: T[]): Map<string, T> => new Map(entries.map((e) => [e.path, e]));

interface Case {
  base?: BaseEntry[];
  local?: LocalEntry[];
  remote?: RemoteEntry[];
  placement?: (path: string) => Placement;
  blind?: Partial<Blind>;
  localRootMissing?: boolean;
}
function run(c: Case): ReturnType<typeof plan> {
  // Keep the sync root non-empty unless the case is about an empty root: a bystander file on both sides.
  return plan(tree(...(c.base ?? [])), tree(...(c.local ?? [])), tree(...(c.remote ?? [])), {
    placementOf: c.placement ?? (() => 'synced'),
    blind: { ...noBlind, ...c.blind },
    localRootMissing: c.localRootMissing ?? false,
  });
}
const bystander = { base: [bf('/keep', { localIno: 99 })], local: [lf('/keep', 10, 1000, 99)], remote: [rf('/keep')] };
function actions(c: Case): string[] {
  const p = run({ base: [...bystander.base, ...(c.base ?? [])], local: [...bystander.local, ...(c.local ?? [])], remote: [...bystander.remote, ...(c.remote ?? [])], ...pick(c) });
  return p.actions.map(describeAction);
}
function pick(c: Case): Case {
  const out: Case = {};
  if (c.placement) out.placement = c.placement;
  if (c.blind) out.blind = c.blind;
  return out;
}
function describeAction(a: Action): string {
  switch (a.type) {
    case 'upload':
      return `upload ${a.path}${a.base === null ? ' (new)' : ''}`;
    case 'download':
      return `download ${a.path}${a.local === null ? ' (new)' : ''}`;
    case 'move-remote':
      return `move-remote ${a.from} -> ${a.path}`;
    default:
      return `${a.type} ${a.path}`;
  }
}

describe('planner rules: one file, three states (issue 5 item 3)', () => {
  it('unchanged on both sides: nothing to do', () => {
    expect(actions({ base: [bf('/f')], local: [lf('/f')], remote: [rf('/f')] })).toEqual([]);
  });
  it('a remote-only add is downloaded; a local-only add is uploaded as new', () => {
    expect(actions({ remote: [rf('/new')] })).toEqual(['download /new (new)']);
    expect(actions({ local: [lf('/new', 5, 5, 5)] })).toEqual(['upload /new (new)']);
  });
  it('a local-only edit is uploaded with its base; a remote-only edit is downloaded over the unchanged copy', () => {
    expect(actions({ base: [bf('/f')], local: [lf('/f', 11, 1001)], remote: [rf('/f')] })).toEqual(['upload /f']);
    const up = run({ base: [bf('/f')], local: [lf('/f', 11, 1001)], remote: [rf('/f')] }).actions[0];
    expect(up).toMatchObject({ type: 'upload', base: { etag: '"e1"' }, remote: { etag: '"e1"' } });
    expect(actions({ base: [bf('/f')], local: [lf('/f')], remote: [rf('/f', '"e2"', 12, 3000)] })).toEqual(['download /f']);
  });
  it('an edit beats a delete, on either side (a local edit goes up as new, with If-None-Match)', () => {
    expect(actions({ base: [bf('/f')], local: [lf('/f', 11, 1001)] })).toEqual(['upload /f (new)']);
    expect(actions({ base: [bf('/f')], remote: [rf('/f', '"e2"')] })).toEqual(['download /f (new)']);
  });
  it('a delete goes through when the other side is unchanged since the base', () => {
    expect(actions({ base: [bf('/f')], remote: [rf('/f')] })).toEqual(['delete-remote /f']);
    expect(actions({ base: [bf('/f')], local: [lf('/f')] })).toEqual(['delete-local /f']);
    expect(actions({ base: [bf('/f')] })).toEqual(['forget /f']);
  });
  it('both changed: different sizes are a conflict; equal sizes are compared by content (C3: a lost upload answer)', () => {
    expect(actions({ base: [bf('/f')], local: [lf('/f', 11, 1001)], remote: [rf('/f', '"e2"', 12)] })).toEqual(['conflict /f']);
    expect(actions({ base: [bf('/f')], local: [lf('/f', 11, 1001)], remote: [rf('/f', '"e2"', 11)] })).toEqual(['compare /f']);
  });
  it('an edit that keeps the mtime but changes the size is seen; an inode change alone is not an edit', () => {
    expect(actions({ base: [bf('/f')], local: [lf('/f', 12, 1000)], remote: [rf('/f')] })).toEqual(['upload /f']);
    expect(actions({ base: [bf('/f')], local: [lf('/f', 10, 1000, 777)], remote: [rf('/f')] })).toEqual([]);
  });
});

describe('server metadata that proves nothing (B3, B4, B5, F13)', () => {
  it('B4: no ETag and no date: never assumed unchanged, so a local delete does not delete it', () => {
    const base = bf('/f', { etag: null, remoteMtimeMs: null });
    expect(actions({ base: [base], remote: [rf('/f', null, 10, null)] })).toEqual(['download /f (new)']);
    expect(remoteUnchanged(rf('/f', null, 10, null), base)).toBe(false);
  });
  it('B4: no ETag, size and date equal: unchanged (the fallback), so a local delete goes through', () => {
    expect(actions({ base: [bf('/f', { etag: null })], remote: [rf('/f', null, 10, 2000)] })).toEqual(['delete-remote /f']);
  });
  it('B4: no size: never unchanged', () => {
    expect(remoteUnchanged(rf('/f', '"e1"', null), bf('/f'))).toBe(false);
    expect(actions({ base: [bf('/f')], remote: [rf('/f', '"e1"', null)] })).toEqual(['download /f (new)']);
  });
  it('B3: a date that is missing or garbled now does not make an unchanged strong ETag changed', () => {
    expect(remoteUnchanged(rf('/f', '"e1"', 10, null), bf('/f'))).toBe(true);
  });
  it('F13: equal weak ETags count only with equal size and date; a different weak tag is a change', () => {
    const base = bf('/f', { etag: 'W/"e1"' });
    expect(remoteUnchanged(rf('/f', 'W/"e1"', 10, 2000), base)).toBe(true);
    expect(remoteUnchanged(rf('/f', 'W/"e1"', 10, 2500), base)).toBe(false);
    expect(remoteUnchanged(rf('/f', 'W/"e1"', 10, null), base)).toBe(false);
    expect(remoteUnchanged(rf('/f', 'W/"e2"', 10, 2000), base)).toBe(false);
    expect(actions({ base: [base], remote: [rf('/f', 'W/"e1"', 10, 2500)] })).toEqual(['download /f (new)']);
  });
  it('a weak tag turning strong (Apache, a second after a change) is the same version only when the date agrees too (F13)', () => {
    expect(remoteUnchanged(rf('/f', '"e1"'), bf('/f', { etag: 'W/"e1"' }))).toBe(true);
    expect(remoteUnchanged(rf('/f', 'W/"e1"'), bf('/f', { etag: '"e1"' }))).toBe(true);
    expect(remoteUnchanged(rf('/f', '"e1"', 10, 3000), bf('/f', { etag: 'W/"e1"' }))).toBe(false);
    expect(remoteUnchanged(rf('/f', '"e1"', 10, null), bf('/f', { etag: 'W/"e1"' }))).toBe(false);
    expect(remoteUnchanged(rf('/f', '"e2"'), bf('/f', { etag: 'W/"e1"' }))).toBe(false);
  });
  it('local changes are judged by size and mtime against the base only', () => {
    expect(localUnchanged(lf('/f', 10, 1000, 5), bf('/f'))).toBe(true);
    expect(localUnchanged(lf('/f', 10, 1000.5), bf('/f'))).toBe(false);
  });
});

describe('F20: clocks', () => {
  it('mtimes far in the future, equal to the base, are no change; nothing compares with now', () => {
    const future = 4_102_444_800_000; // 2100-01-01
    const base = bf('/f', { localMtimeMs: future, remoteMtimeMs: future });
    expect(actions({ base: [base], local: [lf('/f', 10, future)], remote: [rf('/f', '"e1"', 10, future)] })).toEqual([]);
    // A local edit stamped in the past (clock moved back) is still an edit, not a conflict.
    expect(actions({ base: [base], local: [lf('/f', 10, 1)], remote: [rf('/f', '"e1"', 10, future)] })).toEqual(['upload /f']);
  });
});

describe('blind paths get no action (F4, M1)', () => {
  it('F4: a folder whose listing failed is left alone on both sides, and its parent is not deleted', () => {
    const c: Case = {
      base: [bd('/p'), bd('/p/q'), bf('/p/q/a'), bf('/p/b', { localIno: 2 })],
      local: [],
      remote: [rd('/p'), rd('/p/q'), rf('/p/b')],
      blind: { remoteFolders: ['/p/q'] },
    };
    // Locally everything under /p is gone; /p/b may be deleted, /p/q and /p may not.
    expect(actions(c)).toEqual(['delete-remote /p/b']);
  });
  it('F4: a folder holding a blind path is not moved aside as a conflict copy, and what is below it waits', () => {
    const c: Case = { base: [bd('/a'), bf('/a/x'), bf('/a/y', { localIno: 2 })], local: [ld('/a'), lf('/a/x'), lf('/a/y', 11, 1001, 2)], remote: [rf('/a', '"f"')], blind: { localPaths: ['/a/x'] } };
    expect(actions(c)).toEqual([]);
  });
  it('M1, B4: a dropped server entry and an unreadable local path are never touched', () => {
    expect(actions({ base: [bf('/odd')], local: [lf('/odd')], blind: { remotePaths: ['/odd'] } })).toEqual([]);
    expect(actions({ base: [bf('/gone')], remote: [rf('/gone')], blind: { localPaths: ['/gone'] } })).toEqual([]);
  });
});

describe('folders', () => {
  it('mkdirs go parent-first, deletes child-first', () => {
    const a = actions({ remote: [rd('/a'), rd('/a/b'), rf('/a/b/f')], local: [ld('/z'), ld('/z/y')] });
    expect(a).toEqual(['mkdir-local /a', 'mkdir-remote /z', 'mkdir-local /a/b', 'mkdir-remote /z/y', 'download /a/b/f (new)']);
    const d = actions({ base: [bd('/a'), bd('/a/b'), bf('/a/b/f')], local: [ld('/a'), ld('/a/b'), lf('/a/b/f')] });
    expect(d).toEqual(['delete-local /a/b/f', 'delete-local /a/b', 'delete-local /a']);
  });
  it('a folder is deleted only when everything under it is deleted too; else it is created again', () => {
    // Deleted locally, but a file in it was edited on the server: the edit wins, the folder comes back.
    const c: Case = { base: [bd('/a'), bf('/a/f'), bf('/a/g', { localIno: 2 })], remote: [rd('/a'), rf('/a/f', '"e2"'), rf('/a/g')] };
    expect(actions(c)).toEqual(['mkdir-local /a', 'download /a/f (new)', 'delete-remote /a/g']);
    // A file added on the server to a folder deleted locally survives too.
    expect(actions({ base: [bd('/a')], remote: [rd('/a'), rf('/a/new')] })).toEqual(['mkdir-local /a', 'download /a/new (new)']);
  });
  it('a folder on both sides with no base (first sync) is recorded', () => {
    expect(actions({ local: [ld('/a')], remote: [rd('/a')] })).toEqual(['record /a']);
  });
  it('a local file where the server has a folder (no base) is a conflict, with nothing planned inside it yet', () => {
    expect(actions({ local: [lf('/a', 5, 5, 5)], remote: [rd('/a'), rf('/a/x')] })).toEqual(['conflict /a']);
    expect(actions({ local: [ld('/a'), lf('/a/x', 5, 5, 5)], remote: [rf('/a')] })).toEqual(['conflict /a']);
  });
  it('a file replaced by a folder locally: the unchanged server file is deleted first, the folder goes up next pass', () => {
    expect(actions({ base: [bf('/a')], local: [ld('/a'), lf('/a/x', 5, 5, 5)], remote: [rf('/a')] })).toEqual(['delete-remote /a']);
  });
});

describe('moves', () => {
  const base = [bd('/d'), bf('/d/f', { localIno: 42 })];
  it('a local rename of a file the server has unchanged is a MOVE', () => {
    const a = run({ base, local: [ld('/d'), ld('/e'), lf('/e/g', 10, 1000, 42)], remote: [rd('/d'), rf('/d/f')] }).actions;
    expect(a.map(describeAction)).toEqual(['mkdir-remote /e', 'move-remote /d/f -> /e/g']);
  });
  it('no MOVE when the server copy changed, the size differs, or two new files share the inode', () => {
    expect(actions({ base, local: [ld('/d'), lf('/g', 10, 1000, 42)], remote: [rd('/d'), rf('/d/f', '"e2"')] })).toEqual(['download /d/f (new)', 'upload /g (new)']);
    expect(actions({ base, local: [ld('/d'), lf('/g', 11, 1000, 42)], remote: [rd('/d'), rf('/d/f')] })).toEqual(['upload /g (new)', 'delete-remote /d/f']);
    expect(actions({ base, local: [ld('/d'), lf('/g', 10, 1000, 42), lf('/h', 10, 1000, 42)], remote: [rd('/d'), rf('/d/f')] })).toEqual(['upload /g (new)', 'upload /h (new)', 'delete-remote /d/f']);
  });
  it('a file moved out of a folder deleted in the same go: MOVE first, then the folder DELETE', () => {
    expect(actions({ base, local: [lf('/g', 10, 1000, 42)], remote: [rd('/d'), rf('/d/f')] })).toEqual(['move-remote /d/f -> /g', 'delete-remote /d']);
  });
});

describe('online-only placement (DESIGN §1)', () => {
  const online = (path: string): Placement => (path.startsWith('/cloud') ? 'online-only' : 'synced');
  it('a server file under an online-only folder is recorded, not downloaded', () => {
    expect(actions({ remote: [rd('/cloud'), rf('/cloud/a')], placement: online })).toEqual(['record-online-only /cloud', 'record-online-only /cloud/a']);
  });
  it('a missing local file under an online-only path is not a delete', () => {
    expect(actions({ base: [bd('/cloud'), bf('/cloud/a')], local: [ld('/cloud')], remote: [rd('/cloud'), rf('/cloud/a')], placement: online })).toEqual(['record-online-only /cloud/a']);
  });
  it('an online-only row stays as it is while the server copy is unchanged, follows a server edit, and goes with a server delete', () => {
    const row = bf('/cloud/a', { placement: 'online-only', localSize: 0, localMtimeMs: 0, localIno: 0 });
    const folder = bd('/cloud', { placement: 'online-only' });
    expect(actions({ base: [folder, row], remote: [rd('/cloud'), rf('/cloud/a')], placement: online })).toEqual([]);
    expect(actions({ base: [folder, row], remote: [rd('/cloud'), rf('/cloud/a', '"e2"')], placement: online })).toEqual(['record-online-only /cloud/a']);
    expect(actions({ base: [folder, row], remote: [rd('/cloud')], placement: online })).toEqual(['forget /cloud/a']);
  });
  it('pinning an online-only file downloads it, creating its folder locally', () => {
    const row = bf('/cloud/a', { placement: 'online-only', localSize: 0, localMtimeMs: 0, localIno: 0 });
    const folder = bd('/cloud', { placement: 'online-only' });
    const pinned = (path: string): Placement => (path === '/cloud/a' ? 'synced' : online(path));
    expect(actions({ base: [folder, row], remote: [rd('/cloud'), rf('/cloud/a')], placement: pinned })).toEqual(['mkdir-local /cloud', 'download /cloud/a (new)']);
  });
  it('a local file appearing where an online-only row is: compared, never uploaded over the server copy', () => {
    const row = bf('/cloud/a', { placement: 'online-only', localSize: 0, localMtimeMs: 0, localIno: 0 });
    expect(actions({ base: [bd('/cloud'), row], local: [ld('/cloud'), lf('/cloud/a', 3, 3, 3)], remote: [rd('/cloud'), rf('/cloud/a')], placement: online })).toEqual(['compare /cloud/a']);
  });
  it('an online-only row is never a move source', () => {
    const row = bf('/a', { placement: 'online-only', localIno: 42 });
    expect(actions({ base: [row], local: [lf('/b', 10, 1000, 42)], remote: [rf('/a')] })).toEqual(['download /a (new)', 'upload /b (new)']);
  });
});

describe('safety hold (F17)', () => {
  const files = (n: number): { base: BaseEntry[]; local: LocalEntry[]; remote: RemoteEntry[] } => {
    const base: BaseEntry[] = [bd('/d')];
    const local: LocalEntry[] = [ld('/d')];
    const remote: RemoteEntry[] = [rd('/d')];
    for (let i = 0; i < n; i++) {
      base.push(bf(`/d/f${i}`, { localIno: i + 1 }));
      local.push(lf(`/d/f${i}`, 10, 1000, i + 1));
      remote.push(rf(`/d/f${i}`));
    }
    return { base, local, remote };
  };
  it('F17: deleting more than half of the synced files holds the plan, with every action still listed', () => {
    const t = files(10);
    const p = run({ base: t.base, local: t.local.filter((e) => !/f[0-5]$/.test(e.path)), remote: t.remote });
    expect(p.hold).toMatchObject({ reason: 'mass-delete', affected: 6, synced: 10 });
    expect(p.actions.filter((a) => a.type === 'delete-remote')).toHaveLength(6);
  });
  it('F17: exactly half is not held; replacing more than half by downloads is', () => {
    const t = files(10);
    expect(run({ base: t.base, local: t.local.filter((e) => !/f[0-4]$/.test(e.path)), remote: t.remote }).hold).toBeNull();
    const edited = t.remote.map((r) => (/f[0-5]$/.test(r.path) ? rf(r.path, '"e9"') : r));
    expect(run({ base: t.base, local: t.local, remote: edited }).hold).toMatchObject({ reason: 'mass-delete', affected: 6 });
  });
  it(`F17: below ${MASS_DELETE_MINIMUM} synced files the ratio does not hold the plan`, () => {
    const t = files(MASS_DELETE_MINIMUM - 1);
    expect(run({ base: t.base, local: [ld('/d')], remote: t.remote }).hold).toBeNull();
  });
  it('F17: a missing or empty sync root with synced entries in the journal is held, whatever the count', () => {
    const t = files(2);
    expect(run({ ...t, localRootMissing: true }).hold).toMatchObject({ reason: 'root-missing' });
    const empty = run({ base: t.base, local: [], remote: t.remote });
    expect(empty.hold).toMatchObject({ reason: 'root-missing', synced: 2 });
    expect(empty.actions.map((a) => a.type)).toEqual(['delete-remote', 'delete-remote', 'delete-remote']);
    expect(run({ base: [], local: [], remote: t.remote }).hold).toBeNull(); // first sync into an empty folder
  });
});

describe('C6: a journal lost or reset', () => {
  it('C6: with no base, nothing is deleted anywhere; files on both sides are compared', () => {
    const p = run({
      base: [],
      local: [ld('/a'), lf('/a/same', 10, 5, 1), lf('/a/differs', 3, 5, 2), lf('/a/local-only', 1, 1, 3)],
      remote: [rd('/a'), rf('/a/same'), rf('/a/differs'), rf('/a/remote-only')],
    });
    expect(p.actions.map(describeAction)).toEqual(['record /a', 'compare /a/differs', 'upload /a/local-only (new)', 'download /a/remote-only (new)', 'compare /a/same']);
    expect(p.actions.some((a) => a.type === 'delete-local' || a.type === 'delete-remote')).toBe(false);
    expect(p.hold).toBeNull();
  });
});

describe('actionSteps', () => {
  it('groups independent actions: mkdirs by depth, moves, transfers, deletes by depth (deepest first)', () => {
    const p = run({
      base: [bd('/old'), bd('/old/sub'), bf('/old/sub/f'), bf('/m', { localIno: 7 })],
      local: [ld('/n'), ld('/n/o'), lf('/n/o/u', 1, 1, 3), lf('/moved', 10, 1000, 7)],
      remote: [rd('/old'), rd('/old/sub'), rf('/old/sub/f'), rf('/m')],
    });
    const steps = actionSteps(p.actions).map((s) => s.map(describeAction));
    expect(steps).toEqual([['mkdir-remote /n'], ['mkdir-remote /n/o'], ['move-remote /m -> /moved'], ['upload /n/o/u (new)'], ['delete-remote /old/sub/f'], ['delete-remote /old/sub'], ['delete-remote /old']]);
  });
});
