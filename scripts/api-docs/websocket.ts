/**
 * What the AsyncAPI document says about each WebSocket client action and server event: the
 * payload schema (the product's for actions, a wire schema for events), the reply, and examples.
 * Keyed by WsAction / WsEvent, so an action or event added to routes.ts without an entry here
 * fails the type check, and the generator at run time.
 */
import * as z from 'zod/mini';
import {
  joinSchema,
  presenceActionSchema,
  resumeSchema,
  roomSchema,
  sendAudioSchema,
  sendImageSchema,
  sendTextSchema,
  typingSchema,
} from '../../lambdas/domain/schemas.js';
import { messageInputSchema } from '../../lambdas/domain/schemas.js';
import { LIMITS, RATE_LIMITS } from '../../lambdas/shared/limits.js';
import type { WsAction, WsEvent } from '../../lambdas/shared/routes.js';
import { errorExample } from './errors.js';
import { BROADCAST_MESSAGE, CONNECTION_ID, IMAGE_MESSAGE, PNG_BASE64, PUBLISHED_EVENT, T1, TEXT_MESSAGE } from './examples.js';
import { describe } from './meta.js';
import { REMOVED_EVENT_DOC } from './rooms.js';
import {
  chatMessageSchema,
  connectedEventSchema,
  errorDetailSchema,
  joinedEventSchema,
  leftEventSchema,
  messageReceivedEventSchema,
  pongEventSchema,
  publishedEventSchema,
  presenceEventSchema,
  presenceListSchema,
  resumedEventSchema,
  typingEventSchema,
} from './wire.js';

describe(sendTextSchema.shape.text, { description: `The text, at most ${LIMITS.textMaxChars} characters` });
describe(sendImageSchema.shape.image, { description: 'The image as base64 (a `data:` URL prefix is accepted)' });
describe(sendAudioSchema.shape.audio, { description: 'The audio as base64 (a `data:` URL prefix is accepted)' });
describe(roomSchema, { description: 'A room name: letters, digits, `_ - . :`' });
describe(resumeSchema.shape.after, { description: 'The id of the last event the client saw' });

/** Data of actions whose payload the service ignores. */
const ignoredData = describe(z.optional(z.unknown()), { description: 'Ignored; may be left out' });
const ignoredLeaveData = describe(z.optional(z.unknown()), { description: 'Ignored; may be left out' });

export interface WsActionDoc {
  summary: string;
  description: string;
  data: z.core.$ZodType;
  /** Name of the data schema in the documents' components. */
  dataName: string;
  /** The reply event; none for an action that only fans out (`typing`). */
  reply?: WsEvent;
  /** Example `data` values, checked against `data`. */
  examples: Array<{ name: string; summary: string; data: unknown }>;
}

export interface WsEventDoc {
  summary: string;
  description: string;
  data: z.core.$ZodType;
  dataName: string;
  examples: Array<{ name: string; summary: string; data: unknown }>;
}

const RATE = `Rate limit: ${RATE_LIMITS.perConnection} messages per connection and ${RATE_LIMITS.perUser} per user every ${RATE_LIMITS.windowSeconds} s; over it the connection gets \`error\` \`rate_limited\` and stays open.`;
const SENT = 'The sender gets `message_received`; the other connections of the room get `message`.';

