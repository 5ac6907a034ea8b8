/**
 * S4 over the WebSocket: malformed messages, unknown commands, wrong arguments and paths
 * outside the sync folder (by name, or through a symlinked folder inside it) are refused every
 * time, and nothing changes: the journal's tables, the sync folder, the folder the symlink
 * points to and the remote are compared before and after.
 */
import Database from 'better-sqlite3';
import { lstat, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initStateFolder } from '../sync/state-folder.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { startTestHost, type TestHost, type WsClient } from './testing.js';

let tmp: TempDir;
let t: TestHost;
let ws: WsClient;
let dirs: { remote: string; local: string; outside: string; state: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const info = await lstat(p);
      out.push(`${rel}/${name} ${info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'link' : `${info.size} ${info.mtimeMs}`}`);
      if (info.isDirectory()) await walk(p, `${rel}/${name}`);
    }
  };
  await walk(dir, '');
  return out;
}

function journalDump(): Record<string, unknown[]> {
  const db = new Database(join(dirs.state, 'journal.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all()]));
  } finally {
    db.close();
  }
}

async function snapshot(): Promise<unknown> {
  return { journal: journalDump(), local: await tree(dirs.local), outside: await tree(dirs.outside), remote: await tree(dirs.remote), secret: await readFile(join(dirs.outside, 'secret.txt'), 'utf8') };
}

beforeAll(async () => {
  tmp = await makeTempDir('netfs-host-s4-');
  dirs = { remote: join(tmp.path, 'remote'), local: join(tmp.path, 'Sync'), outside: join(tmp.path, 'outside'), state: join(tmp.path, 'state') };
  await mkdir(join(dirs.remote, 'sub'), { recursive: true });
  await writeFile(join(dirs.remote, 'a.txt'), 'alpha');
  await writeFile(join(dirs.remote, 'sub', 'b.txt'), 'bravo');
  await mkdir(dirs.outside);
  await writeFile(join(dirs.outside, 'secret.txt'), 'outside the sync folder');
  await initStateFolder(dirs.state, { remote: pathToFileURL(dirs.remote).href, local: dirs.local });
  t = await startTestHost({ stateDir: dirs.state, pollMs: 120_000 });
  ws = await t.connect();
  for (let i = 0; i < 100; i++) {
    const s = (await ws.call('sync.status', {})) as { value: { lastPass: unknown; sync: { state: string } } };
    if (s.value.lastPass !== null && s.value.sync.state === 'idle') break;
    await sleep(100);
  }
  expect(await readFile(join(dirs.local, 'sub', 'b.txt'), 'utf8')).toBe('bravo');
  // A symlink inside the sync folder that leads out of it, and a conflict-free, failure-free journal.
  await symlink(dirs.outside, join(dirs.local, 'link'));
  await symlink(join(dirs.outside, 'secret.txt'), join(dirs.local, 'sub', 'leak.txt'));
  await sleep(1500); // let the watcher's pass (it skips symlinks) come and go
});
afterAll(async () => {
  await t?.stop();
  await tmp?.remove();
});

/** The next reply after `send`: an error message, or the result of call `id`. */
async function reply(raw: string | Buffer | object, id?: number): Promise<Record<string, unknown>> {
  const before = ws.messages.length;
  ws.send(raw);
  return ws.next((m) => ws.messages.indexOf(m) >= before && (m.type === 'error' || (m.type === 'result' && m['id'] === id)));
}

describe('S4: refused without side effects', () => {
  it('malformed messages get an error reply; the connection stays usable', async () => {
    const before = await snapshot();
    const malformed: (string | Buffer | object)[] = [
      'not json{',
      Buffer.from([0xff, 0x00, 0x01]),
      '[]',
      '42',
      'null',
      '"call"',
      { type: 'nope' },
      { type: 'call' },
      { type: 'call', id: -1, command: 'sync.status', args: {} },
      { type: 'call', id: 1.5, command: 'sync.status', args: {} },
      { type: 'call', id: 1, command: 'files.pin', args: { path: '/a.txt' }, extra: 1 },
      { type: 'call', id: 1, command: 'x'.repeat(65), args: {} },
      { type: 'subscribe', streams: ['bogus'] },
      { type: 'subscribe', streams: 'log' },
      { type: 'auth', token: t.host.token },
    ];
    for (const m of malformed) {
      const r = await reply(m);
      expect(r['type'], JSON.stringify(m)).toBe('error');
      expect((r['error'] as { code: string }).code).toBe('INVALID_ARGUMENT');
    }
    // A binary frame is refused too (the ws library hands it over as binary).
    ws.ws.send(Buffer.from('{"type":"call","id":9,"command":"sync.status","args":{}}'), { binary: true });
    expect((await ws.next((m) => m.type === 'error' && ws.messages.indexOf(m) > ws.messages.length - 2))['type']).toBe('error');
    expect(await snapshot()).toEqual(before);
    expect(((await ws.call('sync.status', {})) as { ok: boolean }).ok).toBe(true);
  });

  it('unknown commands and wrong arguments: INVALID_ARGUMENT results, nothing run', async () => {
    const before = await snapshot();
    const calls: [string, unknown][] = [
      ['files.delete', { path: '/a.txt' }],
      ['__proto__', {}],
      ['constructor', {}],
      ['toString', {}],
      ['files.pin', {}],
      ['files.pin', { path: 'a.txt' }],
      ['files.pin', { path: '/a.txt', recursive: true }],
      ['files.pin', { path: 42 }],
      ['files.pin', null],
      ['files.pin', 'path=/a.txt'],
      ['settings.set', { key: 'transfers', value: 1000 }],
      ['settings.set', { key: 'transfers', value: 2.5 }],
      ['settings.set', { key: 'nope', value: 1 }],
      ['settings.set', { key: '__proto__', value: 1 }],
      ['cache.setLimit', { bytes: -1 }],
      ['account.remove', { confirm: false }],
      ['account.add', { remote: 'file:///tmp', user: null, password: null, local: '/tmp/x' }],
      ['conflicts.resolve', { path: '/a.txt', keep: 'mine' }],
      ['files.preview', { path: '/a.txt', length: 2 * 1024 * 1024 }],
    ];
    let id = 100;
    for (const [command, args] of calls) {
      const r = await reply({ type: 'call', id: ++id, command, args }, id);
      const result = r['result'] as { ok: boolean; error: { code: string } };
      expect(result.ok, `${command} ${JSON.stringify(args)}`).toBe(false);
      expect(['INVALID_ARGUMENT', 'CONFLICT']).toContain(result.error.code);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('paths outside the sync folder by name ("..", ".", "//", "\\\\", NUL, the client\'s own files): refused by every path command', async () => {
    const before = await snapshot();
    const bad = ['/../outside/secret.txt', '/sub/../../outside', '/./a.txt', '//a.txt', '/a.txt/', '/sub\\..\\..\\x', '/a\u0000b', '..', '', '/.netfs-root', `${dirs.outside}/secret.txt`.replace(/^\//, '/../../../..')];
    let id = 200;
    for (const path of bad) {
      for (const [command, extra] of [
        ['files.list', {}],
        ['files.pin', {}],
        ['files.unpin', {}],
        ['files.open', {}],
        ['files.preview', {}],
        ['failures.retry', {}],
        ['conflicts.resolve', { keep: 'ours' }],
      ] as const) {
        const r = await reply({ type: 'call', id: ++id, command, args: { path, ...extra } }, id);
        const result = r['result'] as { ok: boolean; error: { code: string; message: string } };
        expect(result.ok, `${command} ${JSON.stringify(path)}`).toBe(false);
        expect(result.error.code, `${command} ${JSON.stringify(path)}: ${result.error.message}`).toBe('INVALID_ARGUMENT');
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('paths through a symlinked folder (or a symlink) inside the sync folder: FORBIDDEN, the folder it leads to untouched', async () => {
    const before = await snapshot();
    const cases: [string, Record<string, unknown>][] = [
      ['files.list', { path: '/link' }],
      ['files.pin', { path: '/link/secret.txt' }],
      ['files.pin', { path: '/link' }],
      ['files.unpin', { path: '/link/secret.txt' }],
      ['files.open', { path: '/link/secret.txt' }],
      ['files.open', { path: '/sub/leak.txt' }],
      ['files.preview', { path: '/link/secret.txt' }],
      ['files.preview', { path: '/sub/leak.txt' }],
      ['failures.retry', { path: '/link/secret.txt' }],
      ['conflicts.resolve', { path: '/link/secret.txt', keep: 'theirs' }],
      ['trash.restore', { id: '/link/secret.txt' }],
    ];
    let id = 400;
    for (const [command, args] of cases) {
      const r = await reply({ type: 'call', id: ++id, command, args }, id);
      const result = r['result'] as { ok: boolean; error: { code: string; message: string } };
      expect(result.ok, `${command} ${JSON.stringify(args)}`).toBe(false);
      expect(result.error.code, `${command}: ${result.error.message}`).toBe('FORBIDDEN');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a message over 1 MiB closes the socket (1009) and runs nothing', async () => {
    const before = await snapshot();
    const big = new (await import('./testing.js')).WsClient(t.wsUrl, { protocols: [`netfs.token.${t.host.token}`] });
    await big.next((m) => m.type === 'hello');
    big.send({ type: 'call', id: 1, command: 'files.pin', args: { path: `/${'x'.repeat(1024 * 1024)}` } });
    expect((await big.closed).code).toBe(1009);
    expect(big.messages.filter((m) => m.type === 'result')).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});
