/** Uploads through the real contract: POST /api/uploads, then the multipart form to the S3 endpoint. */
import { randomBytes } from 'node:crypto';
import { jpeg, png } from '../support/media.js';
import { postJson } from '../local/helpers.js';

export interface Grant {
  attachment_id: string;
  upload: { url: string; fields: Record<string, string> };
  expires_at: string;
}

export async function requestUpload(httpUrl: string, token: string, body: unknown): Promise<{ status: number; body: Grant & { error?: { code: string } } }> {
  return postJson(`${httpUrl}/api/uploads`, body, { authorization: `Bearer ${token}` });
}

/** POSTs the file as a browser form does: the fields first, the file last. */
export async function postForm(upload: Grant['upload'], file: Buffer, contentType: string): Promise<{ status: number; text: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(file)], { type: contentType }), 'file');
  const res = await fetch(upload.url, { method: 'POST', body: form });
  return { status: res.status, text: await res.text() };
}

/** A real PNG header followed by random bytes up to `size` (the service checks magic numbers). */
export function pngOfSize(size: number): Buffer {
  const head = png();
  return Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]);
}

export function jpegOfSize(size: number): Buffer {
  const head = jpeg();
  return Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]);
}

/** Asks for an upload and posts the file; returns the attachment id. */
export async function upload(httpUrl: string, token: string, file: Buffer, type: 'image' | 'audio', format: string, contentType: string): Promise<string> {
  const grant = await requestUpload(httpUrl, token, { type, format, size: file.length });
  if (grant.status !== 201) throw new Error(`POST /api/uploads: ${grant.status} ${JSON.stringify(grant.body)}`);
  const posted = await postForm(grant.body.upload, file, contentType);
  if (posted.status !== 204) throw new Error(`upload: ${posted.status} ${posted.text}`);
  return grant.body.attachment_id;
}
