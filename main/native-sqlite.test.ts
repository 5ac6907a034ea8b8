// better-sqlite3 loading its addon from another file (what the Electron main process does with
// the Electron build that `npm start` makes). Here the "other build" is a copy of the Node build,
// which this process can load; that the copy, not the original, is mapped is read from
// /proc/self/maps. Real addon, real SQLite; this file's process has opened no database before.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteAddonPath, useElectronSqlite } from './native-sqlite.js';

const tmp = mkdtempSync(join(tmpdir(), 'netfs-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('useElectronSqlite', () => {
  it('does nothing when the Electron build is not there', () => {
    expect(useElectronSqlite(join(tmp, 'missing.node'))).toBe(false);
  });

  it('makes better-sqlite3 load its addon from the given file, and SQLite works through it', () => {
    const copy = join(tmp, 'electron-build', 'better_sqlite3.node');
    mkdirSync(join(tmp, 'electron-build'));
    copyFileSync(sqliteAddonPath(), copy);
    expect(useElectronSqlite(copy)).toBe(true);
    const req = createRequire(import.meta.url);
    const Database = req('better-sqlite3') as new (file: string) => { prepare(sql: string): { get(): unknown }; close(): void };
    const db = new Database(':memory:');
    expect(db.prepare('select 40 + 2 as answer').get()).toEqual({ answer: 42 });
    db.close();
    const maps = readFileSync('/proc/self/maps', 'utf8');
    expect(maps).toContain(copy);
    expect(maps).not.toContain(sqliteAddonPath());
  });
});
