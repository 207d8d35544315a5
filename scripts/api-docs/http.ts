/**
 * What the OpenAPI document says about each REST operation of HTTP_ROUTES: request schema (the
 * product's), answers (wire schemas), error codes and examples. Keyed by operation, so a route
 * added to routes.ts without an entry here fails the type check, and the generator at run time.
 */
import * as z from 'zod/mini';
import type { ErrorCode } from '../../lambdas/domain/errors.js';
import { AUDIO_FORMATS, IMAGE_FORMATS } from '../../lambdas/domain/media.js';
import { historyQuerySchema, MESSAGE_TYPES, messageInputSchema, presenceQuerySchema, publishEventSchema, roomSchema, uploadRequestSchema } from '../../lambdas/domain/schemas.js';
import { LIMITS, MEDIA_MAX_BASE64_CHARS, RATE_LIMITS } from '../../lambdas/shared/limits.js';
import type { HttpOperation } from '../../lambdas/shared/routes.js';
import { type Example, example } from './checked.js';
import { BROADCAST_MESSAGE, IMAGE_MESSAGE, PNG_BASE64, PUBLISHED_EVENT, T1, TEXT_MESSAGE } from './examples.js';
import { describe } from './meta.js';
import { ROOM_HTTP_DOCS } from './rooms.js';
import {
  eventResponseSchema,
  healthResponseSchema,
  historyResponseSchema,
  messageResponseSchema,
  presenceListSchema,
  uploadResponseSchema,
} from './wire.js';

// Field documentation of the product's request schemas.
const input = messageInputSchema.shape;
describe(input.type, { enum: MESSAGE_TYPES, description: 'Message type; anything else is `unsupported_type`' });
describe(input.content, {
  description: `text: at most ${LIMITS.textMaxChars} characters. image/audio: base64 (a \`data:<mime>;base64,\` prefix is accepted and removed), at most ${LIMITS.mediaMaxBytes} bytes decoded (${MEDIA_MAX_BASE64_CHARS} base64 characters)`,
});
describe(input.sender, {
  description:
    "Optional: the authenticated user's id is used, and a sender naming anyone else is `403 forbidden`. Required only when auth is off (`npm start -- --no-auth`)",
});
describe(input.format, {
  description: `Required for media and checked against the bytes (else \`format_mismatch\`): image ${IMAGE_FORMATS.join(', ')}; audio ${AUDIO_FORMATS.join(', ')}`,
});
describe(input.attachment_id, {
  description: 'An attachment uploaded with `POST /api/uploads`, in place of `content` (then leave `content` out): it must be yours, unused, uploaded, within its limit and of its declared format (`403 forbidden`, `409 conflict`, `404 not_found`, `413 payload_too_large`, `400 format_mismatch`)',
});
describe(input.room, {
  description: "Target room: by default `general` over REST, the connection's room over WebSocket; letters, digits, `_ - . :`",
});
describe(publishEventSchema.shape.event_type, {
  description: 'Event type: the SSE event name it is delivered under; letters, digits, `_ - . :`',
});
describe(publishEventSchema.shape.data, { description: `Any JSON object, at most ${LIMITS.eventDataMaxBytes} bytes serialized` });
describe(historyQuerySchema.shape.room, { description: 'The room (default `general`)' });
describe(historyQuerySchema.shape.before, {
  description: 'Page cursor: only messages older than this id (the `next_before` of the previous page)',
});
describe(historyQuerySchema.shape.limit, {
  description: `Page size, 1–${LIMITS.historyMaxPage} (default ${LIMITS.historyDefaultPage})`,
});

/** The query of the presence route (its room is a path parameter). */
const presencePageQuery = z.pick(presenceQuerySchema, { cursor: true, limit: true });
describe(presenceQuerySchema.shape.cursor, { description: 'The `next_cursor` of the previous page' });
describe(presenceQuerySchema.shape.limit, { description: `Users per page, 1–${LIMITS.presencePageUsers} (default ${LIMITS.presencePageUsers})` });

export interface HttpAnswer {
  status: number;
  description: string;
  /** JSON body; none for a redirect. */
  schema?: z.core.$ZodType;
  examples: Example[];
  /** Response headers, as an object schema of header name → value. */
  headers?: z.core.$ZodObject;
}

export interface HttpOperationDoc {
  summary: string;
  description: string;
  tag: 'messages' | 'events' | 'service' | 'rooms';
  /** Needs the `admin` role (checked by the handler after the authorizer). */
  admin?: boolean;
  body?: { schema: z.core.$ZodType; examples: Example[] };
  query?: { schema: z.core.$ZodObject; examples: Example[] };
  /** Path parameters (`{name}` segments of the route's path) and the values its examples use. */
  path?: { schema: z.core.$ZodObject; example: Record<string, string> };
  answers: HttpAnswer[];
  /** Error codes the operation can answer with (beyond the authorizer's 401/403). */
  errors: ErrorCode[];
  /** Example messages where this operation's differ from the generic ones. */
  errorMessages?: Partial<Record<ErrorCode, string>>;
}

