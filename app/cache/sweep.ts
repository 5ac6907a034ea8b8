/**
 * The sweep at store open (C8), also run by verify(): after it, the index and the objects folder
 * agree, and nothing a crash left half-done can be served.
 *
 *   objects/                     anything that is not a 2-hex-digit folder ....... -> graveyard
 *     ab/                        (same)
 *       cd/
 *         <name>                 no row (of any volume) names it ................. -> graveyard
 *         <name>.tmp[-x]         a temp of this volume's object not open now ....... -> graveyard
 *         anything not a file ..................................................... -> graveyard
 *
 *   rows of this volume, not open now:
 *     DIRTY, not staging         files -> graveyard; row emptied but kept DIRTY, so a lookup
 *                                reports it ('dirty', 65) and starts empty
 *     DIRTY and staging          left as they are: a staged download resumes (staging.ts)
 *     has_file but no file       row deleted (a lookup starts empty: 'new')
 *     file shorter than recorded file -> graveyard, row deleted
 *     no file but a backing size row deleted
 *     no file, bytes allocated   allocated = 0 (its temp went above)
 *     no file, but one on disk   the file -> graveyard (a discard killed half way)
 *       or allocated bytes       allocated = 0 (a staged download killed before its first collect)
 *
 * Rows of other volumes are left alone (their store may be open in this process); their files
 * are known by name, so they are never taken for orphans.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexDb } from './index-db.js';
import { OBJECTS_DIR, objectPath, type Graveyard } from './layout.js';

export interface SweepResult {
  /** Files and folders moved to the graveyard (orphans, stale temps, junk). */
  orphans: number;
  /** Keys of DIRTY rows emptied, and of rows deleted for lack of a file. */
  dirty: string[];
  missing: string[];
  /** Allocated bytes those rows held, for the space accounting: [not staging, staging]. */
  freed: { limited: number; staging: number };
}

const HEX2 = /^[0-9a-f]{2}$/;

export async function sweepStore(dir: string, db: IndexDb, volumeId: number, graveyard: Graveyard, live: ReadonlySet<string>): Promise<SweepResult> {
  const out: SweepResult = { orphans: 0, dirty: [], missing: [], freed: { limited: 0, staging: 0 } };
  const every = new Set((db.db.prepare('SELECT name FROM objects').all() as { name: string }[]).map((r) => r.name));
  const mine = db.objectNames(volumeId);
  const onDisk = new Set<string>();
  const bury = async (path: string): Promise<void> => {
    await graveyard.bury(path);
    out.orphans++;
  };
  const root = join(dir, OBJECTS_DIR);
  for (const a of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (!a.isDirectory() || !HEX2.test(a.name)) {
      await bury(join(root, a.name));
      continue;
    }
    for (const b of await readdir(join(root, a.name), { withFileTypes: true }).catch(() => [])) {
      const folder = join(root, a.name, b.name);
      if (!b.isDirectory() || !HEX2.test(b.name)) {
        await bury(folder);
        continue;
      }
      for (const f of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
        const at = f.name.indexOf('.tmp');
        const base = at < 0 ? f.name : f.name.slice(0, at);
        const isTemp = at >= 0;
        const orphan = !f.isFile() || !every.has(base) || (isTemp && mine.has(base) && !live.has(base));
        if (orphan) await bury(join(folder, f.name));
        else if (!isTemp) onDisk.add(f.name);
      }
    }
  }
  const rows = db.allObjects(volumeId).filter((r) => !live.has(r.name));
  // Sizes of the files rows name (in batches: one stat each).
  const sizes = new Map<string, number>();
  const named = rows.filter((r) => r.has_file === 1 && onDisk.has(r.name));
  for (let i = 0; i < named.length; i += 64) {
    await Promise.all(
      named.slice(i, i + 64).map(async (r) => {
        const st = await stat(objectPath(dir, r.name)).catch(() => null);
        if (st !== null) sizes.set(r.name, st.size);
      }),
    );
  }
  for (const row of rows) {
    const bucket = row.staging === 1 ? 'staging' : 'limited';
    if (row.dirty === 1 && row.staging !== 1) {
      if (row.has_file === 1 || row.allocated > 0) {
        out.freed[bucket] += row.allocated;
        db.emptyDirty(row.id);
        if (onDisk.delete(row.name)) await graveyard.bury(objectPath(dir, row.name));
        out.dirty.push(row.key);
      }
    } else if ((row.has_file === 1 && (sizes.get(row.name) ?? -1) < row.backing_size) || (row.has_file === 0 && row.backing_size > 0)) {
      // The row first: a crash in between leaves an orphan file, never a row without its file.
      out.freed[bucket] += row.allocated;
      db.deleteObject(row.id);
      out.missing.push(row.key);
      if (onDisk.delete(row.name)) await graveyard.bury(objectPath(dir, row.name));
    } else if (row.has_file === 0 && (row.allocated > 0 || onDisk.has(row.name))) {
      // A staged download's temp file of an earlier run (swept above): nothing is allocated.
      // A file its row does not own (a discard killed between the index and the graveyard):
      // to the graveyard (both found by crash-fill.test.ts).
      if (onDisk.delete(row.name)) await graveyard.bury(objectPath(dir, row.name));
      out.freed[bucket] += row.allocated;
      if (row.allocated > 0) db.setAllocated(row.id, 0);
    }
  }
  return out;
}
