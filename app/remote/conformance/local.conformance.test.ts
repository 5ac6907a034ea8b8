// The conformance suite against the local-folder backend (a folder on disk, e.g. a NAS mount).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLocalBackend } from '../local/backend.js';
import { defineConformanceSuite } from './suite.js';

defineConformanceSuite(
  'local folder',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netfs-conf-local-'));
    const backend = createLocalBackend({ url: pathToFileURL(dir).href });
    return {
      backend,
      writeBehind: async (path, data) => {
        await writeFile(join(dir, ...path.split('/')), data);
      },
      close: async () => {
        await backend.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { ranges: true, etags: 'strong', davClasses: [], ifMatchOnPut: true, ifNoneMatchOnPut: true, ifMatchOnDelete: true, folderEtagsPropagate: false, depthInfinity: false },
);
