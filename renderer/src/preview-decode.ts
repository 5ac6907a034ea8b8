/**
 * Turning the bytes of a preview range (files.preview, base64) into something to show: text
 * (UTF-8, shown as text, never as HTML), an image (decoded to pixels, drawn on a canvas: no
 * blob: or data: URL is needed, so the strict CSP holds), or a hex dump of a binary file.
 */
export type PreviewKind = 'image' | 'text';

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/avif']);
const IMAGE_EXT: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp', avif: 'image/avif' };

/** The image type to decode as, or null for everything else (SVG included: it is shown as text). */
export function imageType(name: string, contentType: string | null): string | null {
  const ct = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (IMAGE_TYPES.has(ct)) return ct;
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return IMAGE_EXT[ext] ?? null;
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** True when the bytes read as text: no NUL, few control characters. */
export function looksLikeText(bytes: Uint8Array): boolean {
  let control = 0;
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) {
    const b = bytes[i] ?? 0;
    if (b === 0) return false;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27) control++;
  }
  return control <= n / 50;
}

export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** `00000000  89 50 4e 47 …  |.PNG…|` lines, 16 bytes each. */
export function hexDump(bytes: Uint8Array, max = 1024): string {
  const lines: string[] = [];
  const n = Math.min(bytes.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(n, off + 16));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join('\n');
}
