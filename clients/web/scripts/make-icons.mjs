// Draws the app's PNG icons (a white bridge on the brand red) without any image library, so the
// repository needs no binary tools to regenerate them: `node scripts/make-icons.mjs`.

import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
const RED = [0x9f, 0x2a, 0x2a];
const WHITE = [0xff, 0xff, 0xff];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** The colour at (x, y) in a 64-unit design space, as the SVG icon draws it. */
function pixel(x, y, { maskable }) {
  const s = maskable ? 0.8 : 1; // keep the drawing inside the maskable safe zone
  const u = (x - 32) / s + 32;
  const v = (y - 32) / s + 32;
  const r = maskable ? 0 : 14;
  const inRect = (px, py) => {
    const dx = Math.max(r - px, 0, px - (64 - r));
    const dy = Math.max(r - py, 0, py - (64 - r));
    return px >= 0 && px <= 64 && py >= 0 && py <= 64 && dx * dx + dy * dy <= r * r;
  };
  if (!inRect(x, y)) return null;
  const deck = v >= 44 && v <= 49 && u >= 8 && u <= 56;
  const d = Math.hypot(u - 32, (v - 44) * 1.0);
  const arch = v <= 44 && d <= 20 && d >= 14 && v >= 24;
  const piers = v >= 36 && v <= 44 && ((u >= 20 && u <= 24) || (u >= 40 && u <= 44));
  return deck || arch || piers ? WHITE : RED;
}

function png(size, options) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const c = pixel(((x + 0.5) * 64) / size, ((y + 0.5) * 64) / size, options);
      if (c) row.set([...c, 255], 1 + x * 4);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

writeFileSync(join(out, 'icon-192.png'), png(192, { maskable: false }));
writeFileSync(join(out, 'icon-512.png'), png(512, { maskable: false }));
writeFileSync(join(out, 'icon-maskable-512.png'), png(512, { maskable: true }));
console.log('wrote icons to', out);