export const WS_ACTION_DOCS: Record<WsAction, WsActionDoc> = {
  message: {
    summary: 'Send a message (the seed\'s generic form)',
    description: `Text, image or audio, to \`room\` or the connection's room. ${SENT} ${RATE}`,
    data: messageInputSchema,
    dataName: 'MessageInput',
    reply: 'message_received',
    examples: [
      { name: 'text', summary: 'A text message', data: { type: 'text', content: 'hello' } },
      { name: 'image', summary: 'A PNG image to another room', data: { type: 'image', content: PNG_BASE64, format: 'png', room: 'design' } },
    ],
  },
  send_text: {
    summary: 'Send a text message',
    description: `${SENT} ${RATE}`,
    data: sendTextSchema,
    dataName: 'SendText',
    reply: 'message_received',
    examples: [{ name: 'hello', summary: 'Hello', data: { text: 'hello', sender: 'alice' } }],
  },
  send_image: {
    summary: 'Send an image (base64)',
    description: `Formats png, jpg/jpeg, gif, webp; at most ${LIMITS.mediaMaxBytes} bytes decoded, and the bytes must match \`format\`. ${SENT}`,
    data: sendImageSchema,
    dataName: 'SendImage',
    reply: 'message_received',
    examples: [{ name: 'png', summary: 'A 1x1 PNG', data: { image: PNG_BASE64, sender: 'alice', format: 'png' } }],
  },
  send_audio: {
    summary: 'Send audio (base64)',
    description: `Formats wav, mp3, ogg, webm; at most ${LIMITS.mediaMaxBytes} bytes decoded, and the bytes must match \`format\`. ${SENT}`,
    data: sendAudioSchema,
    dataName: 'SendAudio',
    reply: 'message_received',
    examples: [{ name: 'wav', summary: 'A WAV header (base64)', data: { audio: 'UklGRiQAAABXQVZFZm10IA==', format: 'wav' } }],
  },
  ping: {
    summary: 'Ping',
    description: `Answered with \`pong\`; keeps the connection from the ${LIMITS.wsIdleTimeoutMs / 60_000}-minute idle timeout.`,
    data: ignoredData,
    dataName: 'PingData',
    reply: 'pong',
    examples: [{ name: 'ping', summary: 'No data', data: {} }],
  },
  join: {
    summary: 'Listen to another room',
    description: 'The connection leaves its room and listens to this one (broadcasts and notifications keep coming).',
    data: joinSchema,
    dataName: 'Join',
    reply: 'joined',
    examples: [{ name: 'design', summary: 'Join design', data: { room: 'design' } }],
  },
  leave: {
    summary: 'Stop listening to the room',
    description: 'From now on only broadcasts and notifications arrive.',
    data: ignoredLeaveData,
    dataName: 'LeaveData',
    reply: 'left',
    examples: [{ name: 'leave', summary: 'No data', data: {} }],
  },
  resume: {
    summary: 'Replay what was missed',
    description: `The missed \`message\`, \`broadcast\` and \`notification\` events after \`after\` (the room's and the global ones), in order, then \`resumed\`. At most ${LIMITS.sseResumeMaxItems} per call.`,
    data: resumeSchema,
    dataName: 'Resume',
    reply: 'resumed',
    examples: [{ name: 'after', summary: 'After the last seen message', data: { after: TEXT_MESSAGE.id } }],
  },
  presence: {
    summary: 'Who is online',
    description: `The users online in \`room\` (default: the connection's room), at most ${LIMITS.presencePageUsers}; \`GET /api/rooms/{room}/presence\` pages on.`,
    data: presenceActionSchema,
    dataName: 'PresenceRequest',
    reply: 'presence_list',
    examples: [{ name: 'room', summary: "The connection's room", data: {} }],
  },
  typing: {
    summary: 'Say you are typing',
    description: `The room's other members (not your own connections) get \`typing\`; never stored. One per user and room every ${LIMITS.typingIntervalMs / 1000} s, else \`error\` \`rate_limited\` (\`details.retry_after_ms\`). No reply (a Socket.IO ACK gets \`{}\`). A \`start\` lapses after ${LIMITS.typingLapseMs / 1000} s unless repeated.`,
    data: typingSchema,
    dataName: 'Typing',
    examples: [
      { name: 'start', summary: 'Started typing', data: { state: 'start' } },
      { name: 'stop', summary: 'Stopped typing in design', data: { room: 'design', state: 'stop' } },
    ],
  },
};

