// Safety rails end to end through `netfs-sync` against a real Apache (issue 5 items 6, 8, 10):
// F17 (mass delete and a missing or emptied sync root are held until `--yes`), the engine lock
// beside a running `sync` child, `--dry-run`, ignore patterns, and log redaction.
import { once } from 'node:events';
import { readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, startFaultProxy, type ApacheServer, type FaultProxy } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, allPaths, entriesOf, exists, manifest, sleep } from './scenario-kit.js';
import { cli, cliProcess, spawnCli } from './testing.js';

// A password with characters that JSON and URLs escape, so a leak in any encoding shows.
const PASSWORD = 'Pw-7"q\\uS3cr3t zeta';

let apache: ApacheServer;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache({ password: PASSWORD });
  temp = await makeTempDir('netfs-scen-safety-');
});
afterAll(async () => {
  await apache.stop();
  await temp.remove();
});

const twelve = (): Record<string, string> => Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${String(i).padStart(2, '0')}.txt`, `file ${i}`]));

describe('F17: mass deletes and a missing sync root are held until confirmed', () => {
  it('F17: 7 of 12 synced files deleted locally -> exit 4, nothing deleted on either side; sync --once --yes carries it out', async () => {
    const a = await account({ server: apache, work: temp.path, files: twelve() });
    expect((await a.run('sync', '--once')).code).toBe(0);
    for (let i = 0; i < 7; i++) await unlink(join(a.local, `f${String(i).padStart(2, '0')}.txt`));
    const serverBefore = await manifest(a.remoteDir);
    const localBefore = await manifest(a.local);
    const held = await a.run('sync', '--once');
    expect(held.code).toBe(4);
    expect(held.stderr).toMatch(/plan held/);
    expect(held.stderr).toMatch(/--yes/);
    expect(entriesOf(await manifest(a.remoteDir))).toEqual(entriesOf(serverBefore));
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(localBefore));
    expect(serverBefore.size).toBe(12);
    // Held again on the next try: nothing was recorded meanwhile.
    expect((await a.run('sync', '--once')).code).toBe(4);
    const yes = await a.run('sync', '--once', '--yes');
    expect(yes.stderr).toBe('');
    expect(yes.code).toBe(0);
    expect([...(await manifest(a.remoteDir)).keys()].sort()).toEqual(['f07.txt', 'f08.txt', 'f09.txt', 'f10.txt', 'f11.txt']);
  });

  it('F17: 10 of 12 files deleted on the server -> held, every local copy kept; --yes moves them to the trash', async () => {
    const a = await account({ server: apache, work: temp.path, files: twelve() });
    expect((await a.run('sync', '--once')).code).toBe(0);
    for (let i = 0; i < 10; i++) await unlink(join(a.remoteDir, `f${String(i).padStart(2, '0')}.txt`));
    const held = await a.run('sync', '--once');
    expect(held.code).toBe(4);
    expect((await manifest(a.local)).size).toBe(12);
    const yes = await a.run('sync', '--once', '--yes');
    expect(yes.code).toBe(0);
    expect([...(await manifest(a.local)).keys()].sort()).toEqual(['f10.txt', 'f11.txt']);
    const trash = JSON.parse((await a.run('trash', 'ls', '--json')).stdout) as { originalPath: string }[];
    expect(trash).toHaveLength(10);
  });

  it('F17: the sync root emptied (marker gone too) -> held, nothing deleted on the server', async () => {
    const a = await account({ server: apache, work: temp.path, files: { ...twelve(), 'd/deep.txt': 'deep' } });
    expect((await a.run('sync', '--once')).code).toBe(0);
    for (const name of await readdir(a.local)) await rm(join(a.local, name), { recursive: true, force: true });
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/missing or empty/);
    expect((await manifest(a.remoteDir)).size).toBe(13);
    expect(await readdir(a.local)).toEqual([]);
  });

  it('F17: the sync root itself missing (unmounted) -> held even with --yes; nothing deleted, the root not re-created', async () => {
    const a = await account({ server: apache, work: temp.path, files: twelve() });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await rm(a.local, { recursive: true, force: true });
    for (const args of [['sync', '--once'], ['sync', '--once', '--yes']]) {
      const r = await a.run(...args);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/missing or empty/);
    }
    expect((await manifest(a.remoteDir)).size).toBe(12);
    expect(await exists(a.local)).toBe(false);
  });

  it('F17: every file present but the .netfs-root marker missing (another folder mounted in its place) -> held', async () => {
    const a = await account({ server: apache, work: temp.path, files: twelve() });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await unlink(join(a.local, '.netfs-root'));
    await writeFile(join(a.local, 'f00.txt'), 'an edit in a folder that may not be ours');
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(4);
    expect(await readFile(join(a.remoteDir, 'f00.txt'), 'utf8')).toBe('file 0');
    expect((await manifest(a.remoteDir)).size).toBe(12);
  });
});

describe('the engine lock beside a running sync', () => {
  it('a second sync while a sync child runs: "already running (pid N)", exit 1; status, ls and read work beside it', async () => {
    const a = await account({ server: apache, work: temp.path, files: { 'x.txt': 'xx', 'd/y.txt': 'yyy' } });
    expect((await a.run('sync', '--once')).code).toBe(0);
    const child = spawnCli(['sync', '--state', a.state]);
    let childErr = '';
    child.stderr?.on('data', (b: Buffer) => (childErr += b.toString()));
    const exited = once(child, 'exit');
    try {
      const deadline = Date.now() + 20_000;
      while (!(await exists(join(a.state, 'engine.lock')))) {
        if (Date.now() > deadline) throw new Error(`the sync child never took the lock: ${childErr}`);
        await sleep(50);
      }
      const second = await cliProcess(['sync', '--once', '--state', a.state]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`already running (pid ${child.pid})`);
      const inProcess = await cli(['sync', '--state', a.state]);
      expect(inProcess.code).toBe(1);
      expect(inProcess.stderr).toContain(`already running (pid ${child.pid})`);
      const status = JSON.parse((await cli(['status', '--state', a.state, '--json'])).stdout) as { engine: { pid: number } | null };
      expect(status.engine?.pid).toBe(child.pid);
      const ls = await cli(['ls', '--state', a.state, '-R']);
      expect(ls.code).toBe(0);
      expect(ls.stdout).toMatch(/\/d\/y\.txt$/m);
      const read = await cli(['read', '--state', a.state, '/d/y.txt']);
      expect(read.code).toBe(0);
      expect(read.bytes.toString()).toBe('yyy');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(child.exitCode).toBe(0);
    expect(await exists(join(a.state, 'engine.lock'))).toBe(false);
    expect((await a.run('sync', '--once')).code).toBe(0);
  });
});

describe('--dry-run', () => {
  it('prints every planned action and changes nothing on either side nor in the journal', async () => {
    const a = await account({ server: apache, work: temp.path, files: { 'edit-here.txt': 'v1', 'edit-there.txt': 'v1', 'del-here.txt': 'd', 'del-there.txt': 'd', 'keep.txt': 'k' } });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'edit-here.txt'), 'v2 local');
    await writeFile(join(a.local, 'new-here.txt'), 'new');
    await unlink(join(a.local, 'del-here.txt'));
    await a.serverWrite('edit-there.txt', 'v2 server', 2_000);
    await a.serverWrite('new-there.txt', 'new there');
    await unlink(join(a.remoteDir, 'del-there.txt'));
    const local = await manifest(a.local);
    const server = await manifest(a.remoteDir);
    const statusBefore = (await a.run('status', '--json')).stdout;
    const logStart = apache.accessLog().length;
    const r = await a.run('sync', '--dry-run');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toEqual([
      'delete-local /del-there.txt',
      'delete-remote /del-here.txt',
      'download /edit-there.txt',
      'download /new-there.txt',
      'upload /edit-here.txt',
      'upload /new-here.txt',
    ]);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(local));
    expect(entriesOf(await manifest(a.remoteDir))).toEqual(entriesOf(server));
    expect((await a.run('status', '--json')).stdout.replace(/"lastSyncMs":\d+/, '')).toBe(statusBefore.replace(/"lastSyncMs":\d+/, ''));
    const log = apache.accessLog().slice(logStart);
    expect(log.filter((e) => !['PROPFIND', 'OPTIONS'].includes(e.method))).toEqual([]);
    // The real pass still does all of it.
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(await readFile(join(a.remoteDir, 'edit-here.txt'), 'utf8')).toBe('v2 local');
  });

  it('F17 with --dry-run: the held plan is listed, exit 4, nothing changed', async () => {
    const a = await account({ server: apache, work: temp.path, files: twelve() });
    expect((await a.run('sync', '--once')).code).toBe(0);
    for (let i = 0; i < 8; i++) await unlink(join(a.local, `f${String(i).padStart(2, '0')}.txt`));
    const r = await a.run('sync', '--dry-run');
    expect(r.code).toBe(4);
    expect(r.stdout.trim().split('\n').filter((l) => l.startsWith('delete-remote'))).toHaveLength(8);
    expect((await manifest(a.remoteDir)).size).toBe(12);
  });
});

describe('ignore patterns', () => {
  it('.netfs-ignore and the built-in temp patterns are never uploaded nor downloaded; the .netfs-root marker and .netfs-ignore never reach the server', async () => {
    const a = await account({ server: apache, work: temp.path, files: { 'srv.swp': 'server swap', 'srv/build/out.o': 'obj', 'srv/keep.txt': 'keep' } });
    await writeFile(join(a.local, '.netfs-ignore'), '*.log\n!keep.log\nbuild/\n/top-only.txt\n');
    const files: Record<string, string> = {
      'plain.txt': 'up',
      'notes.log': 'ignored by .netfs-ignore',
      'keep.log': 're-included',
      'build/a.o': 'ignored folder',
      'sub/build/b.o': 'ignored folder below',
      'top-only.txt': 'anchored pattern',
      'sub/top-only.txt': 'not anchored here: uploaded',
      'doc.txt.swp': 'vim swap',
      'backup.txt~': 'editor backup',
      '.~lock.report.odt#': 'libreoffice lock',
      '~$report.docx': 'office owner file',
      '.DS_Store': 'finder',
      'sub/dl.part': 'partial download',
      '.netfs-mine': 'client name at the top level',
    };
    for (const [p, text] of Object.entries(files)) {
      await a.localWrite(p, text);
    }
    const logStart = apache.accessLog().length;
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const onServer = (await allPaths(a.remoteDir)).filter((p) => !p.startsWith('srv'));
    expect(onServer).toEqual(['keep.log', 'plain.txt', 'sub', 'sub/top-only.txt']);
    const puts = apache.accessLog().slice(logStart).filter((e) => e.method === 'PUT').map((e) => decodeURIComponent(e.target.replace(/^.*\/s\d+-\d+\//, '')));
    expect(puts.sort()).toEqual(['keep.log', 'plain.txt', 'sub/top-only.txt']);
    expect(await exists(join(a.local, 'srv.swp'))).toBe(false);
    expect(await exists(join(a.local, 'srv/build'))).toBe(false);
    expect(await readFile(join(a.local, 'srv/keep.txt'), 'utf8')).toBe('keep');
    // Still left alone on the next pass, and nothing else to do.
    const again = apache.accessLog().length;
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(apache.accessLog().slice(again).filter((e) => e.method !== 'PROPFIND')).toEqual([]);
  });
});

describe('log redaction', () => {
  it('the password never appears in the state folder (logs included), stdout, stderr or --json, through init, syncs, a failing item and a refused login', async () => {
    const proxy: FaultProxy = await startFaultProxy({ target: apache.origin });
    try {
      const outputs: string[] = [];
      const state = join(temp.path, 'redact-state');
      const local = join(temp.path, 'redact-local');
      await apache.mkdir('redact');
      await apache.writeFile('redact/a.txt', 'a');
      const init = await cli(['init', '--state', state, '--remote', proxy.url(`${apache.url}redact/`), '--local', local, '--user', apache.user, '--password-env', 'NETFS_PW'], { NETFS_PW: PASSWORD });
      expect(init.code).toBe(0);
      outputs.push(init.stdout, init.stderr);
      const run = async (...args: string[]): Promise<number> => {
        // In this process (child processes are slow to start from TypeScript); one real child below.
        const r = await cli([...args, '--state', state]);
        outputs.push(r.stdout, r.stderr);
        return r.code;
      };
      const first = await cliProcess(['sync', '--once', '--state', state]);
      outputs.push(first.stdout, first.stderr);
      expect(first.code).toBe(0);
      await writeFile(join(local, 'b.txt'), 'bb');
      proxy.addRule({ match: { method: 'PUT', path: /b\.txt$/ }, action: { kind: 'status', status: 500, body: 'boom' } });
      expect(await run('sync', '--once')).toBe(5);
      proxy.clearRules();
      proxy.addRule({ match: { method: 'PROPFIND' }, action: { kind: 'status', status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' } } });
      expect(await run('sync', '--once')).toBe(1);
      proxy.clearRules();
      for (const args of [['status', '--json'], ['status'], ['ls', '-R', '--json'], ['conflicts', '--json'], ['config', 'get'], ['stats', '--json'], ['trash', 'ls', '--json']]) await run(...args);
      const encoded = [PASSWORD, JSON.stringify(PASSWORD).slice(1, -1), encodeURIComponent(PASSWORD), Buffer.from(`${apache.user}:${PASSWORD}`).toString('base64')];
      for (const text of outputs) for (const e of encoded) expect(text).not.toContain(e);
      const logText = await readFile(join(state, 'logs', 'netfs-sync.log'), 'utf8');
      expect(logText).toMatch(/b\.txt/);
      for (const rel of await allPaths(state)) {
        if (rel === 'secret') continue;
        const body = await readFile(join(state, rel)).catch(() => null);
        if (body === null) continue; // a folder
        for (const e of encoded) expect(body.includes(Buffer.from(e)), `${rel} holds the password`).toBe(false);
      }
      expect((await readFile(join(state, 'secret'), 'utf8'))).toBe(PASSWORD);
    } finally {
      await proxy.close();
    }
  });
});
