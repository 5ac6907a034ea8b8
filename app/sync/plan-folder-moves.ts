/**
 * Folder renames for the planner (L4, issue 5 item 4): a local folder renamed as a whole becomes
 * one `move-remote` of the folder, not a MOVE (or a DELETE and a PUT) per file.
 *
 *   base  /old ─┬─ /old/a  ino 7        local  /new ─┬─ /new/a  ino 7      remote /old ─┬─ /old/a
 *               └─ /old/s/b ino 9                    └─ /new/s/b ino 9                  └─ /old/s/b
 *                         |                                                          (as in the base)
 *                         v
 *   move-remote /old -> /new, and from then on the planner sees base and remote as if the move
 *   had been done:  base /new, /new/a, /new/s/b   remote /new, /new/a, /new/s/b
 *
 * Identity of the folder: the inode of the local folder, when the journal recorded one (a rename
 * keeps it); else it is inferred from the children: every synced file below the old folder
 * reappears, unchanged (inode, size, mtime), at the same relative name below one new folder.
 * With the inode, children edited, added or removed at the same time are fine: the planner sees
 * them against the renamed base and plans them as usual, after the folder move.
 *
 * Safe only when the server's side of the old folder is exactly the base (every row there
 * unchanged, nothing added) and nothing is at or below the new path on the server or in the
 * journal; otherwise no folder move is planned and the per-file rules apply (file moves by
 * inode, deletes, uploads). Found shallowest first and again on the renamed trees, so a rename
 * inside a renamed folder is found too; the moves must run in the order returned.
 *
 * The server's side, the same way round: a folder gone from the server whose files all reappear
 * below one new server folder, at the same relative names with the same strong ETags, sizes and
 * dates (a WebDAV MOVE keeps them; Apache's ETag is made of size and mtime), the local copy
 * exactly the base  ->  one `move-local`: a rename(2) of the local folder. The server gives no
 * inode, so the identity is always inferred from the children there.
 */
import type { RemoteEntry } from '../api/remote.js';
import type { Action, BaseEntry, BaseTree, LocalEntry, LocalTree, RemoteTree } from './model.js';
import { ancestorsOf, depthOf, isAtOrUnder, nameOf } from './tree-paths.js';

export type FolderMove = Extract<Action, { type: 'move-remote' | 'move-local' }>;

export interface FolderMoves {
  /** The folder moves, in the order they must run (each may depend on the one before). */
  moves: FolderMove[];
  /** The three trees as they are once the moves are done (the inputs when there is none). */
  base: BaseTree;
  local: LocalTree;
  remote: RemoteTree;
}

/** The same unchanged-server test as the planner's (passed in to keep one definition). */
type Unchanged = (remote: RemoteEntry, base: BaseEntry) => boolean;

/** Direct children per folder, for walking a subtree without scanning every path. */
function childIndex(paths: Iterable<string>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const path of paths) {
    if (path === '/') continue;
    const parent = path.slice(0, Math.max(1, path.lastIndexOf('/')));
    const list = index.get(parent);
    if (list === undefined) index.set(parent, [path]);
    else list.push(path);
  }
  return index;
}

