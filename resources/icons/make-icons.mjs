#!/usr/bin/env node
// Draws the app's icons as PNG files with Node alone (zlib for the image data), so that they
// can be made again without any image tool: `node resources/icons/make-icons.mjs`.
//
//   icon.png            512x512  the app icon (electron-builder turns it into .icns / .ico)
//   tray-<state>.png    32x32    the tray icon per sync state (main/tray.ts TRAY_ICONS)
//
// The picture: two arrows chasing each other round a circle (sync), white on a coloured disc or
// rounded square; each pixel is 4x4 supersampled for smooth edges.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const here = new URL('.', import.meta.url);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Encodes RGBA pixels (size x size x 4 bytes) as a PNG file. */
export function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Inside test of the shape at (x, y) in the unit square: 'bg', 'fg' or null (transparent). */
function shape(x, y, { square }) {
  const cx = x - 0.5;
  const cy = y - 0.5;
  const r = Math.hypot(cx, cy);
  let inBg;
  if (square) {
    const half = 0.46;
    const corner = 0.1;
    const qx = Math.max(Math.abs(cx) - (half - corner), 0);
    const qy = Math.max(Math.abs(cy) - (half - corner), 0);
    inBg = Math.abs(cx) <= half && Math.abs(cy) <= half && Math.hypot(qx, qy) <= corner;
  } else {
    inBg = r <= 0.48;
  }
  if (!inBg) return null;
  // Two arcs of a ring, each ending in an arrow head.
  const angle = (Math.atan2(cy, cx) + 2 * Math.PI) % (2 * Math.PI);
  const ring = r >= 0.22 && r <= 0.31;
  const gap = (a) => (a > 1.2 && a < 1.75) || (a > 4.35 && a < 4.9);
  if (ring && !gap(angle)) return 'fg';
  for (const start of [1.2, 4.35]) {
    // Arrow head: a triangle at the end of each arc, pointing along the circle.
    const tipA = start + 0.45;
    const baseX = 0.265 * Math.cos(start);
    const baseY = 0.265 * Math.sin(start);
    const tipX = 0.265 * Math.cos(tipA);
    const tipY = 0.265 * Math.sin(tipA);
    const nx = Math.cos(start);
    const ny = Math.sin(start);
    const p1 = [baseX + nx * 0.12, baseY + ny * 0.12];
    const p2 = [baseX - nx * 0.12, baseY - ny * 0.12];
    if (inTriangle([cx, cy], p1, p2, [tipX, tipY])) return 'fg';
  }
  return 'bg';
}

function inTriangle(p, a, b, c) {
  const s = (u, v, w) => (u[0] - w[0]) * (v[1] - w[1]) - (v[0] - w[0]) * (u[1] - w[1]);
  const d1 = s(p, a, b);
  const d2 = s(p, b, c);
  const d3 = s(p, c, a);
  const neg = d1 < 0 || d2 < 0 || d3 < 0;
  const pos = d1 > 0 || d2 > 0 || d3 > 0;
  return !(neg && pos);
}

/** Renders one icon: `bg` and `fg` are [r, g, b]. */
export function drawIcon(size, bg, fg, options = { square: false }) {
  const rgba = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const hit = shape((x + (sx + 0.5) / n) / size, (y + (sy + 0.5) / n) / size, options);
          if (hit === null) continue;
          const c = hit === 'fg' ? fg : bg;
          r += c[0];
          g += c[1];
          b += c[2];
          a += 1;
        }
      }
      const o = (y * size + x) * 4;
      if (a > 0) {
        rgba[o] = Math.round(r / a);
        rgba[o + 1] = Math.round(g / a);
        rgba[o + 2] = Math.round(b / a);
      }
      rgba[o + 3] = Math.round((255 * a) / (n * n));
    }
  }
  return encodePng(size, rgba);
}

const WHITE = [255, 255, 255];
/** Tray colours per sync state (main/tray.ts). */
export const TRAY_COLOURS = {
  idle: [22, 163, 74],
  syncing: [37, 99, 235],
  paused: [107, 114, 128],
  offline: [180, 83, 9],
  error: [220, 38, 38],
};

if (process.argv[1] === new URL(import.meta.url).pathname) {
  writeFileSync(new URL('icon.png', here), drawIcon(512, [37, 99, 235], WHITE, { square: true }));
  for (const [state, colour] of Object.entries(TRAY_COLOURS)) {
    writeFileSync(new URL(`tray-${state}.png`, here), drawIcon(32, colour, WHITE));
  }
  process.stdout.write('icons written to resources/icons/\n');
}
