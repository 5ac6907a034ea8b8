// A fresh private temp folder for one test server, deleted by remove() or, failing that, when
// the test process exits.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from './exit-cleanup.js';

export interface TempDir {
  readonly path: string;
  /** Deletes the folder and everything in it. Idempotent. */
  remove(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const forget = onProcessExit(() => rmSync(path, { recursive: true, force: true }));
  return {
    path,
    async remove() {
      forget();
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
