// One AbortSignal may serve thousands of reads (a whole sync pass passes its signal to every
// download): each read must stop listening to it when it ends, or every finished request stays
// reachable from the signal until the pass ends (a leak, and Node's MaxListeners warning).
import { getEventListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../remote/local/backend.js';
import { NetfsEngine } from './engine.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netfs-read-signal-'));
  await writeFile(join(dir, 'f.bin'), Buffer.alloc(100_000, 7));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reads and the caller\'s signal', () => {
  it('30 reads with one signal leave no abort listener on it; a read with an aborted signal still fails CANCELLED', async () => {
    const backend = createLocalBackend({ url: `file://${dir}` });
    const engine = new NetfsEngine({ backend });
    const controller = new AbortController();
    try {
      const st = await backend.stat('/f.bin');
      for (let i = 0; i < 30; i++) {
        let got = 0;
        await engine.read('/f.bin', {
          offset: 0,
          length: 100_000,
          size: 100_000,
          expect: { etag: st.etag, size: st.size, mtimeMs: st.mtimeMs },
          consumer: { deliver: (_fpos, views) => void views.forEach((v) => (got += v.byteLength)) },
          signal: controller.signal,
        });
        expect(got).toBe(100_000);
      }
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      controller.abort();
      await expect(
        engine.read('/f.bin', { offset: 0, length: 100_000, size: 100_000, consumer: { deliver: () => undefined }, signal: controller.signal }),
      ).rejects.toMatchObject({ code: 'CANCELLED' });
    } finally {
      await backend.close();
    }
  });
});
