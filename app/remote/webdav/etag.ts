/**
 * Entity tags (RFC 9110 §8.8.3): `"opaque"` is strong, `W/"opaque"` is weak, anything else
 * is malformed and treated as no tag at all for preconditions (it may still be compared
 * for change detection, exactly as received).
 */
import type { EtagStrength } from '../../api/remote.js';

// etagc = %x21 / %x23-7E / obs-text (%x80-FF): any visible character but DQUOTE.
const ETAG = /^(W\/)?"[\x21\x23-\x7e\x80-\uffff]*"$/;

export function etagStrength(etag: string | null | undefined): EtagStrength {
  if (etag === null || etag === undefined) return 'none';
  const m = ETAG.exec(etag);
  if (m === null) return 'none';
  return m[1] === undefined ? 'strong' : 'weak';
}

/** The tag as received, trimmed; null when absent or empty. */
export function cleanEtag(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const t = raw.trim();
  return t === '' ? null : t;
}

/** Weak comparison (RFC 9110 §8.8.3.2): the opaque parts are equal, whatever the W/ prefixes. */
export function etagsMatchWeakly(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  const strip = (t: string): string => (t.startsWith('W/') ? t.slice(2) : t);
  return strip(a) === strip(b);
}
