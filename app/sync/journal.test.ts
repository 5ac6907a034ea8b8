import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, statSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { backoffDelayMs, Journal, MAX_BACKOFF_MS } from './journal.js';
import { MIGRATIONS, type Migration } from './journal-schema.js';
import type { BaseEntry } from './model.js';
import { plan } from './plan.js';

let tmp: TempDir;
let file: string;
beforeEach(async () => {
  tmp = await makeTempDir('netfs-journal-');
  file = join(tmp.path, 'journal.sqlite');
});
afterEach(async () => {
  await tmp.remove();
});

const row = (path: string, over: Partial<BaseEntry> = {}): BaseEntry => ({ path, kind: 'file', etag: '"e"', remoteSize: 3, remoteMtimeMs: 1.5, localSize: 3, localMtimeMs: 2.25, localIno: 7, ...over });

describe('journal: opening and migrations', () => {
  it('creates a fresh journal in WAL mode at the current schema version, and says so', () => {
    const j = Journal.open(file);
    expect(j.openReport).toEqual({ file, created: true, reset: null });
    expect(j.schemaVersion()).toBe(MIGRATIONS.length);
    j.close();
    const again = Journal.open(file);
    expect(again.openReport.created).toBe(false);
    again.close();
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('applies only the migrations a file lacks, in order, each once', () => {
    const ran: number[] = [];
    const m = (version: number, sql: string): Migration => ({ version, description: `v${version}`, up: (db) => (ran.push(version), db.exec(sql)) });
    const v1 = m(1, 'CREATE TABLE a (x)');
    const v2 = m(2, 'CREATE TABLE b (x)');
    const v3 = m(3, 'ALTER TABLE b ADD COLUMN y');
    Journal.open(file, { migrations: [v1] }).close();
    const j = Journal.open(file, { migrations: [v1, v2, v3] });
    expect(j.schemaVersion()).toBe(3);
    j.close();
    expect(ran).toEqual([1, 2, 3]);
  });

  it('a migration that fails leaves the file at its old version, with nothing of the failed run applied', () => {
    const v1: Migration = { version: 1, description: 'a', up: (db) => db.exec('CREATE TABLE a (x)') };
    const v2: Migration = { version: 2, description: 'b', up: (db) => db.exec('CREATE TABLE b (x)') };
    const v3: Migration = { version: 3, description: 'broken', up: (db) => db.exec('CREATE TABLE c (x); SELECT * FROM no_such_table') };
    Journal.open(file, { migrations: [v1] }).close();
    expect(() => Journal.open(file, { migrations: [v1, v2, v3] })).toThrow(expect.objectContaining({ code: 'IO', message: expect.stringContaining('no_such_table') }));
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(['a']);
    db.close();
  });

  it('a file from a newer build is refused with a clear error and left where it is', () => {
    Journal.open(file).close();
    const db = new Database(file);
    db.pragma('user_version = 9');
    db.close();
    expect(() => Journal.open(file)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/schema version 9 is newer than this build knows \(2\)/) }));
    expect(readdirSync(tmp.path).filter((n) => n.includes('corrupt'))).toEqual([]);
  });
});

