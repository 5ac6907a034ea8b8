/**
 * One sync pass (DESIGN §6):
 *
 *   root present? (marker) ─┐
 *   discoverRemote ─────────┼─> plan(base, local, remote) ─> hold? ──yes, no --yes──> PassReport{held}
 *   scanLocal ──────────────┤        │                         │
 *   journal.base() ─────────┘        │                      dry run ───────────────> PassReport{plan}
 *                                    v
 *                     drop actions waiting in backoff (a local edit retries at once)
 *                                    v
 *                          propagate (journal rows as it goes)
 *                                    v
 *             clear failures of items now gone from both sides (never synced)
 *
 * Nothing is planned from a discovery that failed (F5): the error reaches the caller.
 */
import type { RemoteBackend } from '../remote/backend.js';
import type { Capabilities, RemoteEntry } from '../api/remote.js';
import type { NetfsEngine } from '../netfs/engine.js';
import { discoverRemote, type RemoteProblem } from './discover-remote.js';
import { scanLocal } from './discover-local.js';
import type { Action, BaseEntry, BaseTree, Blind, Hold, LocalTree, Plan, PlacementOf, RemoteTree } from './model.js';
import { plan } from './plan.js';
import { propagate, type PropagateResult } from './propagate.js';
import type { DownloadPort, JournalPort, TrashPort } from './propagate-context.js';
import { rootPresent, writeRootMarker } from './state-folder.js';
import { isAtOrUnder } from './tree-paths.js';

/** What the pass needs from the journal beyond what propagation records. */
export interface PassJournal extends JournalPort {
  base(): BaseTree;
  placementOf: PlacementOf;
  /** Paths whose last attempt failed and whose next retry is later than `nowMs`, with the time of that failure. */
  waiting(nowMs: number): ReadonlyMap<string, { nextRetryMs: number; failedMs: number }>;
  /** How many synced files the journal holds. */
  syncedFileCount(): number;
  /** Rows of downloads a killed run renamed into place but may not have recorded (markPlacing). */
  placings(): BaseEntry[];
  clearPlacings(paths: readonly string[]): void;
}

export interface PassOptions {
  root: string;
  accountId: string;
  backend: RemoteBackend;
  engine: NetfsEngine;
  caps: Capabilities;
  journal: PassJournal;
  trash: TrashPort;
  downloads: DownloadPort;
  isIgnored: (path: string, kind: 'file' | 'folder') => boolean;
  transfers: number;
  /** Carry out a held plan (`sync --yes`). */
  confirmed: boolean;
  dryRun: boolean;
  /** Aborted when stopping: running transfers finish and are recorded, no new one starts. */
  draining?: AbortSignal;
  /** Runs after discovery, before planning; returns the paths it removed locally (free up space). */
  beforePlan?: (trees: { base: BaseTree; remote: RemoteTree }) => Promise<string[]>;
  signal?: AbortSignal;
  now?: () => Date;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export interface PassReport {
  plan: Plan;
  /** The plan is held and was not carried out (exit 4). */
  held: Hold | null;
  /** Actions left out because their item waits in backoff. */
  waiting: { path: string; nextRetryMs: number }[];
  result: PropagateResult | null;
  remoteProblems: RemoteProblem[];
  remoteFailures: { path: string; code: string; message: string }[];
  localProblems: { path: string; message: string }[];
  propfinds: number;
}

/**
 * A local edit after the failure retries at once (F6): the file's mtime is then newer than the
 * failure. (Compared with the failure's time, not with the journal row: a pending upload differs
 * from its row by definition, and a new file has none.) A vanished file waits its turn.
 */
function localChangedSince(local: LocalTree, path: string, w: { failedMs: number }): boolean {
  const now = local.get(path);
  return now !== undefined && now.kind === 'file' && now.mtimeMs > w.failedMs;
}

/** The remote tree without what the ignore rules leave out (an ignored folder's subtree too). */
function withoutIgnored(tree: RemoteTree, isIgnored: (path: string, kind: 'file' | 'folder') => boolean): RemoteTree {
  const ignoredFolders: string[] = [];
  for (const e of tree.values()) if (e.kind === 'folder' && isIgnored(e.path, 'folder')) ignoredFolders.push(e.path);
  const out = new Map<string, RemoteEntry>();
  for (const [path, e] of tree) {
    if (isIgnored(path, e.kind)) continue;
    if (ignoredFolders.some((f) => path.startsWith(`${f}/`))) continue;
    out.set(path, e);
  }
  return out;
}

export async function runPass(o: PassOptions): Promise<PassReport> {
  const now = o.now ?? (() => new Date());
  const startedMs = now().getTime();
  let base = o.journal.base();
  const synced = o.journal.syncedFileCount();
  let markerPresent = await rootPresent(o.root);
  if (!markerPresent && synced === 0 && !o.dryRun) {
    // First pass (or an account with nothing synced yet): the root is ours to mark.
    await writeRootMarker(o.root, o.accountId).catch(() => undefined);
    markerPresent = await rootPresent(o.root);
  }
  // Both sides at once: the scan's lstats run in the thread pool while the listings are on the wire.
  const [remote, local] = await Promise.all([
    discoverRemote(o.backend, { capabilities: o.caps, ...(o.signal === undefined ? {} : { signal: o.signal }) }),
    scanLocal(o.root, { ignore: o.isIgnored, ...(o.signal === undefined ? {} : { signal: o.signal }) }),
  ]);
  const remoteTree = withoutIgnored(remote.tree, o.isIgnored);
  base = settlePlacings(o.journal, base, local.tree, o.dryRun);
  const localRootMissing = local.rootMissing || (!markerPresent && synced > 0);
  const blind = {
    remoteFolders: remote.blind.remoteFolders,
    remotePaths: remote.blind.remotePaths,
    localPaths: local.blindPaths,
  };
  // Free up space (unpinned synced files) before planning: freed files leave the local tree and
  // their rows become online-only.
  let planBase = base;
  let planLocal: LocalTree = local.tree;
  if (o.beforePlan !== undefined && !o.dryRun && !localRootMissing) {
    const freed = await o.beforePlan({ base, remote: remoteTree });
    if (freed.length > 0) {
      const gone = new Set(freed);
      planLocal = new Map([...local.tree].filter(([p]) => !gone.has(p)));
      planBase = o.journal.base();
    }
  }
  const thePlan = plan(planBase, localRootMissing ? new Map() : planLocal, remoteTree, { placementOf: o.journal.placementOf, blind, localRootMissing });
  const report: PassReport = {
    plan: thePlan,
    held: null,
    waiting: [],
    result: null,
    remoteProblems: remote.problems,
    remoteFailures: remote.failures.map((f) => ({ path: f.path, code: f.code, message: f.message })),
    localProblems: local.problems.map((p) => ({ path: p.path, message: p.message })),
    propfinds: remote.propfinds,
  };
  if (thePlan.hold !== null && (!o.confirmed || local.rootMissing)) {
    report.held = thePlan.hold;
    o.log('warn', 'plan held until confirmed', { reason: thePlan.hold.reason, message: thePlan.hold.message });
    return report;
  }
  if (o.dryRun) return report;
  const waiting = o.journal.waiting(now().getTime());
  const runnable: Action[] = [];
  for (const a of thePlan.actions) {
    const w = waiting.get(a.path);
    if (w !== undefined && !localChangedSince(local.tree, a.path, w)) {
      report.waiting.push({ path: a.path, nextRetryMs: w.nextRetryMs });
      continue;
    }
    runnable.push(a);
  }
  report.result = await propagate(
    {
      root: o.root,
      backend: o.backend,
      engine: o.engine,
      caps: o.caps,
      journal: o.journal,
      trash: o.trash,
      downloads: o.downloads,
      now,
      log: o.log,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.draining === undefined ? {} : { draining: o.draining }),
    },
    runnable,
    o.transfers,
  );
  clearStaleFailures(o.journal, base, local.tree, remoteTree, blind, startedMs);
  return report;
}

