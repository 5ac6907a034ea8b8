/**
 * L4, folder renames end to end through `sync --once` against a real Apache (the fault proxy in
 * front only to watch, and to make one race happen):
 *
 *   server renames a folder (its data folder renamed, as a WebDAV MOVE by another client does)
 *     -> one local rename(2): same inode, no GET, nothing to the trash
 *   local rename, nested: outer and inner folder renamed at once -> two MOVEs, nothing per file
 *   local rename while someone creates the destination on the server right before our MOVE
 *     -> the MOVE fails (Overwrite: F), nothing inside is attempted, the next pass goes per file
 *        (per file below the folder itself; a sub-folder still moves whole)
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApache, startFaultProxy, type ApacheServer, type FaultProxy } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, exists, type ScenarioAccount } from './scenario-kit.js';
import { expectConverged } from './scenario-oracle.js';

let apache: ApacheServer;
let proxy: FaultProxy;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  temp = await makeTempDir('netfs-scen-fmoves-');
});
afterEach(() => proxy.clearRules());
afterAll(async () => {
  await proxy.close();
  await apache.stop();
  await temp.remove();
});

/** 60 files in docs/ (20 of them in docs/sub/), 1 elsewhere. */
function files(): Record<string, string> {
  const out: Record<string, string> = { 'other.txt': 'other' };
  for (let i = 0; i < 40; i++) out[`docs/f${i}.txt`] = `file ${i}\n`;
  for (let i = 0; i < 20; i++) out[`docs/sub/g${i}.txt`] = `sub file ${i}\n`;
  return out;
}

async function synced(): Promise<ScenarioAccount> {
  const a = await account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url), files: files() });
  const r = await a.run('sync', '--once');
  expect(r.code, r.stderr).toBe(0);
  return a;
}

/** Requests for this account from proxy index `from` on, but PROPFINDs: "METHOD path-in-account". */
function writes(a: ScenarioAccount, from: number): string[] {
  const prefix = `/dav/${a.id}`;
  return proxy.requests
    .slice(from)
    .filter((q) => q.path.startsWith(`${prefix}/`) && q.method !== 'PROPFIND')
    .map((q) => `${q.method} ${decodeURIComponent(q.path.slice(prefix.length)).replace(/\/$/, '')}`);
}

describe('L4: folder renames end to end', () => {
  it('L4: a folder renamed on the server becomes one local rename(2): same inode, no GET, no trash, converged', async () => {
    const a = await synced();
    const inoBefore = (await stat(join(a.local, 'docs'))).ino;
    await rename(join(a.remoteDir, 'docs'), join(a.remoteDir, 'papers'));
    const mark = proxy.requests.length;
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(await exists(join(a.local, 'docs'))).toBe(false);
    expect((await stat(join(a.local, 'papers'))).ino, 'renamed, not made again').toBe(inoBefore);
    expect(writes(a, mark), 'no GET, PUT, MOVE or DELETE').toEqual([]);
    expect(JSON.parse((await a.run('trash', 'ls', '--json')).stdout)).toEqual([]);
    const local = await expectConverged(a, apache, 'server-side folder rename', () => a.run('sync', '--once'));
    expect([...local.keys()].filter((p) => p.startsWith('papers/'))).toHaveLength(60);
  });

  it('L4: outer and inner folder renamed locally at once (and a file edited inside): MOVE outer, MOVE inner, one PUT; nothing else', async () => {
    const a = await synced();
    await rename(join(a.local, 'docs'), join(a.local, 'papers'));
    await rename(join(a.local, 'papers', 'sub'), join(a.local, 'papers', 'inner'));
    await writeFile(join(a.local, 'papers', 'inner', 'g3.txt'), 'edited after the rename\n');
    const mark = proxy.requests.length;
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(writes(a, mark)).toEqual(['MOVE /docs', 'MOVE /papers/sub', 'PUT /papers/inner/g3.txt']);
    await expectConverged(a, apache, 'nested local folder rename', () => a.run('sync', '--once'));
  });

  it('L4: the destination appears on the server right before the folder MOVE: MOVE refused (Overwrite: F), nothing inside attempted; the next pass goes per file; converged', async () => {
    const a = await synced();
    await rename(join(a.local, 'docs'), join(a.local, 'papers'));
    await mkdir(join(a.local, 'papers', 'made-here'));
    await writeFile(join(a.local, 'papers', 'made-here', 'n.txt'), 'new inside\n');
    // Someone else makes /papers on the server just before our MOVE reaches it.
    proxy.addRule({
      match: {
        method: 'MOVE',
        path: `/dav/${a.id}/docs`,
        when: () => {
          // As Apache's user, as another client's MKCOL would make it.
          execFileSync('install', ['-d', '-o', 'www-data', '-g', 'www-data', join(a.remoteDir, 'papers')]);
          return true;
        },
      },
      action: { kind: 'pass' },
      times: 1,
    });
    const mark = proxy.requests.length;
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    const sent = writes(a, mark);
    // The first pass: the refused MOVE and nothing inside it; then per file.
    expect(sent[0]).toBe('MOVE /docs');
    // The refused MOVE is the only request that failed: nothing inside /papers was tried before it existed.
    const failed = proxy.requests.slice(mark).filter((q) => q.path.startsWith(`/dav/${a.id}/`) && (q.status ?? 0) >= 400);
    expect(failed.map((q) => `${q.status ?? '-'} ${q.method} ${q.path}`)).toEqual([`412 MOVE /dav/${a.id}/docs`]);
    // Per file for docs/ itself; docs/sub (its inode known, nothing there on the server) still moves whole.
    const files40 = Array.from({ length: 40 }, (_, i) => `MOVE /docs/f${i}.txt`);
    expect(sent.filter((s) => s.startsWith('MOVE ')).sort()).toEqual(['MOVE /docs', 'MOVE /docs/sub', ...files40].sort());
    expect(sent.filter((s) => s.startsWith('PUT ')), 'only the new file is uploaded').toEqual(['PUT /papers/made-here/n.txt']);
    expect(await exists(join(a.remoteDir, 'docs'))).toBe(false);
    await expectConverged(a, apache, 'folder move race', () => a.run('sync', '--once'));
  });
});
