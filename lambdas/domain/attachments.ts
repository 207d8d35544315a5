/**
 * Attachments: photos and voice notes too large for a WebSocket frame go to object storage. A
 * client asks for an upload (a presigned POST whose policy fixes the key under its own id, the
 * Content-Type of the format and the largest size), posts the file there, then sends a message
 * with the `attachment_id`. Accepting that message checks, with one conditional write, that the
 * upload is the sender's and unused, then that the object exists, fits its limit and starts with
 * the magic number of its format; the checked object is copied out of the uploader's reach
 * (`media/`), so what readers get is what was checked. Readers get a presigned GET, signed each
 * time a message is read, never stored.
 */
import { LIMITS } from '../shared/limits.js';
import { MEDIA_BUCKET } from '../shared/resources.js';
import { ChatError } from './errors.js';
import { ulid } from './ids.js';
import { AUDIO_FORMATS, detectFormat, IMAGE_FORMATS, type MediaKind } from './media.js';
import type { ChatMessage, MessageAttachment, StreamItem } from './model.js';

export const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  webm: 'audio/webm',
};

export const attachmentMaxBytes = (kind: MediaKind) => (kind === 'image' ? LIMITS.attachmentImageMaxBytes : LIMITS.attachmentAudioMaxBytes);

/** A presigned upload the service handed out, until a message uses it. */
export interface PendingUpload {
  id: string;
  owner: string;
  type: MediaKind;
  format: string;
  /** The declared size: the policy's `content-length-range` upper bound. */
  size: number;
  key: string;
  /** Epoch seconds after which the upload can no longer be used (its record's TTL). */
  expiresAt: number;
  /** `<sender>#<client_id>` (or the message id) of the message that used it. */
  usedBy?: string;
}

export type MarkUsedOutcome =
  | { status: 'claimed'; upload: PendingUpload }
  | { status: 'missing' }
  | { status: 'foreign' }
  | { status: 'used'; upload: PendingUpload };

/** The records of pending uploads (the messages table, with a TTL). */
export interface UploadRecords {
  put(upload: PendingUpload): Promise<void>;
  /** One conditional write: marks the upload used by `usedBy` if it exists, is the owner's, unexpired and unused. */
  markUsed(id: string, owner: string, usedBy: string, nowSeconds: number): Promise<MarkUsedOutcome>;
  /** Makes an upload usable again after the message that claimed it was refused or not stored. */
  release(id: string, usedBy: string): Promise<void>;
}

export interface PresignedUpload {
  url: string;
  fields: Record<string, string>;
}

/** Signs presigned POSTs (a local computation: no call to S3). */
export interface UploadSigner {
  presignPost(key: string, contentType: string, maxBytes: number, expiresSeconds: number): Promise<PresignedUpload>;
}

export interface ObjectInfo {
  size: number;
  etag: string;
}

