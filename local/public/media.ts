/**
 * Media the person picks or records: the service's format name of a file, its base64 content, and
 * a voice clip from the microphone that stays within the media limit. Small media travel inline as
 * base64, as the service stores them; the client sends what exceeds a WebSocket frame over REST.
 */
import { LIMITS } from '../../client/src/index.js';
import { AUDIO_FORMATS, IMAGE_FORMATS } from '../../lambdas/domain/media.js';

export type MediaKind = 'image' | 'audio';

export const IMAGE_MIME: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
export const AUDIO_MIME: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', webm: 'audio/webm' };

const MIME_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/wav': 'wav',
  'audio/wave': 'wav',
  'audio/x-wav': 'wav',
  'audio/vnd.wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
  'application/ogg': 'ogg',
  'video/ogg': 'ogg',
  'audio/webm': 'webm',
  'video/webm': 'webm',
};

export const allowedFormats = (kind: MediaKind): readonly string[] => (kind === 'image' ? IMAGE_FORMATS : AUDIO_FORMATS);

/** The service's format name for a file: from its MIME type, else from its extension. */
export function formatOf(kind: MediaKind, mime: string, fileName = ''): string | undefined {
  const base = mime.split(';')[0]!.trim().toLowerCase();
  const extension = fileName.includes('.') ? fileName.split('.').pop()!.toLowerCase() : '';
  const format = MIME_FORMATS[base] ?? extension;
  return allowedFormats(kind).includes(format) ? format : undefined;
}

export function readBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('Could not read the file'));
    reader.readAsDataURL(blob);
  });
}

export const mediaLimitKb = Math.round(LIMITS.mediaMaxBytes / 1024);

const RECORD_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg'];
const RECORD_BITRATE = 32_000;
/** Stop recording while the clip still fits the media limit (with a margin for container overhead). */
const MAX_RECORD_MS = Math.floor(((LIMITS.mediaMaxBytes * 8) / RECORD_BITRATE) * 1000 * 0.75);

export function recordingType(): string | undefined {
  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) return undefined;
  return RECORD_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
}

/** A recording in progress: `stop()` ends it and `done` resolves with the clip. */
export interface Recording {
  stop(): void;
  done: Promise<{ blob: Blob; format: string | undefined }>;
}

/** Starts recording from the microphone; `onTick` gets the elapsed seconds. */
export async function startRecording(onTick: (seconds: number) => void): Promise<Recording> {
  const mimeType = recordingType();
  if (!mimeType) throw new Error('This browser cannot record audio');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const recorder = new MediaRecorder(stream, { mimeType, audioBitsPerSecond: RECORD_BITRATE });
  const chunks: Blob[] = [];
  const stop = () => {
    if (recorder.state !== 'inactive') recorder.stop();
  };
  const limit = setTimeout(stop, MAX_RECORD_MS);
  const startedAt = Date.now();
  const ticker = setInterval(() => onTick(Math.floor((Date.now() - startedAt) / 1000)), 250);
  recorder.addEventListener('dataavailable', (event) => {
    if (event.data.size > 0) chunks.push(event.data);
  });
  const done = new Promise<{ blob: Blob; format: string | undefined }>((resolve) => {
    recorder.addEventListener('stop', () => {
      clearTimeout(limit);
      clearInterval(ticker);
      for (const track of stream.getTracks()) track.stop();
      const type = recorder.mimeType || mimeType;
      resolve({ blob: new Blob(chunks, { type }), format: formatOf('audio', type) });
    });
  });
  recorder.start();
  onTick(0);
  return { stop, done };
}
