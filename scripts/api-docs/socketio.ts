/**
 * Socket.IO v5 over Engine.IO v4 frames that are not events: the handshake and acknowledgements.
 * Each frame is its prefix followed by the JSON payload these schemas describe; the prefixes and
 * values come from the product codec (`lambdas/protocol/socketio-codec.ts`), which the test runs
 * on every example.
 */
import * as z from 'zod/mini';
import { SOCKETIO_HANDSHAKE } from '../../lambdas/protocol/socketio-codec.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { CONNECTION_ID, T1 } from './examples.js';
import { describe } from './meta.js';
import { errorDetailSchema } from './wire.js';

export interface SocketIoFrameDoc {
  /** Frame text before the JSON payload (Engine.IO type, then Socket.IO type, then ack id). */
  prefix: string;
  direction: 'send' | 'receive';
  title: string;
  description: string;
  payload: z.core.$ZodType;
  payloadName: string;
  examples: Array<{ name: string; summary: string; payload: unknown; prefix?: string }>;
}

export const engineOpenSchema = z.object({
  sid: describe(z.string(), { description: 'The API Gateway connection id' }),
  upgrades: describe(z.array(z.string()).check(z.maxLength(0)), { description: 'None: the connection is a WebSocket from the start' }),
  pingInterval: describe(z.literal(SOCKETIO_HANDSHAKE.pingInterval), {
    description: `${LIMITS.wsMaxConnectionMs / 60_000} minutes, API Gateway's maximum connection duration: API Gateway cannot send pings on a timer, so the client's ping timeout never ends a connection API Gateway would keep`,
  }),
  pingTimeout: describe(z.literal(SOCKETIO_HANDSHAKE.pingTimeout), { description: `${LIMITS.wsIdleTimeoutMs / 60_000} minutes, API Gateway's idle timeout` }),
  maxPayload: describe(z.literal(SOCKETIO_HANDSHAKE.maxPayload), { description: "API Gateway's largest WebSocket message" }),
});

const connectAuthSchema = describe(z.optional(z.record(z.string(), z.unknown())), {
  description: 'The optional `auth` object of socket.io-client: decoded and ignored (the token travels in the query string)',
});
const connectAcceptedSchema = z.object({ sid: describe(z.string(), { description: 'The API Gateway connection id (`socket.id`)' }) });
const connectErrorSchema = z.object({ message: z.string() });
const ackSchema = describe(z.tuple([z.unknown()]), {
  description: 'One argument: the reply event\'s `data`, or `{"error": {"code", "message"}}` when the action was rejected',
});

export const SOCKETIO_FRAMES: Record<string, SocketIoFrameDoc> = {
  open: {
    prefix: '0',
    direction: 'receive',
    title: 'Engine.IO open',
    description: 'The first frame after the WebSocket handshake: `0` followed by the handshake values.',
    payload: engineOpenSchema,
    payloadName: 'EngineOpen',
    examples: [
      {
        name: 'open',
        summary: 'Handshake values',
        payload: { sid: CONNECTION_ID, upgrades: [], ...SOCKETIO_HANDSHAKE },
      },
    ],
  },
  connect: {
    prefix: '40',
    direction: 'send',
    title: 'Socket.IO CONNECT',
    description: 'Connects to the default namespace `/`: `40`, optionally followed by an auth object. Another namespace gets a CONNECT_ERROR.',
    payload: connectAuthSchema,
    payloadName: 'ConnectAuth',
    examples: [{ name: 'auth', summary: 'With an auth object', payload: { client: 'web' } }],
  },
  connect_accepted: {
    prefix: '40',
    direction: 'receive',
    title: 'Socket.IO CONNECT accepted',
    description: 'The namespace CONNECT was accepted; the `connected` event follows.',
    payload: connectAcceptedSchema,
    payloadName: 'ConnectAccepted',
    examples: [{ name: 'accepted', summary: 'Accepted', payload: { sid: CONNECTION_ID } }],
  },
  connect_error: {
    prefix: '44',
    direction: 'receive',
    title: 'Socket.IO CONNECT_ERROR',
    description: 'A CONNECT to a namespace other than `/` (the frame is `44/<namespace>,{...}`).',
    payload: connectErrorSchema,
    payloadName: 'ConnectError',
    examples: [{ name: 'namespace', summary: 'Unknown namespace /admin', prefix: '44/admin,', payload: { message: 'Invalid namespace' } }],
  },
  ack: {
    prefix: '43',
    direction: 'receive',
    title: 'Socket.IO ACK',
    description:
      'The reply to an EVENT sent with an acknowledgement id (`42<id>[...]`, i.e. `socket.emit(name, data, callback)`): `43<id>` followed by the reply, instead of the reply event.',
    payload: ackSchema,
    payloadName: 'Ack',
    examples: [
      { name: 'pong', summary: 'Ack of 421["ping"]', prefix: '431', payload: [{ timestamp: T1 }] },
      {
        name: 'error',
        summary: 'Ack of a rejected 422["join",{}]',
        prefix: '432',
        payload: [{ error: { code: 'validation_error', message: 'Invalid join: room: room must be a string' } }],
      },
    ],
  },
};

/** The error shape inside an ACK, for the test. */
export const ackErrorSchema = z.object({ error: errorDetailSchema });