const RATE = `Rate limit: ${RATE_LIMITS.perUser} messages per user every ${RATE_LIMITS.windowSeconds} s (\`rate_limited\`, with \`details.retry_after_seconds\`).`;
const BODY_ERRORS: ErrorCode[] = ['invalid_json', 'validation_error', 'payload_too_large'];
const MESSAGE_ERRORS: ErrorCode[] = [...BODY_ERRORS, 'unsupported_type', 'invalid_base64', 'format_mismatch', 'forbidden', 'rate_limited'];

const sendBody = (what: string) => ({
  schema: messageInputSchema,
  examples: [
    example(messageInputSchema, what, 'text', 'A text message', { type: 'text', content: 'hello', room: 'general' }),
    example(messageInputSchema, what, 'image', 'A PNG image (base64)', { type: 'image', content: PNG_BASE64, format: 'png' }),
  ],
});

export const HTTP_DOCS: Record<HttpOperation, HttpOperationDoc> = {
  health: {
    summary: 'Service health',
    description: 'Liveness check; needs no token.',
    tag: 'service',
    answers: [
      {
        status: 200,
        description: 'The service answers',
        schema: healthResponseSchema,
        examples: [example(healthResponseSchema, 'GET /api/health', 'healthy', 'Healthy', { status: 'healthy', service: 'chat-service', timestamp: T1 })],
      },
    ],
    errors: [],
  },
  sendMessage: {
    summary: 'Send a message to a room',
    description: `Stores the message (server id and timestamp) and delivers it to every WebSocket and SSE client of the room. ${RATE}`,
    tag: 'messages',
    body: sendBody('POST /api/message'),
    answers: [
      {
        status: 201,
        description: 'Accepted, stored and handed to delivery',
        schema: messageResponseSchema,
        examples: [
          example(messageResponseSchema, 'POST /api/message', 'text', 'A text message', { status: 'success', message: TEXT_MESSAGE }),
          example(messageResponseSchema, 'POST /api/message', 'image', 'A PNG image', { status: 'success', message: IMAGE_MESSAGE }),
        ],
      },
    ],
    errors: MESSAGE_ERRORS,
  },
  broadcast: {
    summary: 'Broadcast a system message to every connection',
    description:
      'Needs the `admin` role. Delivered as `broadcast` to every WebSocket connection and every SSE stream, whatever their room; `room` is ignored (broadcasts are stored under `global`).',
    tag: 'messages',
    admin: true,
    body: {
      schema: messageInputSchema,
      examples: [
        example(messageInputSchema, 'POST /api/messages/broadcast', 'notice', 'A system notice', {
          type: 'text',
          content: 'Maintenance at 22:00 UTC',
        }),
      ],
    },
    answers: [
      {
        status: 201,
        description: 'Accepted and handed to delivery',
        schema: messageResponseSchema,
        examples: [
          example(messageResponseSchema, 'POST /api/messages/broadcast', 'notice', 'A system notice', {
            status: 'success',
            message: BROADCAST_MESSAGE,
          }),
        ],
      },
    ],
    errors: [...BODY_ERRORS, 'unsupported_type', 'invalid_base64', 'format_mismatch', 'forbidden'],
  },
  publishEvent: {
    summary: 'Publish an event to SSE and WebSocket clients',
    description:
      'Needs the `admin` role. SSE clients get it as an event named by its `event_type`; WebSocket clients get a `notification` event.',
    tag: 'events',
    admin: true,
    body: {
      schema: publishEventSchema,
      examples: [
        example(publishEventSchema, 'POST /api/events/publish', 'deploy', 'A deployment finished', {
          event_type: 'deploy.finished',
          data: { version: 42 },
        }),
      ],
    },
    answers: [
      {
        status: 201,
        description: 'Stored and handed to delivery',
        schema: eventResponseSchema,
        examples: [
          example(eventResponseSchema, 'POST /api/events/publish', 'deploy', 'A deployment finished', {
            status: 'success',
            event: PUBLISHED_EVENT,
          }),
        ],
      },
    ],
    errors: [...BODY_ERRORS, 'forbidden'],
  },
  history: {
    summary: "Page back through a room's history",
    description: 'Newest page first; messages within a page are oldest first. Pass `next_before` as `before` for the page before.',
    tag: 'messages',
    query: {
      schema: historyQuerySchema,
      examples: [example(historyQuerySchema, 'GET /api/messages', 'page', 'Twenty messages of general', { room: 'general', limit: 20 })],
    },
    answers: [
      {
        status: 200,
        description: 'One page of messages',
        schema: historyResponseSchema,
        examples: [
          example(historyResponseSchema, 'GET /api/messages', 'page', 'The newest page, with older pages left', {
            room: 'general',
            messages: [TEXT_MESSAGE, IMAGE_MESSAGE],
            next_before: TEXT_MESSAGE.id,
          }),
        ],
      },
    ],
    errors: ['validation_error'],
  },
  eventsRedirect: {
    summary: 'Redirect to the SSE stream',
    description:
      'HTTP APIs cannot stream, so this answers `307` to the streaming Function URL (the stack output `SseUrl`) with the query string kept (`room`, `token`, `lastEventId`). The stream itself is described in the AsyncAPI document (`/api/asyncapi.json`).',
    tag: 'events',
    answers: [
      {
        status: 307,
        description: 'Temporary redirect to the SSE stream',
        examples: [],
        headers: z.object({ location: describe(z.url(), { description: "The SSE stream URL, with this request's query string" }) }),
      },
    ],
    errors: ['not_found'],
    errorMessages: { not_found: 'The SSE stream URL is not configured' },
  },
  createUpload: {
    summary: 'Upload an attachment (presigned S3 POST)',
    description: `Answers a presigned POST: send \`upload.fields\` then the file (field \`file\`) as multipart/form-data to \`upload.url\` within ${LIMITS.uploadUrlExpirySeconds / 60} minutes, then send a message with the \`attachment_id\`. The policy fixes the key, the Content-Type of the format and the largest size (the declared \`size\`); images up to ${LIMITS.attachmentImageMaxBytes} bytes (${IMAGE_FORMATS.join(', ')}), audio up to ${LIMITS.attachmentAudioMaxBytes} bytes (${AUDIO_FORMATS.join(', ')}). ${RATE}`,
    tag: 'messages',
    body: {
      schema: uploadRequestSchema,
      examples: [example(uploadRequestSchema, 'POST /api/uploads', 'photo', 'A 3 MB photo', { type: 'image', format: 'jpg', size: 3_000_000 })],
    },
    answers: [
      {
        status: 201,
        description: 'The upload form',
        schema: uploadResponseSchema,
        examples: [
          example(uploadResponseSchema, 'POST /api/uploads', 'photo', 'A 3 MB photo', {
            attachment_id: '01M8D6FCB0GMYR4YWQEB1X7VWH',
            upload: {
              url: 'https://chat-media.s3.us-east-1.amazonaws.com/',
              fields: {
                'Content-Type': 'image/jpeg',
                bucket: 'chat-media',
                'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
                'X-Amz-Credential': 'ASIA.../20261127/us-east-1/s3/aws4_request',
                'X-Amz-Date': '20261127T002852Z',
                'X-Amz-Security-Token': '...',
                key: 'uploads/YWxpY2U/01M8D6FCB0GMYR4YWQEB1X7VWH',
                Policy: 'eyJleHBpcmF0aW9uIjoi...',
                'X-Amz-Signature': '...',
              },
            },
            expires_at: '2026-11-27T00:43:52.000Z',
          }),
        ],
      },
    ],
    errors: [...BODY_ERRORS, 'unsupported_type', 'rate_limited'],
  },
  ...ROOM_HTTP_DOCS,
  presence: {
    summary: 'Who is online in a room',
    description: `Users with a live connection in the room (two tabs are one member, \`connections: 2\`), by user id, at most \`limit\` per page; pass \`next_cursor\` as \`cursor\` for the next. WebSocket clients get \`presence\` events as users come and go (\`offline\` ${LIMITS.presenceGraceSeconds} s after their last connection left).`,
    tag: 'rooms',
    path: { schema: z.object({ room: roomSchema }), example: { room: 'general' } },
    query: {
      schema: presencePageQuery,
      examples: [example(presencePageQuery, 'GET /api/rooms/{room}/presence', 'page', 'Up to 50 users', { limit: 50 })],
    },
    answers: [
      {
        status: 200,
        description: 'One page of online users',
        schema: presenceListSchema,
        examples: [
          example(presenceListSchema, 'GET /api/rooms/{room}/presence', 'two', 'alice in two tabs, bob in one', {
            room: 'general',
            members: [
              { user: 'alice', connections: 2, since: T1 },
              { user: 'bob', connections: 1, since: T1 },
            ],
            next_cursor: null,
          }),
        ],
      },
    ],
    errors: ['validation_error', 'forbidden'],
  },
};
