/**
 * Socket.IO v5 over Engine.IO v4, for `socket.io-client` v4 apps using the `websocket` transport.
 *
 * Over API Gateway one WebSocket frame carries exactly one Engine.IO packet, so there is no payload
 * batching: a client frame is `<engine type><socket.io packet>` and so is every server frame. The
 * formats follow engine.io-parser 5 and socket.io-parser 4 (written out here so the Lambdas carry no
 * Socket.IO runtime dependency):
 *
 * | frame                         | meaning                                                       |
 * | ----------------------------- | ------------------------------------------------------------- |
 * | `0{"sid":..}`                 | Engine.IO open (server → client, first frame)                 |
 * | `1` / `2` / `3` / `6`         | Engine.IO close / ping / pong / noop                          |
 * | `40` / `40{auth}`             | Socket.IO CONNECT to the default namespace                    |
 * | `40{"sid":..}`                | CONNECT accepted (server → client)                            |
 * | `41`                          | Socket.IO DISCONNECT of a namespace                           |
 * | `42["event",data]`            | EVENT; `42<id>["event",data]` asks for an acknowledgement     |
 * | `43<id>[data]`                | ACK of event `<id>`                                           |
 * | `44{"message":..}`            | CONNECT_ERROR                                                 |
 * | `45..` / `46..`               | binary EVENT / ACK: answered with an error                    |
 * | `b<base64>`                   | attachment of a binary packet (`forceBase64`): dropped        |
 *
 * Only the default namespace `/` exists; a CONNECT to another one gets a CONNECT_ERROR.
 *
 * Binary attachments: API Gateway closes the connection with 1003 on a binary WebSocket frame, so a
 * plain binary emit loses its connection (the client reconnects). With the client option
 * `forceBase64: true` the attachment travels as a `b<base64>` text frame instead and the client gets
 * the `unsupported_packet` error on its header, with the connection kept.
 */
import { ChatError } from '../domain/errors.js';
import type { ServerEvent } from '../domain/model.js';
import { LIMITS } from '../shared/limits.js';
import type { Codec, DecodedFrame } from './codec.js';

/**
 * Handshake values of the Engine.IO open packet.
 *
 * engine.io-client 6 (`Socket#_resetPingTimeout`) arms one timer of `pingInterval + pingTimeout`
 * at the handshake and re-arms it only when a server `ping` packet (`2`) arrives; any other traffic,
 * in either direction, does not reset it, and when it fires the client closes with "ping timeout"
 * (`Socket#_hasPingExpired` applies the same deadline before each emit). Socket.IO servers send a
 * ping every `pingInterval`; API Gateway cannot send anything on a timer, and posting pings from a
 * scheduler would cost a message per client per interval. So the deadline is set beyond anything
 * API Gateway would allow: `pingInterval` = 2 h (the maximum connection duration) and
 * `pingTimeout` = 10 min (the idle timeout), 2 h 10 min in total. The client's own timer therefore
 * never closes a connection API Gateway would still keep, idle or busy; it is always API Gateway
 * that ends it (10 min without traffic, or 2 h), the client sees a transport close ("transport
 * close") and reconnects on its own with its usual backoff.
 *
 * The trade-off: a connection that dies silently (network gone without a close frame) is noticed
 * by the OS's TCP timeouts, not by Engine.IO heartbeats. Apps that need faster detection can emit
 * the seed's `ping` event and expect `pong` (or an ack) within their own timeout.
 */
export const SOCKETIO_HANDSHAKE = {
  pingInterval: LIMITS.wsMaxConnectionMs,
  pingTimeout: LIMITS.wsIdleTimeoutMs,
  /** API Gateway's largest WebSocket message (128 KB); bigger ones close the socket with 1009. */
  maxPayload: LIMITS.wsMessageBytes,
} as const;

/** Engine.IO v4 packet types. */
const ENGINE = { open: '0', close: '1', ping: '2', pong: '3', message: '4', upgrade: '5', noop: '6' } as const;

/** Socket.IO v5 packet types. */
const PACKET = { connect: 0, disconnect: 1, event: 2, ack: 3, connectError: 4, binaryEvent: 5, binaryAck: 6 } as const;

const BINARY_MESSAGE = 'binary attachments are not supported; send media as base64 strings';
const HELP = 'send a Socket.IO packet such as 42["send_text",{"text":"hi"}] or a JSON frame {"action": "<event>", "data": {...}}';

interface SocketPacket {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
}

