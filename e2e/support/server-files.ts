// Files put straight into the folder behind Apache's DAV root, with a modification time in the
// past: Apache gives a weak ETag to a file changed within the current second, and the engine
// never sends a weak one in If-Match.
import { utimes } from 'node:fs/promises';
import type { DavServer } from '../../app/testing/index.js';

let tick = 0;

export async function putServerFile(server: DavServer, rel: string, data: string | Uint8Array): Promise<string> {
  const path = await server.writeFile(rel, data);
  const when = new Date(Date.now() - 3600_000 + tick++ * 1000);
  await utimes(path, when, when);
  return path;
}