/** Every path strictly below `folder` in an index. */
function below(index: Map<string, string[]>, folder: string): string[] {
  const out: string[] = [];
  const stack = [folder];
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    for (const child of index.get(p) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

export function findFolderMoves(base: BaseTree, local: LocalTree, remote: RemoteTree, isBlind: (path: string) => boolean, unchanged: Unchanged): FolderMoves {
  const out: FolderMoves = { moves: [], base, local, remote };
  // Cheap exit: a folder rename needs a base folder that is gone from one side.
  let vanished = false;
  for (const b of base.values()) {
    if (b.kind === 'folder' && b.path !== '/' && (!local.has(b.path) || !remote.has(b.path))) {
      vanished = true;
      break;
    }
  }
  if (!vanished) return out;

  // Bounded: each move takes one base folder out of the candidates for good.
  for (let round = 0; round <= base.size; round++) {
    const ix = indexes(out);
    const candidates = [...out.base.values()]
      .filter((b) => b.kind === 'folder' && b.path !== '/' && b.placement !== 'online-only' && (!out.local.has(b.path) || !out.remote.has(b.path)))
      .sort((a, b) => depthOf(a.path) - depthOf(b.path));
    let found: FolderMove | null = null;
    for (const folder of candidates) {
      found = out.local.has(folder.path) ? tryRemoteRename(folder, out, ix, isBlind) : tryLocalRename(folder, out.base, out.local, out.remote, ix, isBlind, unchanged);
      // A folder still to be made on the way to the destination is made before the folder moves
      // (actionSteps), so it must not be inside an earlier move's destination.
      if (found !== null && !madeBeforeMoves(found.path, found.type === 'move-remote' ? out.remote : out.local, out.moves)) found = null;
      if (found !== null) break;
    }
    if (found === null) return out;
    out.moves.push(found);
    out.base = renamed(out.base, ix.baseIndex, found.from, found.path, (b, path) => ({ ...b, path }));
    if (found.type === 'move-remote') out.remote = renamed(out.remote, ix.remoteIndex, found.from, found.path, (r, path) => ({ ...r, path, name: nameOf(path) }));
    else out.local = renamed(out.local, ix.localIndex, found.from, found.path, (l, path) => ({ ...l, path }));
  }
  return out;
}

function madeBeforeMoves(to: string, side: ReadonlyMap<string, unknown>, earlier: readonly { path: string }[]): boolean {
  for (const a of ancestorsOf(to)) {
    if (a === '/' || side.has(a)) continue;
    if (earlier.some((m) => isAtOrUnder(a, m.path))) return false;
  }
  return true;
}

interface Indexes {
  baseIndex: Map<string, string[]>;
  remoteIndex: Map<string, string[]>;
  localIndex: Map<string, string[]>;
  localByIno: Map<number, LocalEntry | null>;
  /** Server files by strong ETag (Apache's is size + mtime: several files may share one). */
  remoteByEtag: Map<string, RemoteEntry[]>;
}

function indexes(t: { base: BaseTree; local: LocalTree; remote: RemoteTree }): Indexes {
  const localByIno = new Map<number, LocalEntry | null>(); // null: more than one entry has it
  for (const l of t.local.values()) if (l.ino > 0) localByIno.set(l.ino, localByIno.has(l.ino) ? null : l);
  const remoteByEtag = new Map<string, RemoteEntry[]>();
  for (const r of t.remote.values()) {
    if (r.kind !== 'file' || r.etag === null || r.etagStrength !== 'strong') continue;
    const list = remoteByEtag.get(r.etag);
    if (list === undefined) remoteByEtag.set(r.etag, [r]);
    else list.push(r);
  }
  return { baseIndex: childIndex(t.base.keys()), remoteIndex: childIndex(t.remote.keys()), localIndex: childIndex(t.local.keys()), localByIno, remoteByEtag };
}

function tryLocalRename(folder: BaseEntry, base: BaseTree, local: LocalTree, remote: RemoteTree, ix: Indexes, isBlind: (path: string) => boolean, unchanged: Unchanged): FolderMove | null {
  const from = folder.path;
  const r = remote.get(from);
  if (r?.kind !== 'folder' || isBlind(from)) return null;
  if ((ix.localIndex.get(from)?.length ?? 0) > 0) return null; // something is still there locally
  // The server's side of the old folder is the base, exactly.
  const baseBelow = below(ix.baseIndex, from);
  for (const path of baseBelow) {
    const b = base.get(path);
    const now = remote.get(path);
    if (b === undefined || b.placement === 'online-only' || now === undefined || isBlind(path) || !unchanged(now, b)) return null;
  }
  const remoteBelow = below(ix.remoteIndex, from);
  if (remoteBelow.length !== baseBelow.length) return null; // added on the server (all rows matched above)
  // Only folders on the way up on both sides (a file there is a kind change, settled first).
  for (const a of ancestorsOf(from)) if (a !== '/' && (remote.get(a)?.kind !== 'folder' || (local.has(a) && local.get(a)?.kind !== 'folder'))) return null;

  const to = folder.localIno > 0 ? byInode(folder, ix) : byChildren(from, baseBelow, base, local, ix);
  if (to === null) return null;
  const l = local.get(to);
  if (l?.kind !== 'folder' || isAtOrUnder(to, from) || isAtOrUnder(from, to) || isBlind(to)) return null;
  if (base.has(to) || remote.has(to) || (ix.baseIndex.get(to)?.length ?? 0) > 0 || (ix.remoteIndex.get(to)?.length ?? 0) > 0) return null;
  for (const a of ancestorsOf(to)) {
    if (a === '/') break;
    const ra = remote.get(a);
    if (local.get(a)?.kind !== 'folder' || (ra !== undefined && ra.kind !== 'folder') || isBlind(a)) return null;
  }
  for (const path of below(ix.localIndex, to)) if (isBlind(path)) return null;
  return { type: 'move-remote', path: to, from, local: l, remote: r, base: folder };
}

/** The local folder that has the recorded inode, if it is new (no row, nothing on the server). */
function byInode(folder: BaseEntry, ix: Indexes): string | null {
  const l = ix.localByIno.get(folder.localIno);
  return l == null || l.kind !== 'folder' ? null : l.path;
}

/** No inode recorded: every synced file below moved unchanged, to the same relative name below one folder. */
function byChildren(from: string, baseBelow: readonly string[], base: BaseTree, local: LocalTree, ix: Indexes): string | null {
  let to: string | null = null;
  let files = 0;
  for (const path of baseBelow) {
    const b = base.get(path);
    if (b?.kind !== 'file') continue;
    files++;
    const l = b.localIno > 0 ? ix.localByIno.get(b.localIno) : null;
    if (l == null || l.kind !== 'file' || l.size !== b.localSize || l.mtimeMs !== b.localMtimeMs) return null;
    const rel = path.slice(from.length);
    if (!l.path.endsWith(rel) || l.path.length === rel.length) return null;
    const candidate = l.path.slice(0, l.path.length - rel.length);
    if (to !== null && candidate !== to) return null;
    to = candidate;
  }
  if (files === 0 || to === null || !local.has(to)) return null;
  return to;
}

/**
 * The server renamed the folder: it is gone there (nothing below it either), the local copy is
 * exactly the base, and every base file below it is on the server at the same relative name
 * below one new folder, with the same strong ETag, size and date.
 */
function tryRemoteRename(folder: BaseEntry, t: { base: BaseTree; local: LocalTree; remote: RemoteTree }, ix: Indexes, isBlind: (path: string) => boolean): FolderMove | null {
  const from = folder.path;
  const l = t.local.get(from);
  if (l?.kind !== 'folder' || t.remote.has(from) || (ix.remoteIndex.get(from)?.length ?? 0) > 0 || isBlind(from)) return null;
  const baseBelow = below(ix.baseIndex, from);
  for (const path of baseBelow) {
    const b = t.base.get(path);
    const now = t.local.get(path);
    if (b === undefined || b.placement === 'online-only' || now === undefined || isBlind(path) || !localUnchanged(now, b)) return null;
  }
  if (below(ix.localIndex, from).length !== baseBelow.length) return null; // added locally
  for (const a of ancestorsOf(from)) if (a !== '/' && t.local.get(a)?.kind !== 'folder') return null;

  // Where the files went: the folders that hold the first one's version at its relative name,
  // kept only if they hold every other file's version at its name too.
  const files = baseBelow.map((path) => t.base.get(path)).filter((b): b is BaseEntry => b?.kind === 'file');
  const same = (r: RemoteEntry | undefined, b: BaseEntry): boolean =>
    r !== undefined && r.kind === 'file' && r.etagStrength === 'strong' && r.etag === b.etag && r.size === b.remoteSize && r.mtimeMs !== null && r.mtimeMs === b.remoteMtimeMs;
  const first = files[0];
  if (first === undefined || files.some((b) => b.etag === null || b.etag.startsWith('W/'))) return null;
  const firstRel = first.path.slice(from.length);
  const candidates = (ix.remoteByEtag.get(first.etag ?? '') ?? [])
    .filter((r) => same(r, first) && r.path.endsWith(firstRel) && r.path.length > firstRel.length)
    .map((r) => r.path.slice(0, r.path.length - firstRel.length))
    .filter((to) => files.every((b) => same(t.remote.get(to + b.path.slice(from.length)), b)));
  if (candidates.length !== 1) return null;
  const to = candidates[0] as string;
  const r = t.remote.get(to);
  if (r?.kind !== 'folder' || isAtOrUnder(to, from) || isAtOrUnder(from, to) || isBlind(to)) return null;
  if (t.base.has(to) || t.local.has(to) || (ix.baseIndex.get(to)?.length ?? 0) > 0 || (ix.localIndex.get(to)?.length ?? 0) > 0) return null;
  for (const a of ancestorsOf(to)) {
    if (a === '/') break;
    const la = t.local.get(a);
    if (t.remote.get(a)?.kind !== 'folder' || (la !== undefined && la.kind !== 'folder') || isBlind(a)) return null;
  }
  for (const path of below(ix.remoteIndex, to)) if (isBlind(path)) return null;
  return { type: 'move-local', path: to, from, local: l, remote: r, base: folder };
}

/** The same test as the planner's localUnchanged (plan.ts imports this module, not the other way). */
function localUnchanged(local: LocalEntry, base: BaseEntry): boolean {
  if (local.kind !== base.kind) return false;
  return local.kind === 'folder' || (local.size === base.localSize && local.mtimeMs === base.localMtimeMs);
}

/** The tree with `from` and everything below it at `to` instead. */
function renamed<T extends { path: string }>(tree: ReadonlyMap<string, T>, index: Map<string, string[]>, from: string, to: string, move: (entry: T, path: string) => T): Map<string, T> {
  const out = new Map(tree);
  for (const path of [from, ...below(index, from)]) {
    const e = out.get(path);
    if (e === undefined) continue;
    out.delete(path);
    const moved = to + path.slice(from.length);
    out.set(moved, move(e, moved));
  }
  return out;
}
