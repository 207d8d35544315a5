/**
 * What the entry points that need no payload schema use (`$connect`, the SSE stream, the WebSocket
 * frame envelope, the message model's types), in a module of their own: zod schemas are built when
 * their module loads, and a bundler cannot leave unused ones out (a `.check()` call may have
 * effects), so a function that imports only these does not build every payload schema of
 * schemas.ts on its cold start. schemas.ts re-exports them: they are the same objects there.
 */
import * as z from 'zod/mini';
import { LIMITS } from '../shared/limits.js';

export const MESSAGE_TYPES = ['text', 'image', 'audio'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

const ROOM_RE = /^[A-Za-z0-9_.:-]+$/;

export const roomSchema = z.string({ error: 'room must be a string' }).check(
  z.minLength(1, 'room must not be empty'),
  z.maxLength(LIMITS.roomMaxChars, `room is at most ${LIMITS.roomMaxChars} characters`),
  z.regex(ROOM_RE, 'room may contain letters, digits, "_", "-", ".", ":"'),
);

/** A frame from a WebSocket client. */
export const clientFrameSchema = z.object({
  action: z.string({ error: 'action must be a string' }).check(z.maxLength(64, 'action is at most 64 characters')),
  data: z.optional(z.unknown()),
});
