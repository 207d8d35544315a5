/**
 * Tiny but real media files, built byte by byte: each starts with the container's true header (the
 * magic numbers the service checks), padded to a requested size where a test needs one.
 */
const ascii = (s: string) => Buffer.from(s, 'latin1');
const u32le = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u16le = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** 1x1 PNG: signature + IHDR + IDAT + IEND (CRCs are not checked by the service, zeroed here). */
export function png(): Buffer {
  const chunk = (type: string, data: Buffer) => Buffer.concat([u32be(data.length), ascii(type), data, u32be(0)]);
  const ihdr = Buffer.concat([u32be(1), u32be(1), Buffer.from([8, 6, 0, 0, 0])]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** JPEG: SOI + APP0 JFIF segment + EOI. */
export function jpeg(): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
    ascii('JFIF\0'),
    Buffer.from([0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** 1x1 GIF89a. */
export function gif(): Buffer {
  return Buffer.concat([
    ascii('GIF89a'),
    Buffer.from([0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00]),
    Buffer.from([0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b]),
  ]);
}

/** WEBP: RIFF header with the WEBP form type and a VP8L chunk header. */
export function webp(): Buffer {
  const vp8l = Buffer.concat([ascii('VP8L'), u32le(5), Buffer.from([0x2f, 0x00, 0x00, 0x00, 0x00, 0x00])]);
  return Buffer.concat([ascii('RIFF'), u32le(4 + vp8l.length), ascii('WEBP'), vp8l]);
}

/** WAV: RIFF/WAVE with a PCM fmt chunk and a short data chunk (8 kHz mono 8-bit silence). */
export function wav(samples = 8): Buffer {
  const fmt = Buffer.concat([u16le(1), u16le(1), u32le(8000), u32le(8000), u16le(1), u16le(8)]);
  const data = Buffer.alloc(samples, 0x80);
  const body = Buffer.concat([ascii('WAVE'), ascii('fmt '), u32le(fmt.length), fmt, ascii('data'), u32le(data.length), data]);
  return Buffer.concat([ascii('RIFF'), u32le(body.length), body]);
}

/** MP3 with an ID3v2.4 tag header followed by an MPEG-1 Layer III frame header. */
export function mp3(): Buffer {
  return Buffer.concat([ascii('ID3'), Buffer.from([0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]), mp3Frame()]);
}

/** A bare MPEG-1 Layer III frame (frame sync, no ID3 tag), 128 kbit/s 44.1 kHz. */
export function mp3Frame(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(28)]);
}

/** OGG: one page header ("OggS", version 0, BOS flag). */
export function ogg(): Buffer {
  return Buffer.concat([
    ascii('OggS'),
    Buffer.from([0x00, 0x02]),
    Buffer.alloc(8),
    u32le(1),
    u32le(0),
    u32le(0),
    Buffer.from([0x01, 0x1e]),
    Buffer.concat([Buffer.from([0x01]), ascii('vorbis')]),
  ]);
}

/** WEBM: EBML header element with DocType "webm". */
export function webm(): Buffer {
  const docType = Buffer.concat([Buffer.from([0x42, 0x82, 0x84]), ascii('webm')]);
  return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80 | docType.length]), docType]);
}

/** Pads a file to exactly `size` bytes (the header stays intact). */
export function padTo(file: Buffer, size: number): Buffer {
  if (file.length >= size) return file.subarray(0, size);
  return Buffer.concat([file, Buffer.alloc(size - file.length)]);
}

export const b64 = (bytes: Buffer) => bytes.toString('base64');

export const IMAGES = { png, jpg: jpeg, jpeg, gif, webp } as const;
export const AUDIO = { wav, mp3, ogg, webm } as const;
