/**
 * Background tasks (what Celery did), carried as typed SQS messages. Every consumer validates its
 * input with these schemas before doing anything.
 */
import { z } from 'zod';

const serverEventSchema = z.object({ event: z.string().min(1).max(64), data: z.unknown() });

export const audienceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('room'), room: z.string().min(1).max(64) }),
  z.object({ type: z.literal('all') }),
  /** An explicit list: a retry of the connections that failed in an earlier attempt. */
  z.object({
    type: z.literal('connections'),
    members: z
      .array(z.object({ connectionId: z.string().min(1).max(128), protocol: z.enum(['json', 'socketio']) }))
      .min(1)
      .max(1000),
  }),
]);
export type Audience = z.infer<typeof audienceSchema>;

export const fanoutTaskSchema = z.object({
  kind: z.literal('fanout'),
  /** Idempotency key: the stream item id plus a part suffix for continuations and retries. */
  key: z.string().min(1).max(200),
  audience: audienceSchema,
  event: serverEventSchema,
  /** The sender's own connection gets `message_received` instead of the message. */
  exclude: z.string().max(128).optional(),
  /** Continuation of a fan-out that ran out of time: where to pick up. */
  cursor: z.object({ shard: z.number().int().min(0).optional(), page: z.string().optional() }).optional(),
});
export type FanoutTask = z.infer<typeof fanoutTaskSchema>;

export const greetTaskSchema = z.object({
  kind: z.literal('greet'),
  connectionId: z.string().min(1).max(128),
  /** Frames to send once the connection is postable (protocol-encoded by the producer). */
  frames: z.array(z.string().max(4096)).min(1).max(4),
});
export type GreetTask = z.infer<typeof greetTaskSchema>;

export const taskSchema = z.discriminatedUnion('kind', [fanoutTaskSchema, greetTaskSchema]);
export type Task = z.infer<typeof taskSchema>;
