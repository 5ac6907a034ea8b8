// Uploads to the real local-folder backend (a mounted share): the same engine path as over
// WebDAV, with a backend that checks preconditions before it takes a single byte and sets the
// modification time it is given.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { createLocalBackend, type LocalBackend } from '../remote/local/backend.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';

const MiB = 1024 * 1024;
let dir: string;
let remoteRoot: string;
let local: LocalBackend;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function engine() {
  return new NetfsEngine({ backend: local, pool: new BufferPool({ blockSize: 256 * 1024, capacity: 4 * MiB }), limits: { wsize: 1 * MiB }, pacer: { baseMs: 5 } });
}

async function localFile(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netfs-upload-local-'));
  remoteRoot = join(dir, 'remote');
  await mkdir(remoteRoot);
  local = createLocalBackend({ url: `file://${remoteRoot}` });
});
afterAll(async () => {
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('uploads to the local-folder backend', () => {
  it('F11: byte-exact, with If-Match on the local ETag and the mtime passed through', async () => {
    const e = engine();
    const v1 = randomBytes(3 * MiB + 1);
    const first = await e.upload('/doc.bin', { localFile: await localFile('doc1.src', v1), precondition: { kind: 'absent' }, mtimeMs: 1_600_000_000_123 });
    if (first.status !== 'uploaded') throw new Error('not uploaded');
    expect(sha(await readFile(join(remoteRoot, 'doc.bin')))).toBe(sha(v1));
    expect((await stat(join(remoteRoot, 'doc.bin'))).mtimeMs).toBe(1_600_000_000_123);
    const v2 = randomBytes(100);
    const second = await e.upload('/doc.bin', { localFile: await localFile('doc2.src', v2), precondition: { kind: 'match', etag: first.result.etag } });
    if (second.status !== 'uploaded') throw new Error('not uploaded');
    expect(second.result.etag).not.toBe(first.result.etag);
    expect(await readFile(join(remoteRoot, 'doc.bin'))).toEqual(v2);
    expect(e.ctx.pool.inUse).toBe(0);
  });

  it('F11: a precondition refused before any byte was taken is CHANGED_ON_SERVER; nothing changes', async () => {
    const theirs = randomBytes(1000);
    await writeFile(join(remoteRoot, 'taken.bin'), theirs);
    const e = engine();
    const err = await e.upload('/taken.bin', { localFile: await localFile('taken.src', randomBytes(2 * MiB)), precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CHANGED_ON_SERVER');
    expect(await readFile(join(remoteRoot, 'taken.bin'))).toEqual(theirs);
    // The backend refused before pulling the body: no upload window was even started.
    expect(e.stats().upldOps.UL).toBe(0);
    expect(e.stats().retries.wq).toBe(0);
    expect(e.ctx.pool.inUse).toBe(0);
    expect(e.stats().objs).toMatchObject({ rr: 0, sr: 0 });
  });

  it('39: uploads of different files run side by side; each is one request with its own debug id', async () => {
    const e = engine();
    const files = await Promise.all([0, 1, 2, 3].map(async (i) => ({ i, bytes: randomBytes(MiB + i) })));
    const outs = await Promise.all(files.map(async ({ i, bytes }) => e.upload(`/side-${i}.bin`, { localFile: await localFile(`side-${i}.src`, bytes), precondition: { kind: 'absent' } })));
    for (const { i, bytes } of files) expect(sha(await readFile(join(remoteRoot, `side-${i}.bin`)))).toBe(sha(bytes));
    const ids = outs.map((o) => (o.status === 'uploaded' ? o.request.debugId : -1));
    expect(new Set(ids).size).toBe(4);
    expect(e.stats().wbLock).toEqual({ skip: 0, wait: 0 });
    expect(e.ctx.pool.inUse).toBe(0);
  });
});
