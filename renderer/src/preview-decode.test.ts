// Preview bytes (files.preview, base64) to text, image or hex (issue 8 "Files": preview of
// text and images; M6: shown as text, an SVG is never rendered as an image).
import { describe, expect, it } from 'vitest';
import { base64ToBytes, decodeText, hexDump, imageType, looksLikeText } from './preview-decode.js';

describe('preview-decode', () => {
  it('decodes base64 and UTF-8 (a bad sequence becomes U+FFFD, never throws)', () => {
    const bytes = base64ToBytes(Buffer.from('héllo <b>', 'utf8').toString('base64'));
    expect(decodeText(bytes)).toBe('héllo <b>');
    expect(decodeText(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\uFFFDb');
  });

  it('tells text from binary', () => {
    expect(looksLikeText(new TextEncoder().encode('line 1\nline 2\ttab\r\n'))).toBe(true);
    expect(looksLikeText(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]))).toBe(false);
    expect(looksLikeText(new Uint8Array(100).fill(1))).toBe(false);
  });

  it('picks images by content type, then by extension; SVG and unknown types are not images', () => {
    expect(imageType('a.bin', 'image/png')).toBe('image/png');
    expect(imageType('photo.JPG', null)).toBe('image/jpeg');
    expect(imageType('x.svg', 'image/svg+xml')).toBeNull();
    expect(imageType('<img src=x onerror=alert(1)>.txt', null)).toBeNull();
  });

  it('hex dump: offset, 16 bytes, printable column', () => {
    expect(hexDump(new TextEncoder().encode('ABC\n'))).toBe('00000000  41 42 43 0a                                      |ABC.|');
  });
});
