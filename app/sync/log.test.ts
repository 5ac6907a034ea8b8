import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_FILE, openLog } from './log.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('sync log', () => {
  it('redacts the password wherever it appears: fields, nested fields and message text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netfs-log-'));
    dirs.push(dir);
    const secret = 'p@ss "w0rd"\\x';
    const log = openLog({ dir, secrets: [secret] });
    log.info({ password: secret, request: { authorization: `Basic ${secret}` }, note: `was ${secret}` }, `message with ${secret}`);
    log.warn({ err: new Error(`server said ${secret}`) }, 'failure');
    const text = await readFile(join(dir, LOG_FILE), 'utf8');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(text).toContain('[redacted]');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(['message with [redacted]', 'failure']);
  });

  it('rotates by size and keeps the newest generations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netfs-log-'));
    dirs.push(dir);
    const log = openLog({ dir, maxBytes: 2_000, keep: 2 });
    for (let i = 0; i < 200; i++) log.info({ i }, 'a line that takes some room in the file');
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([LOG_FILE, `${LOG_FILE}.1`, `${LOG_FILE}.2`]);
    for (const f of files) expect((await readFile(join(dir, f))).length).toBeLessThanOrEqual(2_000);
    const last = (await readFile(join(dir, LOG_FILE), 'utf8')).trim().split('\n').at(-1) ?? '';
    expect((JSON.parse(last) as { i: number }).i).toBe(199);
  });
});