describe('journal: entries', () => {
  it('records, reads back exactly, and forgets base rows in batches', () => {
    const j = Journal.open(file);
    j.recordSynced([row('/a', { kind: 'folder', etag: null, remoteSize: null, localSize: 0 }), row('/a/b'), row('/ab', { placement: 'online-only' })]);
    const base = j.base();
    expect(base.get('/a/b')).toEqual({ ...row('/a/b'), placement: 'synced' });
    expect(base.get('/a')).toMatchObject({ kind: 'folder', etag: null, remoteSize: null });
    expect(base.get('/ab')?.placement).toBe('online-only');
    j.recordSynced([row('/a/b', { etag: '"f"' })]);
    expect(j.entry('/a/b')?.etag).toBe('"f"');
    j.forget(['/ab']);
    expect([...j.base().keys()].sort()).toEqual(['/a', '/a/b']);
    j.recordSynced([row('/ab'), row('/a/b/c')]);
    j.forgetTree('/a');
    expect([...j.base().keys()]).toEqual(['/ab']);
    j.close();
  });

  it('syncedFileCount counts synced files only (folders and online-only files left out), as base() would', () => {
    const j = Journal.open(file);
    j.recordSynced([row('/a', { kind: 'folder', etag: null, remoteSize: null, localSize: 0 }), row('/a/b'), row('/a/c'), row('/ab', { placement: 'online-only' })]);
    expect(j.syncedFileCount()).toBe(2);
    expect(j.syncedFileCount()).toBe([...j.base().values()].filter((e) => e.kind === 'file' && e.placement === 'synced').length);
    j.forget(['/a/b']);
    expect(j.syncedFileCount()).toBe(1);
    j.close();
  });

  it('a batch is one transaction: an error inside leaves nothing of it', () => {
    const j = Journal.open(file);
    expect(() =>
      j.batch(() => {
        j.recordSynced([row('/x')]);
        j.forget(['/x']);
        j.recordSynced([row('/y')]);
        throw new Error('boom');
      }),
    ).toThrow(expect.objectContaining({ code: 'IO', message: expect.stringContaining('boom') }));
    expect(j.entryCount()).toBe(0);
    j.close();
  });
});

describe('journal: pins (DESIGN §1)', () => {
  it('placementOf resolves the nearest pinned ancestor, default synced; pins work for paths never discovered', () => {
    const j = Journal.open(file);
    expect(j.placementOf('/photos/2024/a.jpg')).toBe('synced');
    j.unpin('/photos');
    expect(j.placementOf('/photos')).toBe('online-only');
    expect(j.placementOf('/photos/2024/a.jpg')).toBe('online-only');
    expect(j.placementOf('/photosx')).toBe('synced');
    j.pin('/photos/2024/a.jpg'); // a file overrides its folder
    expect(j.placementOf('/photos/2024/a.jpg')).toBe('synced');
    expect(j.placementOf('/photos/2024/b.jpg')).toBe('online-only');
    j.clearPin('/photos/2024/a.jpg');
    expect(j.placementOf('/photos/2024/a.jpg')).toBe('online-only');
    expect(j.entryCount()).toBe(0);
    j.close();
  });

  it('setting a folder clears the overrides below it; unpinning the root makes everything online-only', () => {
    const j = Journal.open(file);
    j.unpin('/a/b');
    j.pin('/a/b/c');
    j.unpin('/a/bc');
    j.unpin('/a/b'); // clears /a/b/c, not its neighbour /a/bc
    expect([...j.pins()]).toEqual([['/a/b', 'online-only'], ['/a/bc', 'online-only']]);
    j.pin('/a');
    expect([...j.pins()]).toEqual([['/a', 'synced']]);
    j.unpin('/');
    expect([...j.pins()]).toEqual([['/', 'online-only']]);
    expect(j.placementOf('/anything/deep')).toBe('online-only');
    j.close();
  });

  it('placements() is a snapshot for one planner pass; bad paths are refused', () => {
    const j = Journal.open(file);
    const before = j.placements();
    j.unpin('/x');
    expect(before('/x/y')).toBe('synced');
    expect(j.placements()('/x/y')).toBe('online-only');
    expect(() => j.pin('x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => j.unpin('/a/')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    j.close();
  });

  it('pins survive a reopen, and a second connection sees them at once (a CLI beside the engine)', () => {
    const engine = Journal.open(file);
    const cli = Journal.open(file);
    cli.unpin('/big');
    expect(engine.placementOf('/big/file')).toBe('online-only');
    cli.close();
    engine.close();
    const again = Journal.open(file);
    expect(again.placementOf('/big/file')).toBe('online-only');
    again.close();
  });
});

describe('journal: failures and backoff (issue 5 item 7, F6)', () => {
  it('F6: the schedule is 25 s, x5 each time, capped at 24 h', () => {
    const s = 1000;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, 25 * s))).toEqual([25 * s, 125 * s, 625 * s, 3125 * s, 15625 * s, 78125 * s, MAX_BACKOFF_MS]);
    expect(MAX_BACKOFF_MS).toBe(86_400_000);
  });

  it('F6: each real attempt raises the count and the wait; reason and times are kept', () => {
    const j = Journal.open(file);
    const t0 = 1_000_000;
    const f1 = j.recordFailure('/f', { code: 'TRANSIENT', message: '500 Internal Server Error' }, t0);
    expect(f1).toEqual({ path: '/f', code: 'TRANSIENT', message: '500 Internal Server Error', attempts: 1, firstFailedMs: t0, lastFailedMs: t0, nextRetryMs: t0 + 25_000 });
    expect(j.inBackoff(t0 + 24_999)).toEqual(new Set(['/f']));
    expect(j.inBackoff(t0 + 25_000)).toEqual(new Set());
    const f2 = j.recordFailure('/f', { code: 'TRANSIENT', message: 'again' }, t0 + 30_000);
    expect(f2).toMatchObject({ attempts: 2, firstFailedMs: t0, lastFailedMs: t0 + 30_000, nextRetryMs: t0 + 30_000 + 125_000, message: 'again' });
    expect(j.failures()).toEqual([f2]);
    j.close();
  });

  it('F6: a local edit retries at once; the count is kept so the backoff resumes; success clears the record', () => {
    const j = Journal.open(file);
    j.recordFailure('/f', { code: 'TRANSIENT', message: 'x' }, 0);
    j.recordFailure('/f', { code: 'TRANSIENT', message: 'x' }, 1);
    j.retryNow('/f');
    expect(j.inBackoff(2)).toEqual(new Set());
    expect(j.failure('/f')).toMatchObject({ attempts: 2, nextRetryMs: 0 });
    expect(j.recordFailure('/f', { code: 'TRANSIENT', message: 'x' }, 10)).toMatchObject({ attempts: 3, nextRetryMs: 10 + 625_000 });
    j.clearFailure('/f');
    expect(j.failure('/f')).toBeUndefined();
    j.close();
  });

  it("the base is a setting (tests use 1 s); a server's Retry-After longer than the backoff wins", () => {
    const j = Journal.open(file);
    j.setSetting('backoffBaseMs', 1000);
    expect(j.recordFailure('/a', { code: 'LOCKED', message: '423' }, 0).nextRetryMs).toBe(1000);
    expect(j.recordFailure('/a', { code: 'LOCKED', message: '423' }, 0).nextRetryMs).toBe(5000);
    expect(j.recordFailure('/b', { code: 'TRANSIENT', message: '429', retryAfterMs: 7000 }, 0).nextRetryMs).toBe(7000);
    j.close();
  });
});