export const WS_EVENT_DOCS: Record<WsEvent, WsEventDoc> = {
  connected: {
    summary: 'Greeting after the handshake',
    description: 'Sent once, unasked, right after connecting (Socket.IO: after the namespace CONNECT is accepted).',
    data: connectedEventSchema,
    dataName: 'Connected',
    examples: [
      {
        name: 'connected',
        summary: 'Connected to general',
        data: { connection_id: CONNECTION_ID, room: 'general', user: 'alice', message: 'Connected to chat server' },
      },
    ],
  },
  message: {
    summary: 'A message in the room',
    description: 'A message someone else sent to the room this connection listens to.',
    data: chatMessageSchema,
    dataName: 'ChatMessage',
    examples: [
      { name: 'text', summary: 'A text message', data: TEXT_MESSAGE },
      { name: 'image', summary: 'An image', data: IMAGE_MESSAGE },
    ],
  },
  message_received: {
    summary: 'Your message was accepted',
    description: 'The reply to `message`, `send_text`, `send_image` and `send_audio`: stored, with its server id.',
    data: messageReceivedEventSchema,
    dataName: 'MessageReceived',
    examples: [
      {
        name: 'received',
        summary: 'Received',
        data: { id: TEXT_MESSAGE.id, status: 'received', room: 'general', timestamp: TEXT_MESSAGE.timestamp, message: TEXT_MESSAGE },
      },
    ],
  },
  broadcast: {
    summary: 'A system message to everyone',
    description: 'Sent to every connection, whatever its room (`POST /api/messages/broadcast`).',
    data: chatMessageSchema,
    dataName: 'ChatMessage',
    examples: [{ name: 'notice', summary: 'A notice', data: BROADCAST_MESSAGE }],
  },
  notification: {
    summary: 'A published event',
    description: 'Sent to every connection (`POST /api/events/publish`); SSE clients get it under its `event_type`.',
    data: publishedEventSchema,
    dataName: 'PublishedEvent',
    examples: [{ name: 'deploy', summary: 'A deployment finished', data: PUBLISHED_EVENT }],
  },
  pong: {
    summary: 'Answer to ping',
    description: 'The reply to `ping`.',
    data: pongEventSchema,
    dataName: 'Pong',
    examples: [{ name: 'pong', summary: 'Pong', data: { timestamp: T1 } }],
  },
  error: {
    summary: 'A frame was rejected',
    description: 'The reply to a frame the service could not accept (bad JSON, unknown action, invalid data, limits); the connection stays open.',
    data: errorDetailSchema,
    dataName: 'Error',
    examples: (['validation_error', 'unknown_action', 'rate_limited'] as const).map((code) => ({ name: code, summary: `\`${code}\``, data: errorExample(code).body })),
  },
  joined: {
    summary: 'Now listening to a room',
    description: 'The reply to `join`.',
    data: joinedEventSchema,
    dataName: 'Joined',
    examples: [{ name: 'design', summary: 'Joined design', data: { room: 'design' } }],
  },
  left: {
    summary: 'No longer in a room',
    description: 'The reply to `leave`.',
    data: leftEventSchema,
    dataName: 'Left',
    examples: [{ name: 'general', summary: 'Left general', data: { room: 'general' } }],
  },
  resumed: {
    summary: 'Replay finished',
    description: 'Ends the replay of `resume`.',
    data: resumedEventSchema,
    dataName: 'Resumed',
    examples: [{ name: 'resumed', summary: 'Two events replayed', data: { room: 'general', count: 2, last_id: IMAGE_MESSAGE.id, complete: true } }],
  },
  removed: REMOVED_EVENT_DOC,
  presence: {
    summary: 'A user came online or went offline',
    description: `To every connection of the room: \`online\` when a user's first connection enters it, \`offline\` ${LIMITS.presenceGraceSeconds} s after their last one left (closed, left, joined elsewhere, or found dead), unless they came back.`,
    data: presenceEventSchema,
    dataName: 'PresenceChange',
    examples: [{ name: 'online', summary: 'alice came online', data: { room: 'general', user: 'alice', state: 'online' } }],
  },
  presence_list: {
    summary: 'Who is online',
    description: 'The reply to `presence`.',
    data: presenceListSchema,
    dataName: 'PresenceList',
    examples: [
      {
        name: 'two',
        summary: 'alice in two tabs, bob in one',
        data: { room: 'general', members: [{ user: 'alice', connections: 2, since: T1 }, { user: 'bob', connections: 1, since: T1 }], next_cursor: null },
      },
    ],
  },
  typing: {
    summary: 'Someone is typing',
    description: `To the room's other connections. Show "<user> is typing…" until \`stop\`, a message from that user, or \`expires_in_ms\` (${LIMITS.typingLapseMs} ms) after the last \`start\`.`,
    data: typingEventSchema,
    dataName: 'TypingEvent',
    examples: [{ name: 'start', summary: 'alice is typing', data: { room: 'general', user: 'alice', state: 'start', expires_in_ms: LIMITS.typingLapseMs } }],
  },
};

/** `$connect` query string of a JSON client (read by `lambdas/handlers/ws-connect.ts` and the authorizer). */
export const connectQuerySchema = z.object({
  room: z.optional(describe(z._default(roomSchema, 'general'), { description: 'The room to listen to (default `general`); a bad room rejects the handshake' })),
  token: describe(z.string(), { description: 'The JWT, checked by the `$connect` authorizer (browsers cannot set headers on the handshake)' }),
});

/** `$connect` query string of a Socket.IO client: `EIO=4` is what selects the protocol. */
export const socketIoConnectQuerySchema = z.extend(connectQuerySchema, {
  EIO: describe(z.literal('4'), { description: 'Engine.IO version: `4` makes this a Socket.IO connection (socket.io-client sets it)' }),
  transport: z.optional(describe(z.literal('websocket'), { description: 'Set by socket.io-client; only `websocket` exists' })),
});