/** The objects of the attachments bucket the message path touches. */
export interface AttachmentObjects {
  head(key: string): Promise<ObjectInfo | undefined>;
  /** The first `bytes` bytes of the object, only if it still has `etag`. */
  readStart(key: string, bytes: number, etag: string): Promise<Buffer>;
  /** Server-side copy, only if the source still has `etag`. */
  copy(from: string, to: string, etag: string, contentType: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** Presigned GETs (local computation). */
export interface AttachmentLinks {
  sign(key: string, expiresSeconds: number): Promise<string>;
}

export interface UploadInput {
  type: string;
  format: string;
  size: number;
}

export interface UploadGrant {
  attachment_id: string;
  upload: PresignedUpload;
  expires_at: string;
}

/** An attachment checked and copied for a message; `release`/`finish` settle its upload. */
export interface AcceptedAttachment {
  type: MediaKind;
  attachment: MessageAttachment;
  /** The message was refused or not stored: the upload may be used again. */
  release(): Promise<void>;
  /** The message is stored: the upload copy is no longer needed. */
  finish(): Promise<void>;
}

/** Keys carry the owner in a form safe for any user id. */
const ownerSegment = (owner: string) => Buffer.from(owner, 'utf8').toString('base64url') || '_';
export const uploadKey = (owner: string, id: string) => `${MEDIA_BUCKET.uploadsPrefix}${ownerSegment(owner)}/${id}`;
export const mediaKey = (id: string) => `${MEDIA_BUCKET.mediaPrefix}${id}`;

const canonical = (format: string) => (format === 'jpeg' ? 'jpg' : format);

export interface AttachmentDeps {
  /** Accepting attachments for messages (the message path). */
  records?: Pick<UploadRecords, 'markUsed' | 'release'>;
  objects?: AttachmentObjects;
  /** Handing out uploads (`POST /api/uploads`). */
  uploads?: { records: Pick<UploadRecords, 'put'>; signer: UploadSigner };
  /** Signing download URLs for readers. */
  links?: AttachmentLinks;
}

export class AttachmentService {
  constructor(private readonly deps: AttachmentDeps) {}

  /** `POST /api/uploads`: validates type, format and size, records the upload, signs its POST. */
  async createUpload(owner: string, input: UploadInput, now: number): Promise<UploadGrant> {
    if (input.type !== 'image' && input.type !== 'audio') {
      throw new ChatError('unsupported_type', `Unsupported attachment type "${String(input.type).slice(0, 16)}"; use image or audio`);
    }
    const kind: MediaKind = input.type;
    const allowed: readonly string[] = kind === 'image' ? IMAGE_FORMATS : AUDIO_FORMATS;
    const format = input.format.trim().toLowerCase();
    if (!allowed.includes(format)) {
      throw new ChatError('unsupported_type', `Unsupported ${kind} format "${format.slice(0, 16)}"; use one of ${allowed.join(', ')}`);
    }
    const max = attachmentMaxBytes(kind);
    if (input.size > max) throw new ChatError('payload_too_large', `${kind} attachments are at most ${max} bytes`);
    const uploads = this.deps.uploads;
    if (!uploads) throw new Error('no upload signer wired');
    const id = ulid(now);
    const key = uploadKey(owner, id);
    const nowSeconds = Math.floor(now / 1000);
    const upload = await uploads.signer.presignPost(key, CONTENT_TYPES[format]!, input.size, LIMITS.uploadUrlExpirySeconds);
    await uploads.records.put({
      id,
      owner,
      type: kind,
      format,
      size: input.size,
      key,
      expiresAt: nowSeconds + LIMITS.unreferencedUploadDays * 86_400,
    });
    return { attachment_id: id, upload, expires_at: new Date((nowSeconds + LIMITS.uploadUrlExpirySeconds) * 1000).toISOString() };
  }

  /**
   * Checks an upload for a message of `owner` and copies it to `media/`. `usedBy` names the message
   * (sender and client id), so a retried send of the same message finds its own claim.
   */
  async accept(owner: string, id: string, usedBy: string, now: number): Promise<AcceptedAttachment> {
    const { records, objects } = this.deps;
    if (!objects || !records) throw new Error('no attachment objects wired');
    const outcome = await records.markUsed(id, owner, usedBy, Math.floor(now / 1000));
    switch (outcome.status) {
      case 'missing':
        throw new ChatError('not_found', 'No such attachment (unknown or expired attachment_id)');
      case 'foreign':
        throw new ChatError('forbidden', 'This attachment belongs to another user');
      case 'used':
        if (outcome.upload.usedBy !== usedBy) throw new ChatError('conflict', 'This attachment is already used by another message');
        // The same message again (a retry with its client_id): the stored message answers it.
        return this.accepted(outcome.upload, outcome.upload.size, async () => undefined, async () => undefined);
      case 'claimed':
        break;
    }
    const upload = outcome.upload;
    const release = () => records.release(id, usedBy).catch(() => undefined);
    try {
      const info = await objects.head(upload.key);
      if (!info) throw new ChatError('not_found', 'The attachment has not been uploaded (POST the file to upload.url first)');
      const max = Math.min(upload.size, attachmentMaxBytes(upload.type));
      if (info.size > max) throw new ChatError('payload_too_large', `The uploaded ${upload.type} is ${info.size} bytes, over its limit of ${max}`);
      if (info.size === 0) throw new ChatError('format_mismatch', 'The uploaded file is empty');
      const start = await objects.readStart(upload.key, LIMITS.attachmentSniffBytes, info.etag);
      const detected = detectFormat(start);
      if (detected === undefined || detected !== canonical(upload.format)) {
        throw new ChatError(
          'format_mismatch',
          detected ? `Declared format "${upload.format}" but the file is ${detected}` : `The file is not a recognizable ${upload.format} file`,
        );
      }
      await objects.copy(upload.key, mediaKey(id), info.etag, CONTENT_TYPES[upload.format]!);
      return this.accepted(upload, info.size, release, () => objects.remove(upload.key).catch(() => undefined));
    } catch (error) {
      await release();
      throw error;
    }
  }

  private accepted(upload: PendingUpload, size: number, release: () => Promise<unknown>, finish: () => Promise<unknown>): AcceptedAttachment {
    return {
      type: upload.type,
      attachment: { id: upload.id, size, format: upload.format, key: mediaKey(upload.id) },
      release: async () => {
        await release();
      },
      finish: async () => {
        await finish();
      },
    };
  }

  /** The message as readers get it: the storage key replaced by a fresh presigned GET. */
  async presentMessage(message: ChatMessage, now: number): Promise<ChatMessage> {
    const stored = message.attachment;
    if (!stored?.key) return message;
    const links = this.deps.links;
    if (!links) throw new Error('no attachment links wired');
    const expiry = LIMITS.downloadUrlExpirySeconds;
    const url = await links.sign(stored.key, expiry);
    const attachment: MessageAttachment = { id: stored.id, url, size: stored.size, format: stored.format, expires_at: new Date(now + expiry * 1000).toISOString() };
    if (stored.preview !== undefined) attachment.preview = stored.preview;
    return { ...message, attachment };
  }

  async presentItem(item: StreamItem, now: number): Promise<StreamItem> {
    if (item.kind === 'event' || !item.message.attachment) return item;
    return { ...item, message: await this.presentMessage(item.message, now) };
  }
}