describe('journal: conflicts, trash, settings, pending', () => {
  it('records, lists and resolves conflicts', () => {
    const j = Journal.open(file);
    const c1 = { path: '/r.txt', copyPath: '/r (conflicted copy 2025-01-01 120000).txt', createdMs: 5, ourSize: 3, ourMtimeMs: 9.5, theirEtag: '"t"' };
    const c2 = { ...c1, copyPath: '/r (conflicted copy 2025-01-01 120000) 2.txt', createdMs: 6 };
    j.addConflict(c1);
    j.addConflict(c2);
    j.addConflict({ ...c1, path: '/other', copyPath: '/other (conflicted copy 2025-01-01 120000)' });
    expect(j.conflicts('/r.txt')).toEqual([c1, c2]);
    expect(j.conflicts()).toHaveLength(3);
    expect(j.resolveConflict(c1.copyPath)).toEqual(c1);
    expect(j.resolveConflict(c1.copyPath)).toBeUndefined();
    expect(j.conflicts('/r.txt')).toEqual([c2]);
    j.close();
  });

  it('keeps trash rows', () => {
    const j = Journal.open(file);
    const t = { id: 'abc', originalPath: '/d/a.txt', fileName: 'abc-a.txt', kind: 'file' as const, size: 12, deletedMs: 77 };
    j.addTrash(t);
    expect(j.trashEntries()).toEqual([t]);
    expect(j.trashEntry('abc')).toEqual(t);
    j.removeTrash('abc');
    expect(j.trashEntries()).toEqual([]);
    j.close();
  });

  it('settings have typed defaults, are checked, and persist', () => {
    const j = Journal.open(file);
    expect(j.settings()).toEqual({ backoffBaseMs: 25_000, rescanIntervalMs: 3_600_000, debounceMs: 1000, remotePollMs: 30_000, transfers: 4, bandwidthUpBytesPerSec: 0, bandwidthDownBytesPerSec: 0, cacheLimitBytes: 0 });
    j.setSetting('transfers', 8);
    j.setSetting('bandwidthDownBytesPerSec', 750 * 1024);
    expect(() => j.setSetting('transfers', 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('transfers') }));
    expect(() => j.setSetting('transfers', 2.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => j.setting('nope' as 'transfers')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('known: backoffBaseMs') }));
    j.close();
    const again = Journal.open(file);
    expect(again.setting('transfers')).toBe(8);
    expect(again.setting('bandwidthDownBytesPerSec')).toBe(768_000);
    again.resetSetting('transfers');
    expect(again.setting('transfers')).toBe(4);
    again.close();
  });

  it('keeps queued local changes until they are cleared', () => {
    const j = Journal.open(file);
    j.markPending(['/a', '/b'], 100);
    j.markPending(['/a'], 200); // the first time is kept
    expect(j.pending()).toEqual(new Map([['/a', 100], ['/b', 100]]));
    j.clearPending(['/a']);
    expect([...j.pending().keys()]).toEqual(['/b']);
    j.close();
  });
});

