/**
 * Building and validating chat messages: the seed's four ways of sending (`message`, `send_text`,
 * `send_image`, `send_audio`, and the REST body) all end up as one normalized message.
 */
import { LIMITS } from '../shared/limits.js';
import { ChatError } from './errors.js';
import { ulid } from './ids.js';
import { checkMedia } from './media.js';
import type { ChatMessage, MessageAttachment } from './model.js';
import { MESSAGE_TYPES, type MessageType } from './base-schemas.js';

export interface DraftMessage {
  type: string;
  content: string;
  sender: string;
  format?: string;
  clientId?: string;
  /** An uploaded attachment in place of `content` (its uploader must be `uploader`). */
  attachmentId?: string;
  /** The authenticated user sending (owner of the attachment). */
  uploader?: string;
}

/** Validates content against its type and limits; returns the message with a fresh server id. */
export function buildMessage(draft: DraftMessage, room: string, now: number): ChatMessage {
  if (!(MESSAGE_TYPES as readonly string[]).includes(draft.type)) {
    throw new ChatError('unsupported_type', `Unsupported message type "${String(draft.type).slice(0, 32)}"; use text, image or audio`);
  }
  const type = draft.type as MessageType;
  let content = draft.content;
  let format: string | undefined;
  if (type === 'text') {
    if (content.trim().length === 0) throw new ChatError('validation_error', 'text must not be empty');
    if (content.length > LIMITS.textMaxChars) {
      throw new ChatError('payload_too_large', `text is at most ${LIMITS.textMaxChars} characters`);
    }
    if (draft.format !== undefined && draft.format !== '' && draft.format !== 'text' && draft.format !== 'plain') {
      throw new ChatError('validation_error', 'text messages take no format');
    }
  } else {
    const media = checkMedia(type, content, draft.format);
    content = media.base64;
    format = media.format;
  }
  const message: ChatMessage = {
    id: ulid(now),
    type,
    content,
    sender: draft.sender,
    room,
    timestamp: new Date(now).toISOString(),
  };
  if (format !== undefined) message.format = format;
  if (draft.clientId !== undefined) message.client_id = draft.clientId;
  return message;
}

/** A final guard: the encoded frame must fit one API Gateway WebSocket message. */
export function assertFitsOneFrame(frame: string): void {
  if (Buffer.byteLength(frame, 'utf8') > LIMITS.wsMessageBytes) {
    throw new ChatError('payload_too_large', `Message does not fit one ${LIMITS.wsMessageBytes}-byte WebSocket message`);
  }
}

/** A message carrying an accepted attachment (its type is the upload's); no inline content. */
export function buildAttachmentMessage(draft: DraftMessage, type: 'image' | 'audio', attachment: MessageAttachment, room: string, now: number): ChatMessage {
  if (draft.content !== '') throw new ChatError('validation_error', 'Send either content or attachment_id, not both');
  if (draft.type !== type) throw new ChatError('validation_error', `The attachment is ${type}, not ${String(draft.type).slice(0, 16)}`);
  const canonical = (f: string) => (f.trim().toLowerCase() === 'jpeg' ? 'jpg' : f.trim().toLowerCase());
  if (draft.format !== undefined && draft.format !== '' && canonical(draft.format) !== canonical(attachment.format)) {
    throw new ChatError('format_mismatch', `Declared format "${draft.format.slice(0, 16)}" but the attachment is ${attachment.format}`);
  }
  const message: ChatMessage = {
    id: ulid(now),
    type,
    content: '',
    sender: draft.sender,
    room,
    timestamp: new Date(now).toISOString(),
    format: attachment.format,
    attachment,
  };
  if (draft.clientId !== undefined) message.client_id = draft.clientId;
  return message;
}

/**
 * Inline content is required unless an attachment replaces it (the schemas make both optional);
 * the error reads as the schema's would.
 */
export function contentOrAttachment(what: string, field: string, content: string | undefined, attachmentId: string | undefined): string {
  if (content !== undefined) return content;
  if (attachmentId !== undefined) return '';
  throw new ChatError('validation_error', `Invalid ${what}: ${field}: ${field} must be a string`);
}
