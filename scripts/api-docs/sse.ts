/** SSE request and event fields (the product parses its query inside `lambdas/handlers/sse.ts`). */
import * as z from 'zod/mini';
import { roomSchema } from '../../lambdas/domain/schemas.js';
import { describe } from './meta.js';
import { BROADCAST_MESSAGE, PUBLISHED_EVENT, TEXT_MESSAGE } from './examples.js';
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

export interface SseMessageDoc {
  /** Component name of the payload schema (the `data:` line). */
  payload: 'ChatMessage' | 'PublishedEvent';
  /** The `id:` and `event:` lines. */
  fields: ReturnType<typeof sseFieldsSchema>;
  fieldsId: string;
  title: string;
  description: string;
  ex: { summary: string; payload: unknown; event: string; id: string };
}

/** The three kinds of SSE event, keyed by their AsyncAPI message id. */
export const SSE_MESSAGE_DOCS: Record<'sse.message' | 'sse.broadcast' | 'sse.published', SseMessageDoc> = {
  'sse.message': {
    payload: 'ChatMessage',
    fields: sseFieldsSchema('message'),
    fieldsId: 'sse.fields.message',
    title: 'message',
    description: "A message in the stream's room (`event: message`).",
    ex: { summary: 'A text message', payload: TEXT_MESSAGE, event: 'message', id: TEXT_MESSAGE.id },
  },
  'sse.broadcast': {
    payload: 'ChatMessage',
    fields: sseFieldsSchema('broadcast'),
    fieldsId: 'sse.fields.broadcast',
    title: 'broadcast',
    description: 'A system message to everyone (`event: broadcast`).',
    ex: { summary: 'A notice', payload: BROADCAST_MESSAGE, event: 'broadcast', id: BROADCAST_MESSAGE.id },
  },
  'sse.published': {
    payload: 'PublishedEvent',
    fields: sseFieldsSchema(),
    fieldsId: 'sse.fields.published',
    title: '<event_type>',
    description: 'A published event, under its own `event_type` as the SSE event name (`es.addEventListener("deploy.finished", ...)`).',
    ex: { summary: 'deploy.finished', payload: PUBLISHED_EVENT, event: PUBLISHED_EVENT.event_type, id: PUBLISHED_EVENT.id },
  },
};
