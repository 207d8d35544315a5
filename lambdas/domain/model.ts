/** The stored records and the wire shapes built from them. */
import type { MessageType } from './schemas.js';

export type StreamItemKind = 'message' | 'broadcast' | 'event';

/** A chat message as clients see it (the seed's fields plus id, room and timestamp). */
export interface ChatMessage {
  id: string;
  type: MessageType;
  content: string;
  sender: string;
  format?: string;
  room: string;
  timestamp: string;
  /** The sender's own id for the message (retries with it are answered with this message). */
  client_id?: string;
  /** An uploaded file in place of inline content (lambdas/domain/attachments.ts). */
  attachment?: MessageAttachment;
}

/**
 * An attachment of a message. Stored with its object `key`; readers get `url` (a presigned GET)
 * and `expires_at` instead, signed on every read.
 */
export interface MessageAttachment {
  id: string;
  size: number;
  format: string;
  key?: string;
  url?: string;
  expires_at?: string;
  /** A small `data:` URL thumbnail of an image. */
  preview?: string;
}

/** A published event as clients see it. */
export interface PublishedEvent {
  id: string;
  event_type: string;
  data: Record<string, unknown>;
  timestamp: string;
}

/** One entry of a stream (a room, or the global stream of broadcasts and events). */
export type StreamItem =
  | { kind: 'message'; stream: string; message: ChatMessage }
  | { kind: 'broadcast'; stream: string; message: ChatMessage }
  | { kind: 'event'; stream: string; event: PublishedEvent };

export const GLOBAL_STREAM = 'global';
export const roomStream = (room: string) => `room#${room}`;
export const DEFAULT_ROOM = 'general';

export function itemId(item: StreamItem): string {
  return item.kind === 'event' ? item.event.id : item.message.id;
}

/** Identity of a caller, from the authorizer (or the `anonymous` identity when auth is off). */
export interface Identity {
  userId: string;
  roles: string[];
}

export type WireProtocol = 'json' | 'socketio';

export interface ConnectionRecord {
  connectionId: string;
  room: string | null;
  userId: string;
  roles: string[];
  protocol: WireProtocol;
  connectedAt: string;
}

/** A server-to-client event, before a protocol codec encodes it. */
export interface ServerEvent {
  event: string;
  data: unknown;
}