/**
 * Downloads a killed run renamed into place before their journal row was written (markPlacing):
 * the file there is still the one placed (same inode, size and mtime) -> synced at the version
 * downloaded (and any failure recorded for it cleared), so it is not taken for a local edit (a needless conflict copy when the server
 * changed again, C1); anything else there (edited, replaced, gone) -> the marker is dropped and
 * the plan sees what is there. A dry run settles in memory only.
 */
function settlePlacings(journal: PassJournal, base: BaseTree, local: LocalTree, dryRun: boolean): BaseTree {
  const rows = journal.placings();
  if (rows.length === 0) return base;
  const placed = rows.filter((r) => {
    const l = local.get(r.path);
    return l !== undefined && l.kind === 'file' && l.ino === r.localIno && l.size === r.localSize && l.mtimeMs === r.localMtimeMs;
  });
  if (dryRun) {
    const out = new Map(base);
    for (const r of placed) out.set(r.path, { ...r, placement: base.get(r.path)?.placement ?? 'synced' });
    return out;
  }
  if (placed.length > 0) journal.recordSynced(placed.map((r) => ({ ...r, placement: base.get(r.path)?.placement ?? 'synced' })));
  // The download did finish (a failure recorded for it came after the rename: its journal row).
  for (const r of placed) journal.clearFailure(r.path);
  journal.clearPlacings(rows.map((r) => r.path));
  return journal.base();
}

/**
 * A failed item that is now gone from both sides and was never synced (a new local file whose
 * upload failed, deleted before the retry) has nothing left to retry: its failure record goes,
 * or `sync --once` would report it (exit 5) forever (found by P1). Paths a side could not see
 * (blind) keep theirs, and so do failures of this pass (a conflict copy made by this pass is in
 * neither tree discovered before it).
 */
function clearStaleFailures(journal: PassJournal, base: BaseTree, local: LocalTree, remote: RemoteTree, blind: Blind, startedMs: number): void {
  const unseen = [...blind.remoteFolders, ...blind.remotePaths, ...blind.localPaths];
  for (const [path, f] of journal.waiting(Number.NEGATIVE_INFINITY)) {
    if (f.failedMs >= startedMs || base.has(path) || local.has(path) || remote.has(path)) continue;
    if (unseen.some((b) => isAtOrUnder(path, b) || isAtOrUnder(b, path))) continue;
    journal.clearFailure(path);
  }
}
