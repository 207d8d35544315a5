/**
 * Request, action and task schemas (zod): the single definition of every payload the service
 * accepts. Field names follow the seed's contract.
 */
import { z } from 'zod';
import { LIMITS } from '../shared/limits.js';

const ROOM_RE = /^[A-Za-z0-9_.:-]+$/;

export const roomSchema = z
  .string()
  .min(1, 'room must not be empty')
  .max(LIMITS.roomMaxChars, `room is at most ${LIMITS.roomMaxChars} characters`)
  .regex(ROOM_RE, 'room may contain letters, digits, "_", "-", ".", ":"');

export const senderSchema = z
  .string()
  .trim()
  .min(1, 'sender must not be empty')
  .max(LIMITS.senderMaxChars, `sender is at most ${LIMITS.senderMaxChars} characters`);

export const MESSAGE_TYPES = ['text', 'image', 'audio'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Content length is checked against the media/text limits by the message service. */
const contentSchema = z.string({ error: 'content must be a string' });
const formatSchema = z.string().max(16, 'format is at most 16 characters').optional();

/** Seed payload of `POST /api/message`, `POST /api/messages/broadcast` and the WS `message` event. */
export const messageInputSchema = z.object({
  type: z.string({ error: 'type must be one of text, image, audio' }),
  content: contentSchema,
  sender: senderSchema,
  format: formatSchema,
  room: roomSchema.optional(),
});
export type MessageInput = z.infer<typeof messageInputSchema>;

export const sendTextSchema = z.object({ text: contentSchema, sender: senderSchema, room: roomSchema.optional() });
export const sendImageSchema = z.object({
  image: contentSchema,
  sender: senderSchema,
  format: formatSchema,
  room: roomSchema.optional(),
});
export const sendAudioSchema = z.object({
  audio: contentSchema,
  sender: senderSchema,
  format: formatSchema,
  room: roomSchema.optional(),
});

export const publishEventSchema = z.object({
  event_type: z
    .string()
    .min(1, 'event_type must not be empty')
    .max(LIMITS.eventTypeMaxChars)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'event_type may contain letters, digits, "_", "-", ".", ":"'),
  data: z.record(z.string(), z.unknown()).optional().default({}),
});

export const joinSchema = z.object({ room: roomSchema });
export const resumeSchema = z.object({
  after: z.string().regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'after must be a message id'),
  room: roomSchema.optional(),
});

export const historyQuerySchema = z.object({
  room: roomSchema.optional().default('general'),
  before: z
    .string()
    .regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'before must be a message id')
    .optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(LIMITS.historyMaxPage, `limit is at most ${LIMITS.historyMaxPage}`)
    .optional()
    .default(LIMITS.historyDefaultPage),
});

/** A frame from a WebSocket client. */
export const clientFrameSchema = z.object({
  action: z.string({ error: 'action must be a string' }).max(64),
  data: z.unknown().optional(),
});
