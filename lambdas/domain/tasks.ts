/**
 * Background tasks (what Celery did), carried as typed SQS messages. Every consumer validates its
 * input with these schemas before doing anything.
 */
import * as z from 'zod/mini';

const str = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
const serverEventSchema = z.object({ event: str(1, 64), data: z.unknown() });

export const audienceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('room'), room: str(1, 64) }),
  z.object({ type: z.literal('all') }),
  /** An explicit list: a retry of the connections that failed in an earlier attempt. */
  z.object({
    type: z.literal('connections'),
    members: z
      .array(z.object({ connectionId: str(1, 128), protocol: z.enum(['json', 'socketio']) }))
      .check(z.minLength(1), z.maxLength(1000)),
  }),
]);
export type Audience = z.infer<typeof audienceSchema>;

export const fanoutTaskSchema = z.object({
  kind: z.literal('fanout'),
  /** Idempotency key: the stream item id plus a part suffix for continuations and retries. */
  key: str(1, 200),
  audience: audienceSchema,
  event: serverEventSchema,
  /** The sender's own connection gets `message_received` instead of the message. */
  exclude: z.optional(str(1, 128)),
  /** More connections left out (typing: every connection of the typing user in the room). */
  excludeAlso: z.optional(z.array(str(1, 128)).check(z.maxLength(100))),
  /**
   * Deliver only if the room has at most this many connections, else to nobody (presence and
   * typing: LIMITS.presenceBroadcastMaxConnections). Room audiences only.
   */
  maxAudience: z.optional(z.int().check(z.gte(1), z.lte(1000))),
  /** Follow-up generation of a retry (0 for the original task); capped by LIMITS.fanoutRetryGenerations. */
  attempt: z.optional(z.int().check(z.gte(0), z.lte(100))),
  /** Continuation of a fan-out that ran out of time: where to pick up. */
  cursor: z.optional(z.object({ shard: z.optional(z.int().check(z.gte(0))), page: z.optional(z.string()) })),
});
export type FanoutTask = z.infer<typeof fanoutTaskSchema>;

export const greetTaskSchema = z.object({
  kind: z.literal('greet'),
  connectionId: str(1, 128),
  /** Frames to send once the connection is postable (protocol-encoded by the producer). */
  frames: z.array(str(0, 4096)).check(z.minLength(1), z.maxLength(4)),
});
export type GreetTask = z.infer<typeof greetTaskSchema>;

/**
 * Runs a presence grace period after a user's connection left a room: announces `offline` if the
 * user has no live connection there and has not entered again since `left_at` (lambdas/domain/presence.ts).
 */
export const presenceCheckTaskSchema = z.object({
  kind: z.literal('presence_check'),
  room: str(1, 64),
  user: str(1, 256),
  /** Epoch ms when the connection left. */
  leftAt: z.int().check(z.gte(0)),
});
export type PresenceCheckTask = z.infer<typeof presenceCheckTaskSchema>;

/**
 * A removed member's cut-off, run again by the task consumer (lambdas/domain/rooms-cutoff.ts): the
 * durable half of `DELETE /api/rooms/{room}/members/{user}`. Idempotent.
 */
export const cutOffTaskSchema = z.object({
  kind: z.literal('cutoff'),
  room: str(1, 64),
  user: str(1, 256),
});
export type CutOffTask = z.infer<typeof cutOffTaskSchema>;

/** Makes the thumbnail of a stored image attachment message (lambdas/domain/previews.ts). */
export const previewTaskSchema = z.object({
  kind: z.literal('preview'),
  room: str(1, 64),
  messageId: str(1, 64),
  attachmentId: str(1, 64),
  format: z.enum(['png', 'jpg']),
});
export type PreviewTask = z.infer<typeof previewTaskSchema>;

export const taskSchema = z.discriminatedUnion('kind', [fanoutTaskSchema, greetTaskSchema, presenceCheckTaskSchema, cutOffTaskSchema, previewTaskSchema]);
export type Task = z.infer<typeof taskSchema>;
