/**
 * The child of the crash test (store.test.ts): it commits one granule, then writes more without
 * collecting, says READY on stdout and goes on writing until the parent SIGKILLs it.
 *
 *   argv: <cache dir> <key>
 *   commit [0, G) ──> write [G, 2G) ... (no collect) ──> "READY" ──> write, write, ... <- SIGKILL
 */
import { CacheStore } from './store.js';
import { pattern } from './testing.js';

const G = 65536;
const [dir, key] = process.argv.slice(2);
if (dir === undefined || key === undefined) throw new Error('usage: testing-crash-child.ts <dir> <key>');
const store = await CacheStore.open(dir, { volume: 'acct', testPredictableNames: true });
const obj = await store.openObject(key, { etag: '"v1"', lastModified: 1, size: 64 * G });
await obj.write(0, [pattern(G, 1)]);
await obj.collectWrite(0, G);
await obj.write(G, [pattern(G, 2)]);
process.stdout.write('READY\n');
for (let i = 2; ; i = 2 + ((i - 1) % 62)) await obj.write(i * G, [pattern(G, i)]);
