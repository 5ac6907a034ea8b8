/**
 * The shapes the sync layer passes between its phases (DESIGN §6):
 *
 *   discover-local  --> LocalTree  --+
 *   discover-remote --> RemoteTree --+--> plan(journal, local, remote, placements) --> Plan
 *   journal         --> BaseTree   --+                                                  |
 *                                                        propagate(actions) <-----------+
 *
 * Every path is a remote path: decoded names, a leading '/', no trailing slash ('/' is the
 * root). The local file of '/docs/a b.txt' is `<sync root>/docs/a b.txt`.
 */
import type { Placement } from '../api/states.js';
import type { RemoteEntry } from '../api/remote.js';

/** One entry of the local sync folder as the scan or the watcher saw it. */
export interface LocalEntry {
  path: string;
  kind: 'file' | 'folder';
  /** Bytes; 0 for folders. */
  size: number;
  /** Modification time in ms (fractional part kept). */
  mtimeMs: number;
  /** Inode number (a rename keeps it; used to detect moves). */
  ino: number;
}

/** The state both sides had when the path was last in sync (one journal row). */
export interface BaseEntry {
  path: string;
  kind: 'file' | 'folder';
  /** The server's ETag then, exactly as sent; null when it sent none (never "unchanged" then). */
  etag: string | null;
  remoteSize: number | null;
  remoteMtimeMs: number | null;
  localSize: number;
  localMtimeMs: number;
  localIno: number;
  /**
   * How the row was recorded: 'online-only' rows have no local file (their local fields are 0),
   * so a missing local file is expected, not a delete. Absent means 'synced'.
   */
  placement?: Placement;
}

export type LocalTree = ReadonlyMap<string, LocalEntry>;
export type RemoteTree = ReadonlyMap<string, RemoteEntry>;
export type BaseTree = ReadonlyMap<string, BaseEntry>;

/** What discovery could not see: the planner touches nothing at or under these paths. */
export interface Blind {
  /** Folders whose listing failed (F4): their subtrees are left alone on both sides. */
  remoteFolders: readonly string[];
  /** Paths whose server entry was dropped as odd (B4, M1): never deleted, never assumed unchanged. */
  remotePaths: readonly string[];
  /** Local paths that could not be read (EACCES, vanished during the scan). */
  localPaths: readonly string[];
}

/** One step of a plan. `base` is the journal row when there is one. */
export type Action =
  /** Fetch the server's file into the sync folder (new, or replacing an unchanged local copy). */
  | { type: 'download'; path: string; remote: RemoteEntry; local: LocalEntry | null; base: BaseEntry | null }
  /** Send the local file: If-Match base ETag (strong) when the server had it, else If-None-Match: *. */
  | { type: 'upload'; path: string; local: LocalEntry; remote: RemoteEntry | null; base: BaseEntry | null }
  | { type: 'mkdir-local'; path: string; remote: RemoteEntry }
  | { type: 'mkdir-remote'; path: string; local: LocalEntry }
  /** The server deleted it and the local copy is unchanged: move the local copy to the trash. */
  | { type: 'delete-local'; path: string; local: LocalEntry; base: BaseEntry }
  /** Deleted locally and unchanged on the server: DELETE with If-Match. */
  | { type: 'delete-remote'; path: string; remote: RemoteEntry; base: BaseEntry }
  /** A local rename of a file the server still has unchanged at `from`: MOVE from -> path. */
  | { type: 'move-remote'; path: string; from: string; local: LocalEntry; remote: RemoteEntry; base: BaseEntry }
  /**
   * A folder renamed on the server as a whole (its files at the new path with the same ETags),
   * the local copy unchanged: one rename(2) of the local folder `from` -> `path` (L4). `local` is
   * the folder at `from`, `remote` the server's folder at `path`.
   */
  | { type: 'move-local'; path: string; from: string; local: LocalEntry; remote: RemoteEntry; base: BaseEntry }
  /**
   * Both sides changed (or first sync, both present and different): the server's version keeps
   * the name; ours becomes a conflict copy and is uploaded too.
   */
  | { type: 'conflict'; path: string; local: LocalEntry; remote: RemoteEntry; base: BaseEntry | null }
  /** Both present, no base (first sync): equal size -> compare contents; equal -> record, else conflict. */
  | { type: 'compare'; path: string; local: LocalEntry; remote: RemoteEntry }
  /** Both sides already agree (e.g. a folder on both, or the same change on both): journal only. */
  | { type: 'record'; path: string; local: LocalEntry; remote: RemoteEntry }
  /** Gone on both sides (or online-only and gone on the server): drop the journal row. */
  | { type: 'forget'; path: string }
  /** Online-only entry known from the server: journal row only, no local file. */
  | { type: 'record-online-only'; path: string; remote: RemoteEntry };

export type ActionType = Action['type'];

/** Why a plan is held until the user confirms (`sync --yes`), F17. */
export interface Hold {
  reason: 'mass-delete' | 'root-missing';
  message: string;
  /** Synced files the plan would delete or replace, and how many synced files there are. */
  affected: number;
  synced: number;
}

export interface Plan {
  actions: Action[];
  hold: Hold | null;
}

/** Which placement applies to a path (pins inherit from the nearest pinned ancestor). */
export type PlacementOf = (path: string) => Placement;
