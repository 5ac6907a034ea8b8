/**
 * A SyncWatcher in a process of its own, for the F16 test that needs strace as this process's
 * parent (watcher.test.ts):
 *
 *   strace -f -e trace=inotify_add_watch -e inject=inotify_add_watch:error=ENOSPC \
 *     node --import ../testing/ts-loader.mjs watch-testing-child.ts '<WatchChildJob JSON>'
 *
 * stdout: one JSON line per event (WatchChildLine). On every rescan request it runs the full
 * scan the sync pass would run (scanLocal) and prints the paths found. A line "close" on stdin
 * closes the watcher and prints what is left alive, then the process exits by itself.
 */
import { createInterface } from 'node:readline';
import { scanLocal } from './discover-local.js';
import { SyncWatcher } from './watcher.js';

export interface WatchChildJob {
  root: string;
  debounceMs: number;
  rescanIntervalMs: number;
}

export type WatchChildLine =
  | { event: 'ready'; at: number }
  | { event: 'degraded'; at: number; since: number; reason: string }
  | { event: 'changes'; at: number; paths: string[] }
  | { event: 'rescan'; at: number; reason: string; scanned: string[] }
  | { event: 'log'; at: number; level: string; message: string }
  | { event: 'closed'; at: number; resources: string[] };

const job = JSON.parse(process.argv[2] ?? '') as WatchChildJob;
const print = (line: WatchChildLine): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const watcher = new SyncWatcher({
  root: job.root,
  debounceMs: job.debounceMs,
  rescanIntervalMs: job.rescanIntervalMs,
  log: (level, message) => print({ event: 'log', at: Date.now(), level, message }),
});
watcher.on('ready', () => print({ event: 'ready', at: Date.now() }));
watcher.on('degraded', (d) => print({ event: 'degraded', at: Date.now(), since: d.since, reason: d.reason }));
watcher.on('changes', (b) => print({ event: 'changes', at: Date.now(), paths: b.paths }));
watcher.on('rescan', ({ reason }) => {
  void scanLocal(job.root).then((scan) => print({ event: 'rescan', at: Date.now(), reason, scanned: [...scan.tree.keys()].sort() }));
});

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim() !== 'close') return;
  input.close();
  void watcher.close().then(() => {
    setImmediate(() => print({ event: 'closed', at: Date.now(), resources: process.getActiveResourcesInfo() }));
  });
});
