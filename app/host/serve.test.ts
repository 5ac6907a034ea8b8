/**
 * `netfs-sync serve` and `netfs-sync demo` as real processes: exactly one stdout line with the
 * UI address and a fresh 43-character token, the engine lock (a second serve or a sync on the
 * same state folder exits 1 "already running (pid N)"), a busy --port exits 1 naming it, and
 * SIGINT / SIGTERM stop it cleanly within 30 s.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnCli } from '../cli/testing.js';
import { initStateFolder } from '../sync/state-folder.js';
import { ensureDemoProfile } from './demo-profile.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { rawHttp } from './testing.js';

const UI_LINE = /^UI: http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]{43})\n$/;

interface Served {
  child: ChildProcess;
  /** The UI line (resolves when stdout has a whole line). */
  line: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; atMs: number }>;
}

function spawnServe(argv: string[], env: Record<string, string> = {}): Served {
  const child = spawnCli(argv, env);
  let stdout = '';
  let stderr = '';
  let gotLine: (l: string) => void = () => undefined;
  const line = new Promise<string>((resolve) => (gotLine = resolve));
  child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString('utf8');
    if (stdout.includes('\n')) gotLine(stdout);
  });
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exit = new Promise<Awaited<Served['exit']>>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, atMs: Date.now() })));
  void exit.then((e) => gotLine(`(exited ${e.code}) ${e.stderr}`));
  return { child, line, exit };
}

function parse(line: string): { port: number; token: string } {
  const m = UI_LINE.exec(line);
  if (m === null) throw new Error(`not the UI line: ${JSON.stringify(line)}`);
  return { port: Number(m[1]), token: m[2] ?? '' };
}

async function call(port: number, token: string, command: string, args: unknown): Promise<{ ok: boolean; value?: unknown }> {
  const r = await rawHttp({ port, method: 'POST', path: `/api/call/${command}`, headers: { Authorization: `Bearer ${token}`, 'X-Netfs': '1', 'Content-Type': 'application/json' }, body: JSON.stringify(args) });
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as { ok: boolean; value?: unknown };
}

let tmp: TempDir;
const children: ChildProcess[] = [];
let remote: string;
let configured: string;
let local: string;
let demoDir: string;
let a: Served;
let d: Served;

beforeAll(async () => {
  tmp = await makeTempDir('netfs-host-serve-');
  remote = join(tmp.path, 'remote');
  await mkdir(remote, { recursive: true });
  await writeFile(join(remote, 'hello.txt'), 'hello from the remote');
  configured = join(tmp.path, 'state-a');
  local = join(tmp.path, 'Sync-a');
  await initStateFolder(configured, { remote: pathToFileURL(remote).href, local });
  demoDir = join(tmp.path, 'demo-profile');
  // Started together: each process takes a while to load the TypeScript sources.
  a = spawnServe(['serve', '--state', configured, '--port', '0']);
  d = spawnServe(['demo'], { NETFS_DEMO_DIR: demoDir });
  children.push(a.child, d.child);
  await Promise.all([a.line, d.line]);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await tmp?.remove();
});

describe('netfs-sync serve and demo', () => {
  it('serve prints exactly one UI line; a second serve, a sync and a busy --port exit 1; SIGTERM stops it', async () => {
    const lineA = await a.line;
    const A = parse(lineA);
    const D = parse(await d.line);
    // A new token each launch.
    expect(A.token).not.toBe(D.token);
    expect(A.port).not.toBe(D.port);

    for (let i = 0; i < 100 && (await readFile(join(local, 'hello.txt'), 'utf8').catch(() => '')) === ''; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await readFile(join(local, 'hello.txt'), 'utf8')).toBe('hello from the remote');
    expect(await call(A.port, A.token, 'account.get', {})).toEqual({ ok: true, value: { remote: pathToFileURL(remote).href, user: null, local } });

    // One engine per state folder.
    const second = await cli(['serve', '--state', configured]);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe(`netfs-sync: already running (pid ${a.child.pid})\n`);
    const sync = await cli(['sync', '--once', '--state', configured]);
    expect(sync.code).toBe(1);
    expect(sync.stderr).toContain(`already running (pid ${a.child.pid})`);

    // A busy port: exit 1 naming it, nothing on stdout.
    const busy = await cli(['serve', '--state', join(tmp.path, 'state-c'), '--port', String(A.port)]);
    expect(busy.code).toBe(1);
    expect(busy.stdout).toBe('');
    expect(busy.stderr).toContain(`port ${A.port} on 127.0.0.1 is already in use`);
    expect((await cli(['serve', '--state', join(tmp.path, 'state-d'), '--port', '70000'])).code).toBe(2);

    const t0 = Date.now();
    a.child.kill('SIGTERM');
    const endA = await a.exit;
    expect(endA.code, endA.stderr).toBe(0);
    expect(endA.atMs - t0).toBeLessThan(30_000);
    expect(endA.stdout).toBe(lineA);
    // The lock went with it: the folder can be served again.
    expect((await readdir(configured)).includes('engine.lock')).toBe(false);
  });

  it('demo: makes the profile once (remote from resources/demo, a local-folder account, a sync folder), serves it, syncs the demo files; SIGINT stops it', async () => {
    const dir = demoDir;
    const { port, token } = parse(await d.line);
    const account = (await call(port, token, 'account.get', {})) as { value: { remote: string; local: string } };
    expect(account.value.remote).toBe(pathToFileURL(join(dir, 'remote')).href);
    expect(account.value.local).toBe(join(dir, 'Sync'));
    const welcome = join(dir, 'Sync', 'Welcome.md');
    for (let i = 0; i < 150 && (await readFile(welcome, 'utf8').catch(() => '')) === ''; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await readFile(welcome, 'utf8')).toContain('Welcome to the netfs-sync demo');
    const listed = (await call(port, token, 'files.list', { path: '/', recursive: true })) as { value: { path: string }[] };
    expect(listed.value.map((e) => e.path)).toEqual(expect.arrayContaining(['/Pictures/diagram.svg', '/Notes/shopping list.txt', '/Documents/recipes/bread.md']));
    const t0 = Date.now();
    d.child.kill('SIGINT');
    const end = await d.exit;
    expect(end.code, end.stderr).toBe(0);
    expect(end.atMs - t0).toBeLessThan(30_000);
    expect(end.stdout.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect((await readdir(join(dir, 'state'))).includes('engine.lock')).toBe(false);
    // Made once: the next run uses the profile as it is (the account, the files and edits stay).
    await writeFile(join(dir, 'remote', 'Notes', 'mine.txt'), 'an edit');
    const again = await ensureDemoProfile({ NETFS_DEMO_DIR: dir });
    expect(again).toMatchObject({ created: false, state: join(dir, 'state') });
    expect(await readFile(join(dir, 'remote', 'Notes', 'mine.txt'), 'utf8')).toBe('an edit');
  });
});
