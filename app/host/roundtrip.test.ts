/**
 * Every command of the contract round-trips over the WebSocket transport against a real host
 * (AppService + startHost) with a real Apache-backed account, answers checked against the
 * contract by deriveClient. Table-driven over COMMAND_NAMES: a command without a case fails
 * the first test; the cases run in ORDER, each leaving the state the next one needs (an
 * uninitialised state folder -> account.add -> … -> account.remove).
 */
import { chmod, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, type CommandName, type CommandRequest, type CommandResult, type EventUpdate, type Result } from '../api/contract.js';
import type { Client } from '../api/derive.js';
import { startApache, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { startTestHost, type TestHost, type WsClient } from './testing.js';

const PASSWORD = 'Roundtrip-Secret-7f3a91';

let apache: ApacheServer;
let tmp: TempDir;
let t: TestHost;
let ws: WsClient;
let client: Client;
let local: string;
let stateDir: string;
let remoteUrl: string;
const covered = new Set<CommandName>();
const events: EventUpdate[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const remoteFile = (p: string): string => apache.pathOf(`acct/${p}`);

beforeAll(async () => {
  apache = await startApache({ password: PASSWORD });
  await apache.mkdir('acct');
  for (const [p, text] of Object.entries({ 'a.txt': 'alpha', 'docs/b.txt': 'bravo', 'both.txt': 'base', 'gone.txt': 'soon gone', 'locked/keep.txt': 'k' })) await apache.writeFile(`acct/${p}`, text);
  // Enough synced files for the mass-delete hold to apply (sync.confirm).
  for (let i = 1; i <= 8; i++) await apache.writeFile(`acct/many/m${i}.txt`, `m${i}`);
  remoteUrl = `${apache.url}acct/`;
  tmp = await makeTempDir('netfs-host-rt-');
  stateDir = join(tmp.path, 'state');
  local = join(tmp.path, 'Sync');
  t = await startTestHost({ stateDir, pollMs: 120_000 });
  ws = await t.connect();
  client = ws.client();
  ws.send({ type: 'subscribe', streams: ['sync.status', 'transfers', 'retries', 'cache.occupancy', 'log'] });
  const sub = t.service.subscribe(['sync.status', 'transfers', 'retries', 'cache.occupancy', 'log'], (u) => events.push(u));
  void sub;
});
afterAll(async () => {
  await chmod(remoteFile('locked'), 0o755).catch(() => undefined);
  await t?.stop();
  await apache?.stop();
  await tmp?.remove();
});

/** Calls a command over the socket; fails unless it answered ok. */
async function ok<K extends CommandName>(k: K, req: CommandRequest<K>): Promise<CommandResult<K>> {
  const r = (await (client[k] as unknown as (q: CommandRequest<K>) => Promise<Result<CommandResult<K>>>)(req));
  if (!r.ok) throw new Error(`${k}: ${r.error.code}: ${r.error.message}`);
  expect(JSON.stringify(r.value)).not.toContain(PASSWORD);
  covered.add(k);
  return r.value as CommandResult<K>;
}

/** Waits for a pass that finished after `since` and the loop at rest (idle or held). */
async function settled(since: number, timeoutMs = 20_000): Promise<CommandResult<'sync.status'>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await ok('sync.status', {});
    if (s.lastPass !== null && s.lastPass.finishedMs >= since && (s.sync.state === 'idle' || s.sync.state === 'held')) return s;
    if (Date.now() > end) throw new Error(`no pass finished after ${since}: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}

async function passNow(): Promise<void> {
  const since = Date.now();
  await ok('sync.now', {});
  await settled(since);
}

interface Case<K extends CommandName> {
  before?: () => Promise<void>;
  args: () => CommandRequest<K>;
  check: (v: CommandResult<K>) => void | Promise<void>;
}
const CASES: { [K in CommandName]: Case<K> } = {
  'account.get': { args: () => ({}), check: (v) => expect(v).toBeNull() },
  'sync.status': { args: () => ({}), check: (v) => expect(v.sync).toEqual({ state: 'unconfigured' }) },
  'settings.get': { args: () => ({}), check: (v) => expect(v).toMatchObject({ transfers: 4, debounceMs: 1000 }) },
  'account.test': {
    args: () => ({ remote: remoteUrl, user: apache.user, password: PASSWORD }),
    check: (v) => {
      expect(v.capabilities.ranges).toBe(true);
      expect(v.capabilities.etags).toBe('strong');
      expect(v.capabilities.davClasses).toContain('1');
    },
  },
  'account.add': {
    args: () => ({ remote: remoteUrl, user: apache.user, password: PASSWORD, local }),
    check: async (v) => {
      expect(v).toEqual({ remote: remoteUrl, user: apache.user, local });
      await settled(0);
      expect(await readFile(join(local, 'a.txt'), 'utf8')).toBe('alpha');
      expect(await readFile(join(local, 'docs', 'b.txt'), 'utf8')).toBe('bravo');
      expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(stateDir, 'secret'))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(stateDir, 'secret'), 'utf8')).toBe(PASSWORD);
      expect(await readFile(join(stateDir, 'account.json'), 'utf8')).not.toContain(PASSWORD);
    },
  },
  'files.list': {
    args: () => ({ path: '/' }),
    check: (v) => {
      const a = v.find((e) => e.path === '/a.txt');
      expect(a).toMatchObject({ kind: 'file', state: 'synced', placement: 'synced', size: 5 });
      expect(v.find((e) => e.path === '/docs')).toMatchObject({ kind: 'folder' });
      expect(v.some((e) => e.path === '/docs/b.txt')).toBe(false);
    },
  },
  'settings.set': { args: () => ({ key: 'transfers', value: 2 }), check: (v) => expect(v.transfers).toBe(2) },
  'sync.pause': {
    args: () => ({}),
    check: async () => expect((await ok('sync.status', {})).sync).toEqual({ state: 'paused' }),
  },
  'sync.resume': {
    args: () => ({}),
    check: async () => expect((await ok('sync.status', {})).sync.state).not.toBe('paused'),
  },
  'sync.now': { args: () => ({}), check: async () => void (await settled(Date.now() - 50)) },
  'files.unpin': {
    before: async () => void (await apache.writeFile('acct/cold/new.txt', 'cold content 123')),
    args: () => ({ path: '/cold' }),
    check: async (v) => {
      expect(v).toEqual({ path: '/cold', placement: 'online-only' });
      const since = Date.now();
      await settled(since - 1000);
      const listed = await ok('files.list', { path: '/cold' });
      expect(listed.map((e) => [e.path, e.placement])).toEqual([['/cold/new.txt', 'online-only']]);
      expect(await stat(join(local, 'cold', 'new.txt')).catch(() => null)).toBeNull();
    },
  },
  'files.preview': {
    args: () => ({ path: '/cold/new.txt', offset: 5, length: 7 }),
    check: (v) => {
      expect(Buffer.from(v.base64, 'base64').toString('utf8')).toBe('content');
      expect(v).toMatchObject({ bytes: 7, size: 16, contentType: 'text/plain; charset=utf-8' });
    },
  },
  'cache.objects': {
    args: () => ({}),
    check: (v) => {
      const o = v.find((x) => x.key === '/cold/new.txt');
      expect(o).toBeDefined();
      expect(o?.storedBytes).toBe(16);
      expect(o?.extents).toEqual([[0, 16]]);
    },
  },
  'cache.summary': { args: () => ({}), check: (v) => expect(v?.totals.objects).toBeGreaterThanOrEqual(1) },
  'cache.nextToCull': { args: () => ({ n: 5 }), check: (v) => expect(Array.isArray(v)).toBe(true) },
  'files.open': {
    args: () => ({ path: '/cold/new.txt' }),
    check: async (v) => {
      expect(v.localPath).toBe(join(local, 'cold', 'new.txt'));
      expect(await readFile(v.localPath, 'utf8')).toBe('cold content 123');
      const listed = await ok('files.list', { path: '/cold' });
      expect(listed[0]).toMatchObject({ path: '/cold/new.txt', placement: 'synced' });
    },
  },
  'files.pin': { args: () => ({ path: '/cold' }), check: (v) => expect(v).toEqual({ path: '/cold', placement: 'synced' }) },
  'cache.setLimit': {
    args: () => ({ bytes: 50 * 1024 * 1024 }),
    check: async (v) => {
      expect(v.bytes).toBe(50 * 1024 * 1024);
      expect((await ok('cache.summary', {}))?.limit.bytes).toBe(50 * 1024 * 1024);
      expect((await ok('settings.get', {})).cacheLimitBytes).toBe(50 * 1024 * 1024);
    },
  },
  'cache.cullNow': { args: () => ({}), check: (v) => expect(v.culled).toBeGreaterThanOrEqual(0) },
  'cache.verify': { args: () => ({}), check: (v) => expect(v.bad).toEqual([]) },
  'transfers.list': { args: () => ({}), check: (v) => expect(Array.isArray(v)).toBe(true) },
  'diagnostics.stats': {
    args: () => ({}),
    check: (v) => {
      expect(v.text).toMatch(/^Reads {2}: DR=/);
      expect((v.netfs['reads'] as Record<string, number>)['RA']).toBeGreaterThan(0);
    },
  },
  'diagnostics.trace': {
    args: () => ({ sinceSeq: 0 }),
    check: (v) => {
      expect(v.length).toBeGreaterThan(0);
      expect(v.every((e, i) => i === 0 || e.seq > (v[i - 1]?.seq ?? 0))).toBe(true);
    },
  },
  'sync.preview': {
    before: async () => {
      await ok('sync.pause', {});
      await writeFile(join(local, 'draft.txt'), 'a draft');
    },
    args: () => ({}),
    check: async (v) => {
      expect(v.hold).toBeNull();
      expect(v.actions).toContainEqual({ type: 'upload', path: '/draft.txt' });
      const since = Date.now();
      await ok('sync.resume', {});
      await settled(since);
      expect(await readFile(remoteFile('draft.txt'), 'utf8')).toBe('a draft');
    },
  },
  'conflicts.list': {
    before: async () => {
      await ok('sync.pause', {});
      await writeFile(join(local, 'both.txt'), 'ours');
      await sleep(1100);
      await apache.writeFile('acct/both.txt', 'theirs!');
      const since = Date.now();
      await ok('sync.resume', {});
      await settled(since);
    },
    args: () => ({}),
    check: (v) => {
      expect(v).toHaveLength(1);
      expect(v[0]?.path).toBe('/both.txt');
      expect(v[0]?.copyPath).toMatch(/^\/both \(conflicted copy \d{4}-\d{2}-\d{2} \d{6}\)\.txt$/);
    },
  },
  'conflicts.resolve': {
    args: () => ({ path: '/both.txt', keep: 'both' }),
    check: async (v) => {
      expect(v).toEqual({ done: true });
      expect(await ok('conflicts.list', {})).toEqual([]);
      expect((await readdir(local)).filter((n) => n.startsWith('both'))).toHaveLength(2);
    },
  },
  'failures.list': {
    before: async () => {
      await chmod(remoteFile('locked'), 0o555);
      await ok('sync.pause', {});
      await writeFile(join(local, 'locked', 'new.txt'), 'cannot go up');
      const since = Date.now();
      await ok('sync.resume', {});
      await settled(since);
    },
    args: () => ({}),
    check: (v) => {
      const f = v.find((x) => x.path === '/locked/new.txt');
      expect(f).toBeDefined();
      // mod_dav answers a PUT into a folder it cannot write with 403 or 500, by version.
      expect(['FORBIDDEN', 'TRANSIENT']).toContain(f?.code);
      expect(f?.nextRetryMs).toBeGreaterThan(Date.now());
      const retries = events.filter((e) => e.stream === 'retries').at(-1);
      expect(JSON.stringify(retries?.data)).toContain('/locked/new.txt');
    },
  },
  'failures.retry': {
    before: async () => void (await chmod(remoteFile('locked'), 0o755)),
    args: () => ({ path: '/locked/new.txt' }),
    check: async (v) => {
      expect(v).toEqual({ done: true });
      const end = Date.now() + 15_000;
      while ((await ok('failures.list', {})).length > 0 && Date.now() < end) await sleep(100);
      expect(await ok('failures.list', {})).toEqual([]);
      expect(await readFile(remoteFile('locked/new.txt'), 'utf8')).toBe('cannot go up');
    },
  },
  'trash.list': {
    before: async () => {
      await rm(remoteFile('gone.txt'));
      await passNow();
    },
    args: () => ({}),
    check: (v) => {
      expect(v).toHaveLength(1);
      expect(v[0]).toMatchObject({ originalPath: '/gone.txt', kind: 'file', size: 9 });
      expect(v[0]).not.toHaveProperty('fileName');
    },
  },
  'trash.restore': {
    args: () => ({ id: '/gone.txt' }),
    check: async (v) => {
      expect(v).toMatchObject({ restoredTo: '/gone.txt', renamed: false });
      expect(await readFile(join(local, 'gone.txt'), 'utf8')).toBe('soon gone');
    },
  },
  'sync.confirm': {
    before: async () => {
      // The server loses most of the synced files at once: the plan is held (F17, at least 10 synced files) until confirmed.
      const since = Date.now();
      await ok('sync.now', {});
      await settled(since);
      expect(await readFile(remoteFile('gone.txt'), 'utf8')).toBe('soon gone');
      const synced = (await ok('files.list', { path: '/', recursive: true })).filter((e) => e.kind === 'file' && e.placement === 'synced').map((e) => e.path);
      const doomed = synced.filter((p) => p !== '/a.txt' && p !== '/gone.txt');
      expect(doomed.length * 2).toBeGreaterThan(synced.length);
      expect(synced.length).toBeGreaterThanOrEqual(10);
      for (const p of doomed) await rm(remoteFile(p.slice(1)));
      const held = Date.now();
      await ok('sync.now', {});
      const s = await settled(held);
      expect(s.sync.state).toBe('held');
      expect(await readFile(join(local, 'docs', 'b.txt'), 'utf8')).toBe('bravo');
      const preview = await ok('sync.preview', {});
      expect(preview.hold).toMatchObject({ reason: 'mass-delete', affected: doomed.length });
    },
    args: () => ({}),
    check: async (v) => {
      expect(v).toEqual({ done: true });
      // Carried out: the local copies went to the trash; what the server kept is still here.
      expect(await stat(join(local, 'docs', 'b.txt')).catch(() => null)).toBeNull();
      expect((await ok('trash.list', {})).map((r) => r.originalPath)).toContain('/docs/b.txt');
      expect(await readFile(join(local, 'a.txt'), 'utf8')).toBe('alpha');
      expect((await settled(Date.now())).sync.state).toBe('idle');
    },
  },
  'diagnostics.bundle': {
    args: () => ({ includePaths: false }),
    check: async (v) => {
      expect(v.fileName).toMatch(/^netfs-sync-support-.*\.json$/);
      const doc = JSON.parse(v.json) as { account: { user: string }; counters: { netfsText: string }; trace: unknown[]; logs: unknown[] };
      expect(doc.account.user).toBe(apache.user);
      expect(doc.counters.netfsText).toContain('Reads');
      expect(doc.trace.length).toBeGreaterThan(0);
      for (const word of [PASSWORD, 'gone.txt', 'draft.txt', 'cold', 'both (conflicted', tmp.path, '/acct/']) expect(v.json).not.toContain(word);
      const withPaths = await ok('diagnostics.bundle', { includePaths: true });
      expect(withPaths.json).toContain('/docs/b.txt');
      expect(withPaths.json).toContain(local);
      expect(withPaths.json).not.toContain(PASSWORD);
    },
  },
  'account.remove': {
    args: () => ({ confirm: true }),
    check: async (v) => {
      expect(v).toEqual({ done: true });
      expect(await ok('account.get', {})).toBeNull();
      expect((await ok('sync.status', {})).sync).toEqual({ state: 'unconfigured' });
      expect(await stat(join(stateDir, 'secret')).catch(() => null)).toBeNull();
      expect(await stat(join(stateDir, 'account.json')).catch(() => null)).toBeNull();
      // The user's files stay.
      expect(await readFile(join(local, 'a.txt'), 'utf8')).toBe('alpha');
    },
  },
};

const ORDER: CommandName[] = [
  'account.get', 'sync.status', 'settings.get', 'account.test', 'account.add', 'files.list', 'settings.set', 'sync.pause', 'sync.resume', 'sync.now',
  'files.unpin', 'files.preview', 'cache.objects', 'cache.summary', 'cache.nextToCull', 'files.open', 'files.pin', 'cache.setLimit', 'cache.cullNow',
  'cache.verify', 'transfers.list', 'diagnostics.stats', 'diagnostics.trace', 'sync.preview', 'conflicts.list', 'conflicts.resolve', 'failures.list',
  'failures.retry', 'trash.list', 'trash.restore', 'sync.confirm', 'diagnostics.bundle', 'account.remove',
];

describe('every contract command over the WebSocket against a real host and Apache', () => {
  it('every command of COMMAND_NAMES has a round-trip case, run once in ORDER', () => {
    expect(Object.keys(CASES).sort()).toEqual([...COMMAND_NAMES].sort());
    expect([...ORDER].sort()).toEqual([...COMMAND_NAMES].sort());
  });

  for (const name of ORDER) {
    it(`${name} round-trips`, async () => {
      const c = CASES[name] as Case<CommandName>;
      await c.before?.();
      const value = await ok(name, c.args());
      await c.check(value);
    });
  }

  it('every command was answered ok at least once; no event, log line or state file other than the secret holds the password', async () => {
    expect([...COMMAND_NAMES].filter((n) => !covered.has(n))).toEqual([]);
    expect(ws.events.length).toBeGreaterThan(0);
    expect(new Set(ws.events.map((e) => e.stream))).toEqual(new Set(['sync.status', 'transfers', 'retries', 'cache.occupancy', 'log']));
    expect(JSON.stringify(ws.messages)).not.toContain(PASSWORD);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    const logs = join(stateDir, 'logs');
    for (const f of await readdir(logs)) expect(await readFile(join(logs, f), 'utf8')).not.toContain(PASSWORD);
  });
});
