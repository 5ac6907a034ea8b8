/**
 * The checkout (or installed package) this code runs from: the nearest folder above this file
 * whose package.json is netfs-sync's. Works from the sources (app/host) and from the build
 * (dist/app/host). The built UI (dist/renderer) and the demo files (resources/demo) are found
 * from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'netfs-sync') return dir;
      } catch {
        // not ours; keep going up
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return resolve('.');
}
