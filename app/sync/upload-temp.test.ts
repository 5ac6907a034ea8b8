// The records of temp uploads (upload-temp.ts) against the real local-folder backend: what a
// killed upload leaves is found and removed by the next sweep; an upload in flight, another
// client's temp and anything that is not a temp of ours are left alone (B7, F14).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend, type LocalBackend } from '../remote/local/backend.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { IgnoreRules } from './ignore.js';
import { UPLOAD_RECORDS_DIR, forgetTempUpload, isUploadTempName, newTempUpload, recordTempUpload, sweepTempUploads } from './upload-temp.js';

let temp: TempDir;
let n = 0;

beforeAll(async () => {
  temp = await makeTempDir('netfs-upload-temp-');
});
afterAll(async () => {
  await temp.remove();
});

async function setup(): Promise<{ root: string; remote: string; backend: LocalBackend }> {
  const dir = join(temp.path, String(++n));
  const root = join(dir, 'local');
  const remote = join(dir, 'remote');
  await mkdir(root, { recursive: true });
  await mkdir(join(remote, 'docs'), { recursive: true });
  return { root, remote, backend: createLocalBackend({ url: pathToFileURL(remote).href }) };
}

const records = (root: string): Promise<string[]> => readdir(join(root, UPLOAD_RECORDS_DIR)).catch(() => []);

describe('temp upload names and their records', () => {
  it('B7: a temp sits beside its target under a .netfs-upload-<64 bits> name, which the built-in ignore rules leave out at any depth', () => {
    const t = newTempUpload('/docs/report (v2).pdf');
    expect(t.temp).toMatch(/^\/docs\/\.netfs-upload-[0-9a-f]{16}$/);
    expect(t.temp.endsWith(t.id)).toBe(true);
    expect(newTempUpload('/a.txt').temp).toMatch(/^\/\.netfs-upload-[0-9a-f]{16}$/);
    expect(newTempUpload('/docs/x').id).not.toBe(newTempUpload('/docs/x').id);
    expect(isUploadTempName('.netfs-upload-0123456789abcdef')).toBe(true);
    expect(isUploadTempName('netfs-upload-0123')).toBe(false);
    const rules = IgnoreRules.fromText('');
    expect(rules.isIgnored('/deep/er/.netfs-upload-0123456789abcdef', 'file')).toBe(true);
    expect(rules.isIgnored('/.netfs-upload-0123456789abcdef', 'file')).toBe(true);
    expect(rules.isIgnored('/deep/netfs-upload.txt', 'file')).toBe(false);
  });

  it('B7: a record written before the upload and left by a crash makes the next sweep delete the server temp and the record', async () => {
    const { root, remote, backend } = await setup();
    const t = newTempUpload('/docs/big.bin');
    await recordTempUpload(root, t);
    const record = JSON.parse(await readFile(join(root, UPLOAD_RECORDS_DIR, t.id), 'utf8')) as { temp: string; target: string };
    expect(record).toMatchObject({ temp: t.temp, target: '/docs/big.bin' });
    await writeFile(join(remote, 'docs', t.temp.split('/').pop() ?? ''), 'half of an upload');
    await writeFile(join(remote, 'docs', 'big.bin'), 'the user file');
    // Still in flight in this process: left alone.
    expect(await sweepTempUploads(root, backend)).toEqual({ removed: [], kept: [] });
    expect(await readdir(join(remote, 'docs'))).toHaveLength(2);
    // The record as a killed process leaves it: nobody here owns it any more.
    const orphan = newTempUpload('/docs/big.bin');
    await writeFile(join(root, UPLOAD_RECORDS_DIR, orphan.id), JSON.stringify({ temp: orphan.temp, target: orphan.target }));
    await writeFile(join(remote, 'docs', orphan.temp.split('/').pop() ?? ''), 'cut short by SIGKILL');
    expect(await sweepTempUploads(root, backend)).toEqual({ removed: [orphan.temp], kept: [] });
    expect((await readdir(join(remote, 'docs'))).sort()).toEqual([t.temp.split('/').pop(), 'big.bin'].sort());
    expect(await records(root)).toEqual([t.id]);
    await forgetTempUpload(root, t);
    expect(await records(root)).toEqual([]);
    await backend.close();
  });

  it('a record whose temp is already gone is dropped; one naming anything but its own temp is dropped without deleting anything', async () => {
    const { root, remote, backend } = await setup();
    await mkdir(join(root, UPLOAD_RECORDS_DIR));
    const gone = newTempUpload('/docs/a.txt');
    await writeFile(join(root, UPLOAD_RECORDS_DIR, gone.id), JSON.stringify({ temp: gone.temp }));
    const forged = newTempUpload('/docs/b.txt');
    await writeFile(join(remote, 'docs', 'b.txt'), 'a user file');
    await writeFile(join(root, UPLOAD_RECORDS_DIR, forged.id), JSON.stringify({ temp: '/docs/b.txt' }));
    const other = '.netfs-upload-0123456789abcdef';
    await writeFile(join(remote, 'docs', other), 'another client, mid-upload');
    expect(await sweepTempUploads(root, backend)).toEqual({ removed: [gone.temp], kept: [] });
    expect((await readdir(join(remote, 'docs'))).sort()).toEqual([other, 'b.txt'].sort());
    expect(await records(root)).toEqual([]);
    await backend.close();
  });
});
