/** The thumbnail maker and the choice of which messages get one, without the runtime. */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../lambdas/domain/model.js';
import { makePreview } from '../../lambdas/domain/preview-image.js';
import { previewTaskFor } from '../../lambdas/domain/previews.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { png } from '../support/media.js';

/** A real PNG header claiming `width` x `height`, with no pixel data behind it. */
function pngHeader(width: number, height: number, depth = 8, colorType = 6): Buffer {
  const head = png();
  head.writeUInt32BE(width, 16);
  head.writeUInt32BE(height, 20);
  head[24] = depth;
  head[25] = colorType;
  return head;
}

/** SOI + a baseline SOF0 of `width` x `height` (3 components), then EOI: the decoder reads the size first. */
function jpegHeader(width: number, height: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

const message = (type: ChatMessage['type'], format: string): ChatMessage => ({
  id: '01KB0000000000000000000000',
  type,
  content: '',
  sender: 'alice',
  room: 'general',
  timestamp: new Date(0).toISOString(),
  attachment: { id: '01KB0000000000000000000001', size: 10, format, key: 'media/01KB0000000000000000000001' },
});

describe('makePreview', () => {
  it('refuses a PNG over the pixel cap from its header alone (a decode bomb is never inflated)', () => {
    const result = makePreview(pngHeader(10_000, 5_000), 'png');
    expect(result).toEqual({ status: 'too_large', pixels: 50_000_000 });
  });

  it('refuses a 16-bit RGBA PNG whose scanlines would exceed the cap, though its pixels do not', () => {
    expect(makePreview(pngHeader(6_000, 5_000, 16, 6), 'png').status).toBe('too_large');
  });

  it('refuses a JPEG over the pixel cap through the decoder’s own limit', () => {
    const result = makePreview(jpegHeader(8_000, 6_000), 'jpg');
    expect(result.status).toBe('too_large');
  });

  it('answers corrupt, never throws, for bytes that only look like an image', () => {
    expect(makePreview(Buffer.concat([png(), Buffer.alloc(100, 7)]), 'png').status).toBe('corrupt');
    expect(makePreview(jpegHeader(100, 100), 'jpg').status).toBe('corrupt');
    expect(makePreview(Buffer.from([0x89, 0x50]), 'png').status).toBe('corrupt');
  });

  it('flattens transparency onto white and stays under the size limit', () => {
    const image = new PNG({ width: 128, height: 128 });
    image.data = Buffer.alloc(128 * 128 * 4, 0);
    const result = makePreview(PNG.sync.write(image), 'png');
    if (result.status !== 'made') throw new Error(result.status);
    expect(result.dataUrl.length).toBeLessThanOrEqual(LIMITS.previewMaxChars);
    const thumb = jpeg.decode(Buffer.from(result.dataUrl.split(',')[1]!, 'base64'), { useTArray: true });
    expect([thumb.width, thumb.height]).toEqual([LIMITS.previewLongestSidePx, LIMITS.previewLongestSidePx]);
    expect(Math.min(...thumb.data.filter((_, i) => i % 4 !== 3))).toBeGreaterThan(245);
  });
});

describe('previewTaskFor', () => {
  it('queues png and jpg/jpeg images only: gif, webp and audio get none', () => {
    expect(previewTaskFor(message('image', 'png'))).toMatchObject({ kind: 'preview', format: 'png', room: 'general' });
    expect(previewTaskFor(message('image', 'jpeg'))?.format).toBe('jpg');
    expect(previewTaskFor(message('image', 'jpg'))?.format).toBe('jpg');
    for (const format of ['gif', 'webp']) expect(previewTaskFor(message('image', format))).toBeUndefined();
    expect(previewTaskFor(message('audio', 'mp3'))).toBeUndefined();
    expect(previewTaskFor({ ...message('image', 'png'), attachment: undefined })).toBeUndefined();
  });
});
