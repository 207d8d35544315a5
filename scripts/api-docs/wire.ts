/**
 * Schemas of what the service sends back (REST responses, WebSocket server events, SSE data).
 * The product builds these shapes in code (`lambdas/domain/model.ts`, the handlers) and has no
 * schema for them; these are checked against the model types at compile time (below) and against
 * real domain output in test/docs/api-docs.test.ts, so they cannot drift silently.
 */
import * as z from 'zod/mini';
import type { ErrorCode } from '../../lambdas/domain/errors.js';
import { ULID_RE } from '../../lambdas/domain/ids.js';
import type { ChatMessage, MessageAttachment, PublishedEvent } from '../../lambdas/domain/model.js';
import { MESSAGE_TYPES } from '../../lambdas/domain/schemas.js';
import { LIMITS, MEDIA_MAX_BASE64_CHARS } from '../../lambdas/shared/limits.js';
import { describe } from './meta.js';

/**
 * Every error code of the service. `ErrorCode` is a type only; the assertion below fails the
 * type check when a code is added there and not here.
 */
export const ERROR_CODES = [
  'invalid_json',
  'validation_error',
  'unknown_action',
  'unsupported_type',
  'invalid_base64',
  'format_mismatch',
  'payload_too_large',
  'not_found',
  'method_not_allowed',
  'not_in_room',
  'conflict',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'unsupported_packet',
  'internal_error',
] as const satisfies readonly ErrorCode[];
type MissingCodes = Exclude<ErrorCode, (typeof ERROR_CODES)[number]>;
const everyCodeListed: [MissingCodes] extends [never] ? true : MissingCodes = true;
void everyCodeListed;

/** A message or event id (a ULID); a new instance per field, so each field has its own description. */
export const messageId = (description: string) => describe(z.string().check(z.regex(ULID_RE)), { description });
const ID_TEXT = 'Server-assigned id: a ULID (sortable by time, unique). Clients de-duplicate by it.';
const timestamp = () => describe(z.iso.datetime(), { description: 'ISO 8601 time (UTC) the server accepted it' });

export const chatMessageSchema = describe(
  z.object({
    id: messageId(ID_TEXT),
    type: z.enum(MESSAGE_TYPES),
    content: describe(z.string(), {
      description: `The text (at most ${LIMITS.textMaxChars} characters), or the media as bare base64 (at most ${MEDIA_MAX_BASE64_CHARS} characters; any data: URL prefix is removed)`,
    }),
    sender: describe(z.string(), { description: "The sender: the authenticated user's id" }),
    format: z.optional(describe(z.string(), { description: 'Media format (image and audio messages only), lower case as sent' })),
    room: describe(z.string(), { description: 'The room; `global` for broadcasts' }),
    timestamp: timestamp(),
    attachment: z.optional(
      describe(
        z.object({
          id: describe(z.string(), { description: 'The attachment_id it was sent with' }),
          url: describe(z.url(), { description: `Presigned GET of the file, signed for each read (history, resume and SSE sign fresh ones), valid ${LIMITS.downloadUrlExpirySeconds} s` }),
          size: describe(z.number(), { description: 'Bytes' }),
          format: describe(z.string(), { description: 'The uploaded format' }),
          expires_at: describe(z.iso.datetime(), { description: 'When `url` stops working' }),
          preview: z.optional(
            describe(z.string(), {
              description: `A JPEG thumbnail of a png/jpg image as a data: URL (longest side ${LIMITS.previewLongestSidePx} px, at most ${LIMITS.previewMaxChars} characters), made by a background task just after the message is stored: the live delivery has none; history, resume and SSE replay carry it once made. gif, webp and undecodable files get none`,
            }),
          ),
        }),
        { description: 'An uploaded file (POST /api/uploads) in place of inline content; `content` is then empty' },
      ),
    ),
  }),
  { description: 'A chat message as every client sees it (REST, WebSocket `message`/`broadcast`, SSE)' },
);

export const publishedEventSchema = describe(
  z.object({
    id: messageId(ID_TEXT),
    event_type: describe(z.string(), { description: 'The type it was published with (its SSE event name)' }),
    data: describe(z.record(z.string(), z.unknown()), { description: 'The published JSON object' }),
    timestamp: timestamp(),
  }),
  { description: 'A published event (WebSocket `notification` data, SSE data of its `event_type`)' },
);

export const errorDetailSchema = describe(
  z.object({
    code: z.enum(ERROR_CODES),
    message: describe(z.string(), { description: 'What was wrong and how to fix it; never a stack trace' }),
    details: z.optional(
      describe(z.record(z.string(), z.unknown()), {
        description: '`rate_limited` only: `{"retry_after_seconds": <seconds until the window resets>}`',
      }),
    ),
  }),
  { description: 'An error: the REST body `{"error": ...}` and the data of the WebSocket `error` event' },
);