describe('journal: corruption (C6)', () => {
  function filled(): void {
    const j = Journal.open(file);
    const rows: BaseEntry[] = [];
    for (let i = 0; i < 2000; i++) rows.push(row(`/docs/file-${i}.txt`, { localIno: i + 1 }));
    j.recordSynced(rows);
    j.pin('/docs');
    j.close(); // a clean close checkpoints the WAL into the file
  }

  it('C6: one page overwritten between runs is detected at open; the file is moved aside and a fresh journal starts', () => {
    filled();
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(20 * 4096);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * 5); // page 6, inside the entries b-tree
    closeSync(fd);
    const j = Journal.open(file, { now: () => Date.UTC(2025, 2, 7, 14, 25, 1) });
    expect(j.openReport.created).toBe(true);
    expect(j.openReport.reset).toMatchObject({ movedTo: `${file}.corrupt-20250307T142501Z` });
    expect(j.openReport.reset?.reason).toMatch(/quick_check|malformed|corrupt/i);
    expect(statSync(`${file}.corrupt-20250307T142501Z`).size).toBe(size);
    expect(j.entryCount()).toBe(0);
    expect(j.integrityCheck()).toBe('ok');
    j.close();
  });

  it('C6: a file that is not a database at all (its header overwritten) is moved aside too, -wal and -shm with it', () => {
    filled();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x33), 0, 4096, 0);
    closeSync(fd);
    writeFileSync(`${file}-wal`, 'left over');
    const j = Journal.open(file, { now: () => 0 });
    const movedTo = j.openReport.reset?.movedTo ?? '';
    expect(movedTo).toBe(`${file}.corrupt-19700101T000000Z`);
    expect(existsSync(`${movedTo}-wal`)).toBe(true); // renamed, never deleted
    expect(j.base().size).toBe(0);
    j.close();
  });

  it('C6: after a reset the next pass plans no deletes: files present on both sides are compared', () => {
    filled();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x33), 0, 4096, 0);
    closeSync(fd);
    const j = Journal.open(file);
    const local = new Map([['/docs', { path: '/docs', kind: 'folder' as const, size: 0, mtimeMs: 1, ino: 1 }], ['/docs/a', { path: '/docs/a', kind: 'file' as const, size: 4, mtimeMs: 9, ino: 2 }]]);
    const remote = new Map([
      ['/docs', { path: '/docs', name: 'docs', kind: 'folder' as const, size: null, etag: '"d"', etagStrength: 'strong' as const, mtimeMs: 1, contentType: null }],
      ['/docs/a', { path: '/docs/a', name: 'a', kind: 'file' as const, size: 5, etag: '"a2"', etagStrength: 'strong' as const, mtimeMs: 1, contentType: null }],
    ]);
    const p = plan(j.base(), local, remote, { placementOf: j.placements(), blind: { remoteFolders: [], remotePaths: [], localPaths: [] } });
    expect(p.actions.map((a) => a.type)).toEqual(['record', 'compare']);
    j.close();
  });

  it('a reader beside the engine does not move a corrupt journal aside: it throws IO', () => {
    filled();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(100, 0x33), 0, 100, 0);
    closeSync(fd);
    expect(() => Journal.open(file, { onCorrupt: 'throw' })).toThrow(expect.objectContaining({ code: 'IO', message: expect.stringContaining('corrupt') }));
    expect(readdirSync(tmp.path).filter((n) => n.includes('corrupt'))).toEqual([]);
  });
});

