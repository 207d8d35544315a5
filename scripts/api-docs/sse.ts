/** SSE request and event fields (the product parses its query inside `lambdas/handlers/sse.ts`). */
import * as z from 'zod/mini';
import { roomSchema } from '../../lambdas/domain/schemas.js';
import { describe } from './meta.js';
import { messageId } from './wire.js';

export const sseQuerySchema = z.object({
  room: describe(z._default(roomSchema, 'general'), { description: 'The room to stream (default `general`); broadcasts and published events come whatever the room' }),
  token: z.optional(describe(z.string(), { description: 'The JWT (or send `Authorization: Bearer <token>`)' })),
  lastEventId: z.optional(
    describe(z.string(), { description: 'Resume after this event id, for clients that cannot send the `Last-Event-ID` header' }),
  ),
});

/** The `id:` and `event:` lines of one SSE event; `name` fixed, or any published event type. */
export function sseFieldsSchema(name?: string) {
  return z.object({
    id: messageId('The `id:` line: the event id, sent back as `Last-Event-ID` on reconnect'),
    event: describe(name === undefined ? z.string() : z.literal(name), {
      description: name === undefined ? 'The `event:` line: the published `event_type`' : `The \`event:\` line: \`${name}\``,
    }),
  });
}