export const errorResponseSchema = z.object({ error: errorDetailSchema });

/** API Gateway's own answer when its Lambda authorizer rejects a request (not the service's format). */
export const gatewayErrorSchema = describe(z.object({ message: z.enum(['Unauthorized', 'Forbidden']) }), {
  description: "API Gateway's own answer on routes behind the authorizer: 401 without an Authorization header, 403 when the authorizer denies the token",
});

export const healthResponseSchema = z.object({
  status: z.literal('healthy'),
  service: z.literal('chat-service'),
  timestamp: describe(z.iso.datetime(), { description: 'Server time' }),
});

export const messageResponseSchema = z.object({ status: z.literal('success'), message: chatMessageSchema });
export const uploadResponseSchema = z.object({
  attachment_id: describe(z.string(), { description: 'Send it as `attachment_id` in a message once the file is uploaded' }),
  upload: z.object({
    url: describe(z.url(), { description: 'POST the file here as multipart/form-data' }),
    fields: describe(z.record(z.string(), z.string()), { description: 'Form fields to send first, as they are; the file goes last, in a field named `file`' }),
  }),
  expires_at: describe(z.iso.datetime(), { description: 'The upload must be done by then' }),
});
export const eventResponseSchema = z.object({ status: z.literal('success'), event: publishedEventSchema });

export const historyResponseSchema = z.object({
  room: describe(z.string(), { description: 'The room read' }),
  messages: describe(z.array(chatMessageSchema), { description: 'One page, oldest first' }),
  next_before: z.nullable(messageId('Pass as `before` for the previous (older) page; null on the oldest page')),
});

// --- WebSocket server events (the `data` of `{"event", "data"}`) ---

export const connectedEventSchema = z.object({
  connection_id: describe(z.string(), { description: 'The API Gateway connection id (Socket.IO: `socket.id`)' }),
  room: describe(z.nullable(z.string()), { description: 'The room the connection listens to (`?room=`, default `general`)' }),
  user: describe(z.string(), { description: "The authenticated user's id" }),
  message: z.string(),
});

export const messageReceivedEventSchema = z.object({
  id: messageId(ID_TEXT),
  status: z.literal('received'),
  room: z.string(),
  timestamp: timestamp(),
  message: chatMessageSchema,
});

export const pongEventSchema = z.object({ timestamp: describe(z.iso.datetime(), { description: 'Server time' }) });
export const joinedEventSchema = z.object({ room: describe(z.string(), { description: 'The room now listened to' }) });
export const leftEventSchema = z.object({
  room: describe(z.nullable(z.string()), { description: 'The room left (null when the connection was in none)' }),
});
export const resumedEventSchema = z.object({
  room: z.string(),
  count: describe(z.int().check(z.gte(0)), { description: 'How many missed events were replayed before this one' }),
  last_id: messageId('Id of the last replayed event (or `after` when none)'),
  complete: describe(z.boolean(), {
    description: `false when the replay stopped at ${LIMITS.sseResumeMaxItems} events: resume again from last_id`,
  }),
});

// --- Presence and typing ---

export const presenceMemberSchema = z.object({
  user: describe(z.string(), { description: "The user's id" }),
  connections: describe(z.int().check(z.gte(1)), { description: 'Their live connections in the room (tabs, devices)' }),
  since: describe(z.iso.datetime(), { description: 'When the earliest of them entered the room' }),
});
export const presenceListSchema = z.object({
  room: z.string(),
  members: describe(z.array(presenceMemberSchema), { description: 'Users online in the room, by user id' }),
  next_cursor: describe(z.nullable(z.string()), { description: 'Pass as `cursor` for the next page (REST); null on the last page' }),
});
export const presenceEventSchema = z.object({
  room: z.string(),
  user: z.string(),
  state: describe(z.enum(['online', 'offline']), {
    description: `online: the user's first connection entered the room; offline: their last one left ${LIMITS.presenceGraceSeconds} s ago and they did not come back`,
  }),
});
export const typingEventSchema = z.object({
  room: z.string(),
  user: z.string(),
  state: z.enum(['start', 'stop']),
  expires_in_ms: z.optional(
    describe(z.literal(LIMITS.typingLapseMs), { description: 'With `start`: drop the indicator after this long unless another `start` comes' }),
  ),
});

// Compile-time checks that the response schemas describe the model's types exactly.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Readers never see an attachment's storage key; they get its signed URL and expiry. */
type WireChatMessage = Omit<ChatMessage, 'attachment'> & {
  attachment?: Omit<MessageAttachment, 'key' | 'url' | 'expires_at'> & { url: string; expires_at: string };
};
const chatMessageMatches: Same<z.infer<typeof chatMessageSchema>, WireChatMessage> = true;
const publishedEventMatches: Same<z.infer<typeof publishedEventSchema>, PublishedEvent> = true;
void chatMessageMatches;
void publishedEventMatches;
