/**
 * The planner: a pure three-way merge of the journal (base), the sync folder (local) and the
 * server (remote) into the actions of one pass (DESIGN §6, issue 5 item 3). No I/O, no clock:
 * every comparison is against the values recorded at the last sync, never against "now", so
 * clock shifts and mtimes in the future cannot create conflicts or ping-pong (F20).
 *
 *   paths = base ∪ local ∪ remote (+ their ancestors)
 *     0. folders   a local folder renamed as a whole, the server's side of it unchanged -> one
 *                  move-remote of the folder; a server folder renamed as a whole (same ETags
 *                  below), the local side unchanged -> one move-local (plan-folder-moves.ts);
 *                  the rest of the plan sees the trees as they are after them (L4)
 *     1. moves     a vanished local file whose inode, size and mtime reappear at a new path,
 *                  with the server's copy unchanged  ->  move-remote
 *     2. decide    each path, children before parents, from (local state, remote state):
 *                    absent | same | changed | replaced (kind differs from the base)
 *                  a folder is deleted on a side only when nothing below it survives there
 *     3. filter    nothing is done below a file or a conflict that must go first (next pass)
 *                  folders above a download that are missing locally are created
 *     4. hold      more than half of the synced files deleted or replaced, or the sync root
 *                  missing/empty while the journal holds synced entries (F17)
 *     5. order     mkdirs parent-first | folder moves (in the order found) | file moves |
 *                  transfers and journal-only | deletes child-first
 *
 *   local \ remote   same            changed               absent
 *   same             -               download              delete-local
 *   changed          upload          compare | conflict    upload as new (edit beats delete)
 *   absent           delete-remote   download (edit wins)  forget
 *
 * Deletes happen only when the other side is provably unchanged since the base: a server entry
 * without a usable ETag, size or mtime is never "unchanged" (B3, B4, B5). Paths in `Blind` get no
 * action at all, and the folders above them are never deleted (F4, M1).
 */
import type { RemoteEntry } from '../api/remote.js';
import type { Placement } from '../api/states.js';
import type { Action, ActionType, BaseEntry, BaseTree, Blind, Hold, LocalEntry, LocalTree, PlacementOf, Plan, RemoteTree } from './model.js';
import { etagsMatchWeakly } from '../remote/webdav/etag.js';
import { findFolderMoves } from './plan-folder-moves.js';
import { ancestorsOf, depthOf, parentOf } from './tree-paths.js';

export interface PlanOptions {
  placementOf: PlacementOf;
  blind: Blind;
  /** The sync root is gone or unreadable (the caller checked); with synced entries the plan is held. */
  localRootMissing?: boolean;
  /** The fewest synced files for which the mass-delete hold applies (default MASS_DELETE_MINIMUM). */
  massDeleteMinimum?: number;
}

/**
 * Below this many synced files the "more than half" hold does not apply: deleting 3 of 4 files is
 * an everyday edit, not an accident (rclone bisync's --max-delete has the same blind spot for
 * tiny trees; Nextcloud asks only when every file goes). A missing or empty root is held whatever
 * the count, and files deleted locally go to the trash for 30 days.
 */
export const MASS_DELETE_MINIMUM = 10;

/** True when the server's entry is provably the one recorded in the base (B3, B4, B5, F13). */
export function remoteUnchanged(remote: RemoteEntry, base: BaseEntry): boolean {
  if (remote.kind !== base.kind) return false;
  if (remote.kind === 'folder') return true;
  if (remote.size === null || base.remoteSize === null || remote.size !== base.remoteSize) return false;
  const mtimeSame = remote.mtimeMs !== null && base.remoteMtimeMs !== null && remote.mtimeMs === base.remoteMtimeMs;
  if (remote.etag !== null && base.etag !== null) {
    if (remote.etag === base.etag) return remote.etagStrength === 'strong' || mtimeSame;
    // Apache marks a tag weak for a second after a change (W/"x"), then strong ("x"): the same
    // opaque tag with a W/ on one side only. Weak comparison (RFC 9110 §8.8.3.2) plus the date
    // then says "the same version" (F13: never more than that from a weak tag).
    return etagsMatchWeakly(remote.etag, base.etag) && mtimeSame;
  }
  return mtimeSame;
}

/** True when the local entry is the one recorded in the base: same kind, size and mtime (inode ignored). */
export function localUnchanged(local: LocalEntry, base: BaseEntry): boolean {
  if (local.kind !== base.kind) return false;
  if (local.kind === 'folder') return true;
  return local.size === base.localSize && local.mtimeMs === base.localMtimeMs;
}