describe('journal: a process killed mid-transaction (C4)', () => {
  const here = fileURLToPath(new URL('.', import.meta.url));

  async function killMidBatch(sync: 'NORMAL' | 'FULL'): Promise<number> {
    const child = spawn(process.execPath, ['--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'testing-journal-child.ts'), file, sync, 'batches'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('COMMITTED 3\n')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 40)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const committed = [...out.matchAll(/COMMITTED (\d+)\n/g)].map((m) => Number(m[1]));
    return Math.max(...committed);
  }

  for (const sync of ['NORMAL', 'FULL'] as const) {
    it(`C4 (synchronous=${sync}): integrity ok, every batch fully present or fully absent, committed batches all there, -wal left to SQLite`, async () => {
      const lastReported = await killMidBatch(sync);
      expect(existsSync(`${file}-wal`)).toBe(true);
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
      const j = Journal.open(file);
      expect(j.openReport.reset).toBeNull();
      expect(j.integrityCheck()).toBe('ok');
      const perBatch = new Map<number, number>();
      for (const path of j.base().keys()) {
        const n = Number(/^\/b(\d+)\//.exec(path)?.[1]);
        perBatch.set(n, (perBatch.get(n) ?? 0) + 1);
      }
      for (const [, count] of perBatch) expect(count).toBe(10_000);
      for (let n = 1; n <= lastReported; n++) expect(perBatch.get(n)).toBe(10_000);
      expect(Math.max(...perBatch.keys())).toBeLessThanOrEqual(lastReported + 1);
      expect(existsSync(`${file}-wal`)).toBe(true); // still SQLite's while the journal is open
      j.close();
    });
  }
});

describe('journal: a write that fails (F19)', () => {
  const here = fileURLToPath(new URL('.', import.meta.url));

  it('F19: EIO on every write to the WAL fails the batch cleanly as IO; the next clean open finds the old state, not a "corrupt" file', async () => {
    const j = Journal.open(file);
    j.recordSynced([row('/before')]);
    j.close();
    const log = join(tmp.path, 'strace.log');
    const args = ['-f', '-qq', '-o', log, '-P', `${file}-wal`, '-e', 'trace=pwrite64,write', '-e', 'inject=pwrite64,write:error=EIO'];
    const child = spawn('strace', [...args, process.execPath, '--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'testing-journal-child.ts'), file, 'NORMAL', 'once'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, err).toBe(0);
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { code?: string; message?: string };
    expect(result.code).toBe('IO');
    expect(result.message).toContain(`journal ${file}: record entries failed`);
    expect(readFileSync(log, 'utf8')).toMatch(/EIO \(Input\/output error\) \(INJECTED\)/);
    const again = Journal.open(file);
    expect(again.openReport.reset).toBeNull();
    expect(again.integrityCheck()).toBe('ok');
    expect([...again.base().keys()]).toEqual(['/before']);
    again.close();
  });
});
