/**
 * Issue 7: "at most 10 updates a second (a test counts them)". A real host syncs 400 files
 * from a local-folder remote at a limited rate (so the sync lasts several seconds and the
 * engine's snapshots, the status and the throughput change all the time); a WebSocket client
 * subscribed to every stream counts what it receives in every one-second window.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES, MAX_EVENTS_PER_SECOND } from '../api/contract.js';
import { Journal } from '../sync/journal.js';
import { initStateFolder } from '../sync/state-folder.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { startTestHost, type TestHost, type WsClient } from './testing.js';

const FILES = 400;
const SIZE = 16 * 1024;
const RATE = 1536 * 1024; // bytes a second down: about 4 s for 6.25 MiB

let tmp: TempDir;
let t: TestHost;
let ws: WsClient;
let local: string;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  tmp = await makeTempDir('netfs-host-load-');
  const remote = join(tmp.path, 'remote');
  local = join(tmp.path, 'Sync');
  const state = join(tmp.path, 'state');
  for (let i = 0; i < FILES; i++) {
    const dir = join(remote, `d${i % 20}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `f${i}.bin`), Buffer.alloc(SIZE, i % 251));
  }
  const folder = await initStateFolder(state, { remote: pathToFileURL(remote).href, local });
  const journal = Journal.open(folder.journalFile);
  journal.setSetting('bandwidthDownBytesPerSec', RATE);
  journal.close();
  t = await startTestHost({ stateDir: state, pollMs: 120_000 });
  ws = await t.connect();
  ws.send({ type: 'subscribe', streams: [...EVENT_NAMES] });
});
afterAll(async () => {
  await t?.stop();
  await tmp?.remove();
});

/** The most arrivals in any window of one second. */
function maxPerSecond(times: readonly number[]): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < times.length && (times[j] ?? Infinity) - (times[i] ?? 0) < 1000) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

describe('event streams under load', () => {
  it(`each stream sends at most ${MAX_EVENTS_PER_SECOND} updates in any second while ${FILES} files sync; the updates keep coming`, async () => {
    const started = performance.now();
    let files = 0;
    for (;;) {
      const s = (await ws.call('sync.status', {})) as { value: { lastPass: unknown; sync: { state: string } } };
      if (s.value.lastPass !== null && s.value.sync.state === 'idle') break;
      if (performance.now() - started > 60_000) throw new Error('the sync did not finish in 60 s');
      await sleep(200);
    }
    for (const d of await readdir(local)) if (d.startsWith('d')) files += (await readdir(join(local, d))).length;
    expect(files).toBe(FILES);
    const took = performance.now() - started;
    expect(took).toBeGreaterThan(3000);

    const byStream = new Map<string, number[]>();
    for (const e of ws.events) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.atMs]);
    for (const stream of EVENT_NAMES) {
      const times = byStream.get(stream) ?? [];
      expect(times.length, stream).toBeGreaterThan(0);
      expect(maxPerSecond(times), `${stream}: ${times.length} updates`).toBeLessThanOrEqual(MAX_EVENTS_PER_SECOND);
    }
    // Busy streams are coalesced, not starved: in the 3 s of the sync they update about 9 times a second.
    const transfers = byStream.get('transfers') ?? [];
    const window = transfers.filter((ms) => ms >= started + 500 && ms < started + 3500);
    expect(window.length).toBeGreaterThanOrEqual(20);
    expect(window.length).toBeLessThanOrEqual(3 * MAX_EVENTS_PER_SECOND);
    const status = (byStream.get('sync.status') ?? []).filter((ms) => ms >= started + 500 && ms < started + 3500);
    expect(status.length).toBeGreaterThanOrEqual(20);
    // The numbering is per stream and rising, with gaps where updates were coalesced.
    const seqs = ws.events.filter((e) => e.stream === 'transfers').map((e) => e.seq);
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? 0))).toBe(true);
    expect((seqs.at(-1) ?? 0) - (seqs[0] ?? 0) + 1).toBeGreaterThan(seqs.length);
    // Throughput was reported while it ran.
    const rates = ws.events.filter((e) => e.stream === 'transfers').map((e) => (e.data as { rateDown: number }).rateDown);
    expect(Math.max(...rates)).toBeGreaterThan(RATE / 4);
  });
});
