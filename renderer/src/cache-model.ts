/**
 * Cache view numbers (pure): objects grouped by folder, and which objects a "free up N bytes"
 * would remove (the cull order's prefix, staging objects never).
 */
import type { CacheObjectView } from '../../app/api/contract.js';

export function folderOf(key: string): string {
  const i = key.lastIndexOf('/');
  return i <= 0 ? '/' : key.slice(0, i);
}

export function byFolder(objects: readonly CacheObjectView[]): Array<{ folder: string; objects: number; stored: number; size: number }> {
  const m = new Map<string, { folder: string; objects: number; stored: number; size: number }>();
  for (const o of objects) {
    const f = folderOf(o.key);
    const row = m.get(f) ?? { folder: f, objects: 0, stored: 0, size: 0 };
    row.objects++;
    row.stored += o.storedBytes;
    row.size += o.objectSize;
    m.set(f, row);
  }
  return [...m.values()].sort((a, b) => b.stored - a.stored);
}

export interface Candidate {
  key: string;
  bytes: number;
  atime: number | null;
  staging: boolean;
}

export function asCandidate(c: { key: string } & Record<string, unknown>): Candidate {
  return {
    key: c.key,
    bytes: typeof c['bytes'] === 'number' ? c['bytes'] : 0,
    atime: typeof c['atime'] === 'number' ? c['atime'] : null,
    staging: c['staging'] === true,
  };
}

/** The prefix of the cull order that frees at least `want` bytes (staging objects never count). */
export function wouldGo(candidates: readonly Candidate[], want: number): Candidate[] {
  const out: Candidate[] = [];
  let sum = 0;
  for (const c of candidates) {
    if (sum >= want) break;
    if (c.staging) continue;
    out.push(c);
    sum += c.bytes;
  }
  return out;
}
