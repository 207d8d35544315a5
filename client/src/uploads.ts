/**
 * Attachments: `POST /api/uploads` for a presigned S3 POST, then the file posted as a form (the
 * policy's fields first, the file last, as S3 requires). The returned `attachment_id` goes into a
 * message in place of `content`. Uses fetch and FormData (browsers and Node.js 22+); a page that
 * wants upload progress posts `upload.url` itself with XMLHttpRequest (see `requestUpload`).
 */
import { ChatClientError } from './errors.js';
import { HTTP_PATHS, LIMITS } from './generated.js';
import type { FetchLike, TokenSource } from './rest.js';

export const ATTACHMENT_FORMATS = {
  image: ['png', 'jpg', 'jpeg', 'gif', 'webp'],
  audio: ['wav', 'mp3', 'ogg', 'webm'],
} as const;

export type AttachmentType = keyof typeof ATTACHMENT_FORMATS;

export interface UploadGrant {
  attachment_id: string;
  upload: { url: string; fields: Record<string, string> };
  expires_at: string;
}

export interface UploadOptions {
  httpUrl: string;
  getToken: TokenSource;
  fetch?: FetchLike;
}

export interface AttachmentSpec {
  type: AttachmentType;
  /** png, jpg, ... (default: from the file's MIME type). */
  format?: string;
}

const MIME_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/webm': 'webm',
};

/** The attachment type and format of a file, from its MIME type; undefined when not supported. */
export function attachmentSpecOf(file: Blob): Required<AttachmentSpec> | undefined {
  const mime = file.type.split(';')[0]!.trim().toLowerCase();
  const format = MIME_FORMATS[mime];
  if (!format) return undefined;
  return { type: mime.startsWith('image/') ? 'image' : 'audio', format };
}

export function attachmentMaxBytes(type: AttachmentType): number {
  return type === 'image' ? LIMITS.attachmentImageMaxBytes : LIMITS.attachmentAudioMaxBytes;
}

async function failure(res: Response, what: string): Promise<ChatClientError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code) return new ChatClientError(body.error.code as ChatClientError['code'], body.error.message ?? what, { status: res.status });
  } catch {
    // S3 answers XML: keep its code.
  }
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const s3Code = code === 'EntityTooLarge' ? 'payload_too_large' : res.status === 403 ? 'forbidden' : 'protocol';
  return new ChatClientError(s3Code, `${what}: HTTP ${res.status}${code ? ` ${code}` : ''}`, { status: res.status });
}

/** Step 1: asks the service for an upload of `size` bytes. */
export async function requestUpload(options: UploadOptions, spec: Required<AttachmentSpec>, size: number): Promise<UploadGrant> {
  const fetchImpl = options.fetch ?? fetch;
  const token = await options.getToken();
  const res = await fetchImpl(`${options.httpUrl.replace(/\/+$/, '')}${HTTP_PATHS.createUpload}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ type: spec.type, format: spec.format, size }),
  });
  if (res.status !== 201) throw await failure(res, 'POST /api/uploads');
  return (await res.json()) as UploadGrant;
}

/** The form S3 expects: every policy field, then the file last. */
export function uploadForm(grant: UploadGrant, file: Blob): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
  form.append('file', file);
  return form;
}

/** Uploads a file and resolves with its `attachment_id`, to send as a message's `attachment_id`. */
export async function uploadAttachment(options: UploadOptions, file: Blob, spec: AttachmentSpec = attachmentSpecOf(file) ?? { type: 'image' }): Promise<string> {
  const format = spec.format ?? attachmentSpecOf(file)?.format;
  if (!format) throw new ChatClientError('unsupported_type', `Cannot tell the format of a "${file.type}" file; pass { type, format }`);
  const grant = await requestUpload(options, { type: spec.type, format }, file.size);
  const res = await (options.fetch ?? fetch)(grant.upload.url, { method: 'POST', body: uploadForm(grant, file) });
  if (!res.ok) throw await failure(res, 'upload');
  return grant.attachment_id;
}
