/**
 * Real PNG files (valid CRCs and zlib data, so a browser decodes them), built without any image
 * library: a solid-colour picture, or noise that does not compress (to exceed a size on purpose).
 */
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

/** An RGBA PNG of `width` x `height` whose pixel (x, y) is `pixel(x, y)`. */
export function rgbaPng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1); // filter byte 0 (None) first
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small picture: a diagonal split of two colours. */
export function smallPng(size = 24): Buffer {
  return rgbaPng(size, size, (x, y) => (x > y ? [47, 111, 222, 255] : [255, 196, 0, 255]));
}

/** Random pixels: the file is about width * height * 4 bytes, as noise does not compress. */
export function noisePng(width: number, height: number): Buffer {
  const noise = randomBytes(width * height * 3);
  return rgbaPng(width, height, (x, y) => {
    const i = (y * width + x) * 3;
    return [noise[i]!, noise[i + 1]!, noise[i + 2]!, 255];
  });
}

/** A short WAV clip: 8 kHz mono 8-bit, a 440 Hz tone. */
export function toneWav(ms = 300): Buffer {
  const rate = 8000;
  const samples = Buffer.alloc(Math.floor((rate * ms) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = 128 + Math.round(60 * Math.sin((2 * Math.PI * 440 * i) / rate));
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0); // PCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(rate, 8); // byte rate
  fmt.writeUInt16LE(1, 12); // block align
  fmt.writeUInt16LE(8, 14); // bits per sample
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const body = Buffer.concat([Buffer.from('WAVEfmt ', 'latin1'), u32(16), fmt, Buffer.from('data', 'latin1'), u32(samples.length), samples]);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), u32(body.length), body]);
}
