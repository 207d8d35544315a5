/**
 * Thumbnails of PNG and JPEG photos with the pure-JS codecs (pngjs, jpeg-js: no native code, so the
 * tasks bundle runs on any Lambda architecture). Decoding is bounded before it allocates: the PNG
 * header's dimensions and the JPEG decoder's own resolution and memory caps refuse an image over
 * LIMITS.previewMaxPixels, since a 10 MB file can hold a frame of hundreds of MB.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { LIMITS } from '../shared/limits.js';

export type PreviewFormat = 'png' | 'jpg';

export type PreviewResult =
  | { status: 'made'; dataUrl: string; width: number; height: number }
  /** The file does not decode (its magic number passed, the rest did not). */
  | { status: 'corrupt'; reason: string }
  /** Over the pixel cap: never decoded. */
  | { status: 'too_large'; pixels: number }
  /** The thumbnail came out over LIMITS.previewMaxChars (noise at 64 px can). */
  | { status: 'preview_too_large'; chars: number };

const DATA_URL_PREFIX = 'data:image/jpeg;base64,';

interface Raster {
  width: number;
  height: number;
  /** Interleaved 8-bit samples: 3 (RGB) or 4 (RGBA) per pixel. */
  data: Uint8Array;
  channels: 3 | 4;
}

/** Width and height from the IHDR chunk, which PNG requires first. */
function pngSize(bytes: Buffer): { width: number; height: number; bytesPerPixel: number } | undefined {
  if (bytes.length < 33 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const depth = bytes[24]!;
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25]!] ?? 4;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), bytesPerPixel: Math.max(1, (channels * depth) / 8) };
}

function decode(bytes: Buffer, format: PreviewFormat): Raster | PreviewResult {
  if (format === 'png') {
    const size = pngSize(bytes);
    if (!size) return { status: 'corrupt', reason: 'no IHDR chunk' };
    const pixels = size.width * size.height;
    // The inflated scanlines (16-bit samples: twice the 8-bit size) and the RGBA output both live at once.
    if (pixels > LIMITS.previewMaxPixels || pixels * size.bytesPerPixel > LIMITS.previewMaxPixels * 4) return { status: 'too_large', pixels };
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, data: png.data, channels: 4 };
  }
  const image = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: LIMITS.previewMaxPixels / 1_000_000,
    maxMemoryUsageInMB: LIMITS.previewDecodeMaxMemoryMb,
  });
  return { width: image.width, height: image.height, data: image.data, channels: 3 };
}

/** Box filter: each output pixel is the mean of the source pixels it covers; alpha over white. */
export function downscale(src: Raster, longest: number): { width: number; height: number; rgba: Buffer } {
  const scale = Math.min(1, longest / Math.max(src.width, src.height));
  const width = Math.max(1, Math.round(src.width * scale));
  const height = Math.max(1, Math.round(src.height * scale));
  const sums = new Float64Array(width * height * 3);
  const counts = new Uint32Array(width * height);
  const column = new Uint32Array(src.width);
  for (let x = 0; x < src.width; x++) column[x] = Math.min(width - 1, Math.floor((x * width) / src.width));
  const { data, channels } = src;
  for (let y = 0; y < src.height; y++) {
    const row = Math.min(height - 1, Math.floor((y * height) / src.height)) * width;
    let i = y * src.width * channels;
    for (let x = 0; x < src.width; x++, i += channels) {
      const o = row + column[x]!;
      const a = channels === 4 ? data[i + 3]! / 255 : 1;
      const white = 255 * (1 - a);
      sums[o * 3] += data[i]! * a + white;
      sums[o * 3 + 1] += data[i + 1]! * a + white;
      sums[o * 3 + 2] += data[i + 2]! * a + white;
      counts[o]! += 1;
    }
  }
  const rgba = Buffer.alloc(width * height * 4);
  for (let o = 0; o < width * height; o++) {
    const n = counts[o] || 1;
    rgba[o * 4] = Math.round(sums[o * 3]! / n);
    rgba[o * 4 + 1] = Math.round(sums[o * 3 + 1]! / n);
    rgba[o * 4 + 2] = Math.round(sums[o * 3 + 2]! / n);
    rgba[o * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/** A `data:image/jpeg;base64,` thumbnail of the image, or why there is none. Never throws on bad input. */
export function makePreview(bytes: Buffer, format: PreviewFormat): PreviewResult {
  let raster: Raster | PreviewResult;
  try {
    raster = decode(bytes, format);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // jpeg-js reports its resolution and memory caps as errors ("... limit exceeded"): not a corrupt file.
    if (/limit exceeded|allocate enough memory/.test(reason)) return { status: 'too_large', pixels: Number.NaN };
    return { status: 'corrupt', reason: reason.slice(0, 200) };
  }
  if ('status' in raster) return raster;
  if (raster.width < 1 || raster.height < 1) return { status: 'corrupt', reason: 'empty image' };
  const small = downscale(raster, LIMITS.previewLongestSidePx);
  const encoded = jpeg.encode({ width: small.width, height: small.height, data: small.rgba }, LIMITS.previewJpegQuality);
  const dataUrl = DATA_URL_PREFIX + encoded.data.toString('base64');
  if (dataUrl.length > LIMITS.previewMaxChars) return { status: 'preview_too_large', chars: dataUrl.length };
  return { status: 'made', dataUrl, width: small.width, height: small.height };
}