/** Which step of a pass an action belongs to; see actionSteps. */
export function phaseOf(type: ActionType): 0 | 1 | 2 | 3 {
  switch (type) {
    case 'mkdir-local':
    case 'mkdir-remote':
      return 0;
    case 'move-remote':
    case 'move-local':
      return 1;
    case 'delete-local':
    case 'delete-remote':
      return 3;
    default:
      return 2;
  }
}

/** A move of a whole folder, either way (L4): runs before the file moves, one at a time, in plan order. */
export function isFolderMove(action: Action): action is Extract<Action, { type: 'move-remote' | 'move-local' }> {
  return action.type === 'move-local' || (action.type === 'move-remote' && action.local.kind === 'folder');
}

/**
 * The actions in the order they must run, as groups whose members are independent of each other
 * (run a group's members in any order or at once; finish a group before the next):
 *   mkdirs, one group per depth, parents first | folder moves, one group each, in the order given
 *   (a rename inside a renamed folder needs the outer one done) | file moves | transfers and
 *   journal-only | deletes, one group per depth, children first.
 */
export function actionSteps(actions: readonly Action[]): Action[][] {
  const groups = new Map<string, Action[]>();
  const underMove = belowFolderMove(actions);
  let folderMoves = 0;
  for (const action of actions) {
    const phase = phaseOf(action.type);
    const depth = String(depthOf(action.path)).padStart(5, '0');
    // Folders made inside a moved folder can only be made once it is there: after the folder
    // moves, before the file moves (which may go into them).
    const key =
      phase === 0
        ? underMove(action.path)
          ? `1:b${depth}`
          : `0:${depth}`
        : phase === 3
          ? `3:${String(99999 - depthOf(action.path)).padStart(5, '0')}`
          : phase === 1
            ? isFolderMove(action)
              ? `1:a${String(folderMoves++).padStart(7, '0')}`
              : '1:c'
            : `${phase}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [action]);
    else group.push(action);
  }
  return [...groups.keys()]
    .sort()
    .map((key) => (groups.get(key) ?? []).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
}

/** Whether a path is strictly below the destination of one of the folder moves among `actions`. */
export function belowFolderMove(actions: readonly Action[]): (path: string) => boolean {
  const destinations = new Set<string>();
  for (const a of actions) if (isFolderMove(a)) destinations.add(a.path);
  if (destinations.size === 0) return () => false;
  return (path) => ancestorsOf(path).some((a) => destinations.has(a));
}

interface Decision {
  action: Action | null;
  /** The path exists locally / on the server once this plan (and the passes it implies) ran. */
  localAfter: boolean;
  remoteAfter: boolean;
  /** Left alone because discovery could not see it, or because something below it is blind. */
  blind?: boolean;
}

interface Below {
  local: boolean;
  remote: boolean;
  blind: boolean;
}

type SideState = 'absent' | 'same' | 'changed' | 'replaced';

/** Action types allowed below a local file (the local side has nothing there to touch). */
const UNDER_LOCAL_FILE: ReadonlySet<ActionType> = new Set(['delete-remote', 'forget', 'record-online-only']);
/** Action types allowed below a server file. */
const UNDER_REMOTE_FILE: ReadonlySet<ActionType> = new Set(['delete-local', 'forget']);

export function plan(baseBefore: BaseTree, localBefore: LocalTree, remoteBefore: RemoteTree, opts: PlanOptions): Plan {
  const isBlind = blindTest(opts.blind);
  // 0. Folder renames: from here on, the trees are as they are after them.
  const folderMoves = findFolderMoves(baseBefore, localBefore, remoteBefore, isBlind, remoteUnchanged);
  const base = folderMoves.base;
  const local = folderMoves.local;
  const remote = folderMoves.remote;
  const descending = byDepthDescending(allPaths(base, local, remote));
  const moves = findMoves(base, local, remote, isBlind);

  // 2. Decide each path, children first, so a folder knows whether anything below it survives.
  const decisions = new Map<string, Decision>();
  const below = new Map<string, Below>();
  for (const path of descending) {
    const under = below.get(path) ?? { local: false, remote: false, blind: false };
    let decision: Decision;
    if (isBlind(path)) decision = { action: null, localAfter: false, remoteAfter: false, blind: true };
    else if (moves.byDestination.has(path)) decision = { action: moves.byDestination.get(path) ?? null, localAfter: true, remoteAfter: true };
    else if (moves.sources.has(path)) decision = { action: null, localAfter: false, remoteAfter: false };
    else decision = decide(path, local.get(path), remote.get(path), base.get(path), opts.placementOf(path), under);
    // A conflict moves our entry aside, and with it whatever is below: not with a blind path there.
    if (under.blind && decision.action?.type === 'conflict') decision = { action: null, localAfter: false, remoteAfter: false, blind: true };
    decisions.set(path, decision);
    const parent = parentOf(path);
    if (parent !== '/') {
      const agg = below.get(parent) ?? { local: false, remote: false, blind: false };
      agg.local ||= decision.localAfter || under.local;
      agg.remote ||= decision.remoteAfter || under.remote;
      agg.blind ||= decision.blind === true || under.blind;
      below.set(parent, agg);
    }
  }

  // 3. Nothing below a file or a conflict that must be resolved first; this pass only does what is
  //    consistent with the ancestor as it is now, the next pass the rest.
  const ascending = descending.slice().reverse();
  for (const path of ascending) {
    const decision = decisions.get(path);
    if (decision?.action == null) continue;
    const type = decision.action.type;
    for (const ancestor of ancestorsOf(path)) {
      if (ancestor === '/') break;
      const blocked =
        decisions.get(ancestor)?.action?.type === 'conflict'
          ? type !== 'forget'
          : (local.get(ancestor)?.kind === 'file' && !UNDER_LOCAL_FILE.has(type)) || (remote.get(ancestor)?.kind === 'file' && !UNDER_REMOTE_FILE.has(type));
      if (blocked) {
        decision.action = null;
        break;
      }
    }
  }
  //    A download needs its folders locally, even where they are online-only themselves.
  for (const path of ascending) {
    const type = decisions.get(path)?.action?.type;
    if (type !== 'download' && type !== 'mkdir-local') continue;
    for (const ancestor of ancestorsOf(path)) {
      if (ancestor === '/' || local.has(ancestor)) break;
      const decision = decisions.get(ancestor);
      const folder = remote.get(ancestor);
      if (decision === undefined || folder?.kind !== 'folder' || isBlind(ancestor)) break;
      if (decision.action === null || decision.action.type === 'record-online-only') {
        decision.action = { type: 'mkdir-local', path: ancestor, remote: folder };
      }
    }
  }

  const actions: Action[] = [...folderMoves.moves];
  for (const path of ascending) {
    const action = decisions.get(path)?.action;
    if (action != null) actions.push(action);
  }
  const ordered = actionSteps(actions).flat();
  return { actions: ordered, hold: holdOf(base, local, ordered, opts) };
}

function decide(path: string, l: LocalEntry | undefined, r: RemoteEntry | undefined, b: BaseEntry | undefined, placement: Placement, under: Below): Decision {
  if (b === undefined || b.placement === 'online-only') return decideWithoutLocalBase(path, l, r, b, placement);
  const ls: SideState = l === undefined ? 'absent' : l.kind !== b.kind ? 'replaced' : localUnchanged(l, b) ? 'same' : 'changed';
  const rs: SideState = r === undefined ? 'absent' : r.kind !== b.kind ? 'replaced' : remoteUnchanged(r, b) ? 'same' : 'changed';

  if (l === undefined && r === undefined) return act({ type: 'forget', path }, false, false);

  if (ls === 'replaced' || rs === 'replaced') {
    if (l !== undefined && r !== undefined && l.kind === r.kind) return bothNew(path, l, r);
    if (l !== undefined && r === undefined) return addLocal(path, l);
    if (r !== undefined && l === undefined) return addRemote(path, r, null, placement);
    if (l !== undefined && r !== undefined && ls === 'replaced') {
      // The server still has the base's kind: delete it only when it is unchanged throughout.
      const removable = rs === 'same' && (r.kind === 'file' || (!under.remote && !under.blind));
      return removable ? act({ type: 'delete-remote', path, remote: r, base: b }, false, false) : conflict(path, l, r, b);
    }
    if (l !== undefined && r !== undefined) {
      const removable = ls === 'same' && (l.kind === 'file' || (!under.local && !under.blind));
      return removable ? act({ type: 'delete-local', path, local: l, base: b }, false, false) : conflict(path, l, r, b);
    }
  }

  if (b.kind === 'folder') {
    if (l !== undefined && r !== undefined) return none(l, r);
    if (r !== undefined) {
      if (placement === 'online-only') return act({ type: 'record-online-only', path, remote: r }, false, true);
      if (under.remote) return act({ type: 'mkdir-local', path, remote: r }, true, true);
      // Only blind entries below: neither deleted nor brought back (F4: that subtree is left alone).
      if (under.blind) return { action: null, localAfter: false, remoteAfter: false, blind: true };
      return act({ type: 'delete-remote', path, remote: r, base: b }, false, false);
    }
    if (l !== undefined) {
      if (under.local) return act({ type: 'mkdir-remote', path, local: l }, true, true);
      if (under.blind) return { action: null, localAfter: false, remoteAfter: false, blind: true };
      return act({ type: 'delete-local', path, local: l, base: b }, false, false);
    }
  }

  // Files whose kind matches the base on every side present.
  if (l !== undefined && r !== undefined) {
    if (ls === 'same' && rs === 'same') return none(l, r);
    if (ls === 'same') return act({ type: 'download', path, remote: r, local: l, base: b }, true, true);
    if (rs === 'same') return act({ type: 'upload', path, local: l, remote: r, base: b }, true, true);
    // Both changed: equal sizes may be the same bytes (an upload whose answer was lost, C3).
    return l.size === r.size ? act({ type: 'compare', path, local: l, remote: r }, true, true) : conflict(path, l, r, b);
  }
  if (r !== undefined) {
    if (placement === 'online-only') return act({ type: 'record-online-only', path, remote: r }, false, true);
    if (rs === 'same') return act({ type: 'delete-remote', path, remote: r, base: b }, false, false);
    return act({ type: 'download', path, remote: r, local: null, base: b }, true, true); // edit beats delete
  }
  if (l !== undefined) {
    if (ls === 'same') return act({ type: 'delete-local', path, local: l, base: b }, false, false);
    return act({ type: 'upload', path, local: l, remote: null, base: null }, true, true); // edit beats delete
  }
  return act({ type: 'forget', path }, false, false);
}

/** No base, or an online-only base (which says nothing about a local file): first-sync rules. */
function decideWithoutLocalBase(path: string, l: LocalEntry | undefined, r: RemoteEntry | undefined, b: BaseEntry | undefined, placement: Placement): Decision {
  if (l !== undefined && r !== undefined) return l.kind === r.kind ? bothNew(path, l, r) : conflict(path, l, r, b ?? null);
  if (l !== undefined) return addLocal(path, l);
  if (r !== undefined) {
    if (placement === 'online-only' && b !== undefined && remoteUnchanged(r, b)) return { action: null, localAfter: false, remoteAfter: true };
    return addRemote(path, r, b ?? null, placement);
  }
  return b === undefined ? { action: null, localAfter: false, remoteAfter: false } : act({ type: 'forget', path }, false, false);
}

function bothNew(path: string, l: LocalEntry, r: RemoteEntry): Decision {
  return l.kind === 'folder' ? act({ type: 'record', path, local: l, remote: r }, true, true) : act({ type: 'compare', path, local: l, remote: r }, true, true);
}

function addLocal(path: string, l: LocalEntry): Decision {
  return l.kind === 'folder' ? act({ type: 'mkdir-remote', path, local: l }, true, true) : act({ type: 'upload', path, local: l, remote: null, base: null }, true, true);
}

function addRemote(path: string, r: RemoteEntry, b: BaseEntry | null, placement: Placement): Decision {
  if (placement === 'online-only') return act({ type: 'record-online-only', path, remote: r }, false, true);
  return r.kind === 'folder' ? act({ type: 'mkdir-local', path, remote: r }, true, true) : act({ type: 'download', path, remote: r, local: null, base: b }, true, true);
}

function conflict(path: string, l: LocalEntry, r: RemoteEntry, b: BaseEntry | null): Decision {
  return act({ type: 'conflict', path, local: l, remote: r, base: b }, true, true);
}

function none(l: LocalEntry | undefined, r: RemoteEntry | undefined): Decision {
  return { action: null, localAfter: l !== undefined, remoteAfter: r !== undefined };
}

function act(action: Action, localAfter: boolean, remoteAfter: boolean): Decision {
  return { action, localAfter, remoteAfter };
}

function allPaths(base: BaseTree, local: LocalTree, remote: RemoteTree): Set<string> {
  const paths = new Set<string>();
  const add = (path: string): void => {
    if (path === '/' || paths.has(path)) return;
    paths.add(path);
    for (let p = parentOf(path); p !== '/' && !paths.has(p); p = parentOf(p)) paths.add(p);
  };
  for (const path of base.keys()) add(path);
  for (const path of local.keys()) add(path);
  for (const path of remote.keys()) add(path);
  return paths;
}

/** Deepest paths first (a bucket per depth: no comparisons). */
function byDepthDescending(paths: Iterable<string>): string[] {
  const buckets: string[][] = [];
  for (const path of paths) {
    const depth = depthOf(path);
    (buckets[depth] ??= []).push(path);
  }
  const out: string[] = [];
  for (let d = buckets.length - 1; d >= 0; d--) {
    const bucket = buckets[d];
    if (bucket !== undefined) for (const path of bucket) out.push(path);
  }
  return out;
}

function blindTest(blind: Blind): (path: string) => boolean {
  const roots = new Set<string>([...blind.remoteFolders, ...blind.remotePaths, ...blind.localPaths]);
  if (roots.size === 0) return () => false;
  if (roots.has('/')) return () => true;
  return (path) => {
    if (roots.has(path)) return true;
    for (const ancestor of ancestorsOf(path)) if (roots.has(ancestor)) return true;
    return false;
  };
}

interface Moves {
  byDestination: Map<string, Action>;
  sources: Set<string>;
}

/**
 * A local rename: the base file is gone from its path, exactly one new local file (no base, no
 * server entry there) has its inode, size and mtime, and the server still has the base unchanged.
 * Neither end may sit below a file on either side (that is a kind change, settled first).
 */
function findMoves(base: BaseTree, local: LocalTree, remote: RemoteTree, isBlind: (path: string) => boolean): Moves {
  const moves: Moves = { byDestination: new Map(), sources: new Set() };
  const belowFile = (path: string): boolean => ancestorsOf(path).some((a) => local.get(a)?.kind === 'file' || remote.get(a)?.kind === 'file');
  const newByIno = new Map<number, LocalEntry[]>();
  for (const entry of local.values()) {
    if (entry.kind !== 'file' || entry.ino <= 0 || base.has(entry.path) || remote.has(entry.path)) continue;
    const list = newByIno.get(entry.ino);
    if (list === undefined) newByIno.set(entry.ino, [entry]);
    else list.push(entry);
  }
  if (newByIno.size === 0) return moves;
  const baseInoCount = new Map<number, number>();
  for (const b of base.values()) if (b.kind === 'file') baseInoCount.set(b.localIno, (baseInoCount.get(b.localIno) ?? 0) + 1);
  for (const b of base.values()) {
    if (b.kind !== 'file' || b.placement === 'online-only' || b.localIno <= 0 || baseInoCount.get(b.localIno) !== 1) continue;
    if (local.has(b.path)) continue;
    const r = remote.get(b.path);
    if (r === undefined || !remoteUnchanged(r, b)) continue;
    const candidates = newByIno.get(b.localIno);
    if (candidates?.length !== 1) continue;
    const l = candidates[0];
    if (l === undefined || l.size !== b.localSize || l.mtimeMs !== b.localMtimeMs) continue;
    if (isBlind(b.path) || isBlind(l.path) || belowFile(b.path) || belowFile(l.path)) continue;
    moves.byDestination.set(l.path, { type: 'move-remote', path: l.path, from: b.path, local: l, remote: r, base: b });
    moves.sources.add(b.path);
  }
  return moves;
}

function holdOf(base: BaseTree, local: LocalTree, actions: readonly Action[], opts: PlanOptions): Hold | null {
  let syncedFiles = 0;
  let syncedEntries = 0;
  for (const b of base.values()) {
    if (b.path === '/' || b.placement === 'online-only') continue;
    syncedEntries++;
    if (b.kind === 'file') syncedFiles++;
  }
  let affected = 0;
  for (const a of actions) {
    if ((a.type === 'delete-local' && a.local.kind === 'file') || (a.type === 'delete-remote' && a.remote.kind === 'file') || (a.type === 'download' && a.local !== null)) affected++;
  }
  const localEmpty = local.size === 0 || (local.size === 1 && local.has('/'));
  if (syncedEntries > 0 && (opts.localRootMissing === true || localEmpty)) {
    return {
      reason: 'root-missing',
      message: `the sync folder is missing or empty while the journal holds ${syncedEntries} synced entries; nothing is deleted or replaced until you confirm`,
      affected,
      synced: syncedFiles,
    };
  }
  const minimum = opts.massDeleteMinimum ?? MASS_DELETE_MINIMUM;
  if (syncedFiles >= minimum && affected * 2 > syncedFiles) {
    return {
      reason: 'mass-delete',
      message: `the plan deletes or replaces ${affected} of the ${syncedFiles} synced files (more than half); nothing is deleted or replaced until you confirm`,
      affected,
      synced: syncedFiles,
    };
  }
  return null;
}
