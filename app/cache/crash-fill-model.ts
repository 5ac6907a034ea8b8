/**
 * What the crash-fill test (crash-fill.test.ts) and its child (crash-fill-child.ts) agree on:
 * the cache's shape, the remote files' versions, and the true bytes of each version, a pure
 * function of (key, version, offset), so the parent can tell right bytes from wrong ones
 * without having seen what the killed child wrote.
 *
 *   key k in 0..KEYS-1: remote path /fill/k<k>.bin
 *   version v (1..3):   etag "v<v>", lastModified 1000 v, size fillSize(k, v)
 *   child i uses version 1 + floor(i / 8) % 3 (so a run mostly keeps, sometimes changes, it)
 */
export const FILL_VOLUME = 'fill';
export const FILL_BLOCK = 4096;
export const FILL_GRANULE = 16384;
export const FILL_KEYS = 4;

export const fillKey = (k: number): string => `/fill/k${k}.bin`;

export function fillSize(k: number, v: number): number {
  return 150_000 + k * 37_003 + v * 5_011;
}

export function fillAux(k: number, v: number): { etag: string; lastModified: number; size: number } {
  return { etag: `"v${v}"`, lastModified: 1000 * v, size: fillSize(k, v) };
}

/** The version a key's etag names, or null. */
export function versionOf(etag: string | null): number | null {
  const m = /^"v(\d)"$/.exec(etag ?? '');
  return m === null ? null : Number(m[1]);
}

export function versionForChild(i: number): number {
  return 1 + (Math.floor(i / 8) % 3);
}

/** The true bytes [start, start + len) of version v of key k. */
export function truth(k: number, v: number, start: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  const salt = Math.imul(k + 1, 0x9e3779b1) ^ Math.imul(v, 0x85ebca6b);
  for (let i = 0; i < len; i++) {
    let x = Math.imul((start + i) ^ salt, 0x27d4eb2d);
    x ^= x >>> 15;
    out[i] = x & 0xff;
  }
  return out;
}
