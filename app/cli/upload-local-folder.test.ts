// Uploads to a `file:///` remote (the local-folder backend, e.g. a NAS mount) through
// `netfs-sync sync --once`: the backend checks preconditions itself, so uploads go straight to
// the name, as on Apache; and the temp-name path (step-upload-temp.ts, taken where a server
// ignores preconditions on PUT) works on this backend too when the capabilities say so.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities } from '../api/remote.js';
import { CAPABILITIES_FILE } from '../sync/capabilities-cache.js';
import { UPLOAD_RECORDS_DIR } from '../sync/upload-temp.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { allPaths, entriesOf, exists, manifest } from './scenario-kit.js';
import { cli } from './testing.js';

let temp: TempDir;
let n = 0;

beforeAll(async () => {
  temp = await makeTempDir('netfs-upload-local-folder-');
});
afterAll(async () => {
  await temp.remove();
});

interface Account {
  state: string;
  local: string;
  remote: string;
  run(...args: string[]): ReturnType<typeof cli>;
}

async function account(files: Record<string, string>): Promise<Account> {
  const dir = join(temp.path, String(++n));
  const remote = join(dir, 'remote');
  const a: Account = { state: join(dir, 'state'), local: join(dir, 'local'), remote, run: (...args) => cli([...args, '--state', a.state]) };
  await mkdir(remote, { recursive: true });
  await cli(['init', '--state', a.state, '--remote', pathToFileURL(remote).href, '--local', a.local]).then((r) => {
    if (r.code !== 0) throw new Error(`init: ${r.stderr}`);
  });
  for (const [p, text] of Object.entries(files)) {
    await mkdir(dirname(join(remote, p)), { recursive: true });
    await writeFile(join(remote, p), text);
  }
  return a;
}

async function capabilities(a: Account): Promise<{ remote: string; probedAt: number; capabilities: Capabilities }> {
  return JSON.parse(await readFile(join(a.state, CAPABILITIES_FILE), 'utf8')) as { remote: string; probedAt: number; capabilities: Capabilities };
}

const serverTemps = async (a: Account): Promise<string[]> => (await allPaths(a.remote)).filter((p) => /(^|\/)\.netfs-(upload|partial)-/.test(p));

async function editAndSync(a: Account): Promise<void> {
  expect((await a.run('sync', '--once')).code).toBe(0);
  await writeFile(join(a.local, 'doc.txt'), 'doc: edited here');
  await writeFile(join(a.local, 'sub/new.txt'), 'new here');
  await writeFile(join(a.local, 'top-new.txt'), 'new at the top');
  const r = await a.run('sync', '--once');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(await readFile(join(a.remote, 'doc.txt'), 'utf8')).toBe('doc: edited here');
  expect(await readFile(join(a.remote, 'sub/new.txt'), 'utf8')).toBe('new here');
  expect(await readFile(join(a.remote, 'top-new.txt'), 'utf8')).toBe('new at the top');
  expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remote)));
  expect(await serverTemps(a)).toEqual([]);
  // Settled: nothing left to upload.
  const before = await manifest(a.remote);
  expect((await a.run('sync', '--once')).code).toBe(0);
  expect(entriesOf(await manifest(a.remote))).toEqual(entriesOf(before));
}

describe('uploads to a file:/// remote (local-folder backend)', () => {
  it('F11: the backend enforces If-Match / If-None-Match on writes, so uploads go straight to the name (no temp name, no records)', async () => {
    const a = await account({ 'doc.txt': 'doc', 'sub/keep.txt': 'k' });
    const caps = (await capabilities(a)).capabilities;
    expect(caps.ifMatchOnPut).toBe(true);
    expect(caps.ifNoneMatchOnPut).toBe(true);
    await editAndSync(a);
    expect(await exists(join(a.local, UPLOAD_RECORDS_DIR))).toBe(false);
  });

  it('F14: where the capabilities say PUT preconditions are ignored, uploads go through a temp name and a MOVE; the same result, nothing left behind', async () => {
    const a = await account({ 'doc.txt': 'doc', 'sub/keep.txt': 'k' });
    const saved = await capabilities(a);
    await writeFile(join(a.state, CAPABILITIES_FILE), JSON.stringify({ ...saved, capabilities: { ...saved.capabilities, ifMatchOnPut: false, ifNoneMatchOnPut: false } }), { mode: 0o600 });
    await editAndSync(a);
    // The temp path ran: its records folder was made, and is empty again.
    expect(await readdir(join(a.local, UPLOAD_RECORDS_DIR))).toEqual([]);
  });
});
