/**
 * Media checks: strict base64 decoding and magic-number detection, so the declared `format` of an
 * image or audio message must match its bytes.
 */
import { LIMITS, MEDIA_MAX_BASE64_CHARS } from '../shared/limits.js';
import { ChatError } from './errors.js';

export const IMAGE_FORMATS = ['png', 'jpg', 'jpeg', 'gif', 'webp'] as const;
export const AUDIO_FORMATS = ['wav', 'mp3', 'ogg', 'webm'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];
export type AudioFormat = (typeof AUDIO_FORMATS)[number];
export type MediaKind = 'image' | 'audio';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL_RE = /^data:[a-z]+\/[a-z0-9.+-]+;base64,/i;

const startsWith = (bytes: Buffer, sig: number[], offset = 0) =>
  bytes.length >= offset + sig.length && sig.every((b, i) => bytes[offset + i] === b);
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** Detects the container format from magic numbers. */
export function detectFormat(bytes: Buffer): ImageFormat | AudioFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WAVE'), 8)) return 'wav';
  if (startsWith(bytes, ascii('OggS'))) return 'ogg';
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return 'webm';
  if (startsWith(bytes, ascii('ID3'))) return 'mp3';
  // MPEG audio frame sync: 11 set bits, then a valid version/layer (not "reserved").
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0 && (bytes[1]! & 0x06) !== 0) return 'mp3';
  return undefined;
}

function normalizeFormat(format: string): string {
  const f = format.trim().toLowerCase();
  return f === 'jpeg' ? 'jpg' : f;
}

export interface CheckedMedia {
  /** Canonical base64 (any data-URL prefix removed). */
  base64: string;
  format: string;
  bytes: number;
}

/**
 * Validates base64 media of a given kind and declared format. Accepts an optional data-URL prefix
 * (`data:image/png;base64,`), as browsers produce them, and stores the bare base64.
 */
export function checkMedia(kind: MediaKind, content: string, declaredFormat: string | undefined): CheckedMedia {
  const allowed: readonly string[] = kind === 'image' ? IMAGE_FORMATS : AUDIO_FORMATS;
  if (declaredFormat === undefined || declaredFormat === '') {
    throw new ChatError('validation_error', `${kind} messages need a format (${allowed.join(', ')})`);
  }
  const format = declaredFormat.trim().toLowerCase();
  if (!allowed.includes(format)) {
    throw new ChatError('unsupported_type', `Unsupported ${kind} format "${format.slice(0, 16)}"; use one of ${allowed.join(', ')}`);
  }
  const base64 = content.replace(DATA_URL_RE, '');
  if (base64.length > MEDIA_MAX_BASE64_CHARS) {
    throw new ChatError('payload_too_large', `${kind} is larger than ${LIMITS.mediaMaxBytes} bytes`);
  }
  if (base64.length === 0) throw new ChatError('validation_error', `${kind} content is empty`);
  if (base64.length % 4 !== 0 || !BASE64_RE.test(base64)) {
    throw new ChatError('invalid_base64', `${kind} content is not valid base64`);
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > LIMITS.mediaMaxBytes) {
    throw new ChatError('payload_too_large', `${kind} is larger than ${LIMITS.mediaMaxBytes} bytes`);
  }
  const detected = detectFormat(bytes);
  if (detected === undefined || detected !== normalizeFormat(format)) {
    throw new ChatError(
      'format_mismatch',
      detected ? `Declared format "${format}" but the data is ${detected}` : `Data is not a recognizable ${format} file`,
    );
  }
  return { base64, format, bytes: bytes.length };
}
