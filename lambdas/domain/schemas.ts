/**
 * Request, action and task schemas: the single definition of every payload the service accepts.
 * Field names follow the seed's contract. Written with `zod/mini`, whose functional API
 * tree-shakes to a few KB where classic zod adds ~450 KB to every Lambda bundle.
 */
import * as z from 'zod/mini';
import { LIMITS } from '../shared/limits.js';
import { roomSchema } from './base-schemas.js';
import { ULID_RE } from './ids.js';

// Defined with what the entry points use without the payload schemas (base-schemas.ts).
export { clientFrameSchema, roomSchema } from './base-schemas.js';

export const senderSchema = z.string({ error: 'sender must be a string' }).check(
  z.trim(),
  z.minLength(1, 'sender must not be empty'),
  z.maxLength(LIMITS.senderMaxChars, `sender is at most ${LIMITS.senderMaxChars} characters`),
);

export { MESSAGE_TYPES, type MessageType } from './base-schemas.js';

/** Content length is checked against the media/text limits by the message service. */
const contentSchema = (field: string) => z.string({ error: `${field} must be a string` });
const formatSchema = z.optional(z.string({ error: 'format must be a string' }).check(z.maxLength(16, 'format is at most 16 characters')));
/** `sender` may be left out when the caller is authenticated: it is then the caller's user id. */
const optionalSender = z.optional(senderSchema);
const optionalRoom = z.optional(roomSchema);
/** A client-supplied id that makes a retried send idempotent (LIMITS.clientIdWindowSeconds). */
const optionalClientId = z.optional(
  z.string({ error: 'client_id must be a string' }).check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'client_id is 1-64 letters, digits, "_" or "-"')),
);

/** An uploaded attachment (`POST /api/uploads`) sent in place of inline content. */
const optionalAttachmentId = z.optional(
  z.string({ error: 'attachment_id must be a string' }).check(z.regex(ULID_RE, 'attachment_id must be an id from POST /api/uploads')),
);

/** Seed payload of `POST /api/message`, `POST /api/messages/broadcast` and the WS `message` event. */
export const messageInputSchema = z.object({
  type: z.string({ error: 'type must be one of text, image, audio' }),
  /** Required unless `attachment_id` is given. */
  content: z.optional(contentSchema('content')),
  sender: optionalSender,
  format: formatSchema,
  room: optionalRoom,
  client_id: optionalClientId,
  attachment_id: optionalAttachmentId,
});
export type MessageInput = z.infer<typeof messageInputSchema>;

export const sendTextSchema = z.object({ text: contentSchema('text'), sender: optionalSender, room: optionalRoom, client_id: optionalClientId });
export const sendImageSchema = z.object({
  image: z.optional(contentSchema('image')),
  sender: optionalSender,
  format: formatSchema,
  room: optionalRoom,
  client_id: optionalClientId,
  attachment_id: optionalAttachmentId,
});
export const sendAudioSchema = z.object({
  audio: z.optional(contentSchema('audio')),
  sender: optionalSender,
  format: formatSchema,
  room: optionalRoom,
  client_id: optionalClientId,
  attachment_id: optionalAttachmentId,
});

export const publishEventSchema = z.object({
  event_type: z.string({ error: 'event_type must be a string' }).check(
    z.minLength(1, 'event_type must not be empty'),
    z.maxLength(LIMITS.eventTypeMaxChars, `event_type is at most ${LIMITS.eventTypeMaxChars} characters`),
    z.regex(/^[A-Za-z0-9_.:-]+$/, 'event_type may contain letters, digits, "_", "-", ".", ":"'),
  ),
  data: z._default(z.record(z.string(), z.unknown(), { error: 'data must be a JSON object' }), {}),
});

const messageId = (field: string) => z.string({ error: `${field} must be a message id` }).check(z.regex(ULID_RE, `${field} must be a message id`));

export const joinSchema = z.object({ room: roomSchema });
export const resumeSchema = z.object({ after: messageId('after'), room: optionalRoom });

