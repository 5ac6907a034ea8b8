/**
 * The common oracle of test-scenarios.md ("converged"), for scenario suites against Apache:
 *
 *   (a) both sides byte-identical (sha256 manifests; conflict copies are files like any other)
 *   (c) no partial/temp files on either side, no staging leftovers
 *   (d) journal: PRAGMA integrity_check = ok, its file rows are exactly the files on disk
 *   (e) idle: one more `sync --once` exits 0 and sends nothing but PROPFINDs for the account
 *
 * (b), "every version a user wrote exists", needs the test's own record of what it wrote.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { ApacheServer } from '../testing/index.js';
import { JOURNAL_FILE } from '../sync/state-folder.js';
import { entriesOf, leftovers, manifest, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';
import type { CliRun } from './testing.js';

export interface JournalView {
  integrity: string;
  /** Paths of the synced file rows, relative (no leading '/'). */
  files: string[];
}

/** Reads the journal beside a running or stopped engine (read-only; WAL readers do not block it). */
export function journalView(state: string): JournalView {
  const db = new Database(join(state, JOURNAL_FILE), { readonly: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    const files = (db.prepare("SELECT path FROM entries WHERE kind = 'file' AND placement = 'synced'").all() as { path: string }[]).map((r) => r.path.slice(1));
    return { integrity, files };
  } finally {
    db.close();
  }
}

/**
 * Asserts (a), (c), (d) and (e); `why` goes into every message (a seed, a round). The idle pass
 * runs as a child process unless `pass` says otherwise (in-process is faster for many rounds).
 * Returns the local manifest.
 */
export async function expectConverged(a: ScenarioAccount, apache: ApacheServer, why: string, pass: () => Promise<CliRun> = () => a.proc('sync', '--once')): Promise<Map<string, string>> {
  const local = await manifest(a.local);
  expect(entriesOf(local), `(a) both sides identical: ${why}`).toEqual(entriesOf(await manifest(a.remoteDir)));
  expect(await leftovers(a.local), `(c) local leftovers: ${why}`).toEqual([]);
  expect(await leftovers(a.remoteDir), `(c) server leftovers: ${why}`).toEqual([]);
  expect(await stagingLeftovers(a.state), `(c) staging leftovers: ${why}`).toEqual([]);
  const j = journalView(a.state);
  expect(j.integrity, `(d) integrity_check: ${why}`).toBe('ok');
  expect(j.files.sort(), `(d) journal rows = files on disk: ${why}`).toEqual([...local.keys()].sort());
  const before = apache.accessLog().length;
  const again = await pass();
  expect(again.code, `(e) idle pass: ${again.stderr} ${why}`).toBe(0);
  const moved = apache
    .accessLog()
    .slice(before)
    .filter((e) => e.method !== 'PROPFIND' && e.target.includes(`/${a.id}/`))
    .map((e) => `${e.method} ${e.target}`);
  expect(moved, `(e) an idle pass moves nothing: ${why}`).toEqual([]);
  return local;
}