function unsupported(message: string): ChatError {
  return new ChatError('unsupported_packet', message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses the Socket.IO part of an Engine.IO message packet, as socket.io-parser's `decodeString`. */
function parseSocketPacket(str: string): SocketPacket {
  if (!/^[0-6]/.test(str)) {
    throw unsupported(`${str.length === 0 ? 'Missing Socket.IO packet type' : `Unknown Socket.IO packet type "${str.charAt(0)}"`}; ${HELP}`);
  }
  const type = Number(str.charAt(0));
  if (type === PACKET.binaryEvent || type === PACKET.binaryAck) throw unsupported(BINARY_MESSAGE);
  let i = 1;
  let nsp = '/';
  if (str.charAt(i) === '/') {
    const comma = str.indexOf(',', i);
    const end = comma === -1 ? str.length : comma;
    nsp = str.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  const packet: SocketPacket = { type, nsp };
  const digits = /^\d+/.exec(str.slice(i))?.[0];
  if (digits !== undefined) {
    const id = Number(digits);
    if (!Number.isSafeInteger(id)) throw unsupported('Acknowledgement id is too large');
    packet.id = id;
    i += digits.length;
  }
  const payload = str.slice(i);
  if (payload.length > 0) {
    try {
      packet.data = JSON.parse(payload);
    } catch {
      throw new ChatError('invalid_json', `Socket.IO packet payload is not valid JSON; ${HELP}`);
    }
  }
  return packet;
}

function decodeSocketPacket(str: string): DecodedFrame {
  const packet = parseSocketPacket(str);
  switch (packet.type) {
    case PACKET.connect: {
      if (packet.data !== undefined && !isPlainObject(packet.data)) {
        throw unsupported('The CONNECT payload (auth) must be a JSON object');
      }
      if (packet.nsp !== '/') {
        return { kind: 'control', replies: [encodeSocketPacket({ type: PACKET.connectError, nsp: packet.nsp, data: { message: 'Invalid namespace' } })] };
      }
      return { kind: 'control', replies: [], connect: packet.data === undefined ? {} : { auth: packet.data } };
    }
    case PACKET.disconnect:
      // The client left the namespace; it closes the transport itself when no namespace is left.
      return { kind: 'control', replies: [] };
    case PACKET.ack:
      // The server never asks clients for acknowledgements: nothing is waiting for one.
      return { kind: 'control', replies: [] };
    case PACKET.event: {
      if (packet.nsp !== '/') throw unsupported(`Namespace "${packet.nsp.slice(0, 64)}" does not exist; use the default namespace "/"`);
      const args = packet.data;
      if (!Array.isArray(args) || typeof args[0] !== 'string') {
        throw unsupported('A Socket.IO EVENT must carry an array that starts with the event name, e.g. 42["ping"]');
      }
      const frame: DecodedFrame = { kind: 'action', action: args[0], data: args.length > 1 ? args[1] : {} };
      if (packet.id !== undefined) frame.ackId = packet.id;
      return frame;
    }
    default:
      throw unsupported(`Socket.IO packet type ${packet.type} (CONNECT_ERROR) is only sent by servers`);
  }
}

function encodeSocketPacket(packet: SocketPacket): string {
  let str = `${ENGINE.message}${packet.type}`;
  if (packet.nsp !== '/') str += `${packet.nsp},`;
  if (packet.id !== undefined) str += String(packet.id);
  if (packet.data !== undefined) str += JSON.stringify(packet.data);
  return str;
}

function eventArgs(event: ServerEvent): unknown[] {
  return event.data === undefined ? [event.event] : [event.event, event.data];
}

export const socketioCodec: Codec = {
  protocol: 'socketio',

  decode(raw: string): DecodedFrame {
    if (raw.length === 0) throw unsupported(`Empty frame; ${HELP}`);
    const type = raw.charAt(0);
    switch (type) {
      case ENGINE.message:
        return decodeSocketPacket(raw.slice(1));
      case ENGINE.ping:
        // Engine.IO v4 servers ping, clients answer; a client ping (v3 habit, or `2probe`) still gets its pong.
        return { kind: 'control', replies: [`${ENGINE.pong}${raw.slice(1, 64)}`] };
      case ENGINE.pong:
      case ENGINE.noop:
      case ENGINE.upgrade:
        return { kind: 'control', replies: [] };
      case ENGINE.close:
        // The client is closing the transport; API Gateway's $disconnect cleans up.
        return { kind: 'control', replies: [] };
      case ENGINE.open:
        throw unsupported('Engine.IO open packets are only sent by servers');
      case 'b':
        // A binary attachment sent as base64 text (`forceBase64: true`): its header packet (`45..`)
        // was already answered with the error, so the attachment itself is dropped quietly.
        return { kind: 'control', replies: [] };
      default:
        throw unsupported(`Frame is neither a JSON envelope nor a Socket.IO packet; ${HELP}`);
    }
  },

  encode(event: ServerEvent): string {
    return encodeSocketPacket({ type: PACKET.event, nsp: '/', data: eventArgs(event) });
  },

  encodeReply(event: ServerEvent, ackId?: number): string {
    if (ackId === undefined) return socketioCodec.encode(event);
    const result = event.event === 'error' ? { error: event.data } : event.data;
    return encodeSocketPacket({ type: PACKET.ack, nsp: '/', id: ackId, data: [result ?? null] });
  },

  openingFrames(connectionId: string): string[] {
    return [`${ENGINE.open}${JSON.stringify({ sid: connectionId, upgrades: [], ...SOCKETIO_HANDSHAKE })}`];
  },

  acceptConnect(connectionId: string): string[] {
    return [encodeSocketPacket({ type: PACKET.connect, nsp: '/', data: { sid: connectionId } })];
  },
};