export const historyQuerySchema = z.object({
  room: z._default(roomSchema, 'general'),
  before: z.optional(messageId('before')),
  limit: z._default(
    z.coerce.number({ error: 'limit must be a number' }).check(
      z.int('limit must be an integer'),
      z.gte(1, 'limit must be at least 1'),
      z.lte(LIMITS.historyMaxPage, `limit is at most ${LIMITS.historyMaxPage}`),
    ),
    LIMITS.historyDefaultPage,
  ),
});

/** `POST /api/uploads`: what is about to be uploaded; type, format and size are checked by the service. */
export const uploadRequestSchema = z.object({
  type: z.string({ error: 'type must be image or audio' }),
  format: z.string({ error: 'format must be a string' }).check(z.maxLength(16, 'format is at most 16 characters')),
  size: z.number({ error: 'size must be a number of bytes' }).check(z.int('size must be an integer'), z.gte(1, 'size must be at least 1')),
});

// Rooms (private rooms and direct messages).

/** A user id as tokens carry it (`sub`): no whitespace or control characters. */
export const userIdSchema = z.string({ error: 'user must be a string' }).check(
  z.minLength(1, 'user must not be empty'),
  z.maxLength(LIMITS.userIdMaxChars, `user is at most ${LIMITS.userIdMaxChars} characters`),
  z.regex(/^[^\s\p{Cc}]+$/u, 'user may not contain spaces or control characters'),
);

export const ROOM_VISIBILITIES = ['public', 'private'] as const;
export type RoomVisibility = (typeof ROOM_VISIBILITIES)[number];

export const createRoomSchema = z.object({
  name: roomSchema,
  visibility: z.enum(ROOM_VISIBILITIES, { error: 'visibility must be "public" or "private"' }),
  members: z.optional(
    z.array(userIdSchema, { error: 'members must be an array of user ids' }).check(
      z.maxLength(LIMITS.roomInitialMembersMax, `members lists at most ${LIMITS.roomInitialMembersMax} users`),
    ),
  ),
});

export const roomUserSchema = z.object({ user: userIdSchema });

export const roomsQuerySchema = z.object({
  cursor: z.optional(z.string({ error: 'cursor must be a string' }).check(z.maxLength(1024, 'cursor is not valid'))),
  limit: z._default(
    z.coerce.number({ error: 'limit must be a number' }).check(
      z.int('limit must be an integer'),
      z.gte(1, 'limit must be at least 1'),
      z.lte(LIMITS.roomsMaxPage, `limit is at most ${LIMITS.roomsMaxPage}`),
    ),
    LIMITS.roomsDefaultPage,
  ),
});

/** Path parameters of `/api/rooms/{room}/members[/{user}]`. */
export const roomPathSchema = z.object({ room: roomSchema });
export const memberPathSchema = z.object({ room: roomSchema, user: userIdSchema });

/** WebSocket `presence {"room"?}`: who is online in the room (default: the connection's). */
export const presenceActionSchema = z.object({ room: optionalRoom });

export const TYPING_STATES = ['start', 'stop'] as const;
/** WebSocket `typing {"room"?, "state"}`: never stored, LIMITS.typingIntervalMs per user and room. */
export const typingSchema = z.object({
  room: optionalRoom,
  state: z.enum(TYPING_STATES, { error: 'state must be "start" or "stop"' }),
});

/** Query of `GET /api/rooms/{room}/presence` (the room comes from the path). */
export const presenceQuerySchema = z.object({
  room: roomSchema,
  cursor: z.optional(z.string({ error: 'cursor must be a string' }).check(z.regex(/^[A-Za-z0-9_-]{1,400}$/, 'cursor must be a next_cursor from an earlier page'))),
  limit: z._default(
    z.coerce.number({ error: 'limit must be a number' }).check(
      z.int('limit must be an integer'),
      z.gte(1, 'limit must be at least 1'),
      z.lte(LIMITS.presencePageUsers, `limit is at most ${LIMITS.presencePageUsers}`),
    ),
    LIMITS.presencePageUsers,
  ),
});
