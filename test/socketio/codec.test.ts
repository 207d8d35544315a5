/**
 * The Socket.IO codec against the reference implementation: packets built by the real
 * socket.io-parser / engine.io-parser encoders (what socket.io-client v4 sends) decode to the right
 * action or control frame, and every frame the codec writes is read back by their decoders (what
 * socket.io-client v4 reads). Also the greeting and CONNECT handling of the connection lifecycle.
 */
import { decodePacket, encodePacket, type Packet as EnginePacket } from 'engine.io-parser';
import fc from 'fast-check';
import { Decoder, Encoder, type Packet, PacketType } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { acceptConnect, registerConnection } from '../../lambdas/domain/connections.js';
import { ChatError } from '../../lambdas/domain/errors.js';
import type { ConnectionRecord } from '../../lambdas/domain/model.js';
import type { ConnectionGateway, ConnectionStore, PostOutcome, TaskQueue } from '../../lambdas/domain/ports.js';
import type { GreetTask, Task } from '../../lambdas/domain/tasks.js';
import { codecFor, type DecodedFrame, encodeForProtocols } from '../../lambdas/protocol/codec.js';
import { SOCKETIO_HANDSHAKE, socketioCodec } from '../../lambdas/protocol/socketio-codec.js';
import { LIMITS } from '../../lambdas/shared/limits.js';

/** What socket.io-client puts in one WebSocket frame: the Engine.IO `message` packet of each part. */
function clientFrames(packet: Packet): Array<string | Buffer> {
  const parts = new Encoder().encode(packet) as Array<string | Buffer>;
  return parts.map((part) => {
    let frame: string | Buffer | undefined;
    encodePacket({ type: 'message', data: part } as EnginePacket, true, (encoded) => {
      frame = encoded as string | Buffer;
    });
    return frame!;
  });
}

function clientFrame(packet: Packet): string {
  const [frame, ...rest] = clientFrames(packet);
  expect(rest).toHaveLength(0);
  expect(typeof frame).toBe('string');
  return frame as string;
}

/** Reads a server frame the way socket.io-client does: Engine.IO packet, then Socket.IO packet. */
function readServerFrame(frame: string): Packet {
  const engine = decodePacket(frame);
  expect(engine.type).toBe('message');
  const decoder = new Decoder();
  let decoded: Packet | undefined;
  decoder.on('decoded', (packet: Packet) => {
    decoded = packet;
  });
  decoder.add(engine.data as string);
  expect(decoded).toBeDefined();
  return decoded!;
}

function decodeError(raw: string): ChatError {
  try {
    socketioCodec.decode(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ChatError);
    return error as ChatError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

/** JSON values as JSON.parse returns them (no -0, no undefined). */
const jsonValue = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown);

describe('decode: what socket.io-client sends', () => {
  it('reads a CONNECT to the default namespace, with and without auth', () => {
    expect(clientFrame({ type: PacketType.CONNECT, nsp: '/' })).toBe('40');
    expect(socketioCodec.decode(clientFrame({ type: PacketType.CONNECT, nsp: '/' }))).toEqual({ kind: 'control', replies: [], connect: {} });
    const withAuth = clientFrame({ type: PacketType.CONNECT, nsp: '/', data: { token: 'abc.def' } });
    expect(withAuth).toBe('40{"token":"abc.def"}');
    expect(socketioCodec.decode(withAuth)).toEqual({ kind: 'control', replies: [], connect: { auth: { token: 'abc.def' } } });
  });

  it('answers a CONNECT to another namespace with CONNECT_ERROR on that namespace', () => {
    const frame = socketioCodec.decode(clientFrame({ type: PacketType.CONNECT, nsp: '/admin', data: { token: 't' } }));
    expect(frame.kind).toBe('control');
    const replies = (frame as Extract<DecodedFrame, { kind: 'control' }>).replies;
    expect(replies).toEqual(['44/admin,{"message":"Invalid namespace"}']);
    expect(readServerFrame(replies[0]!)).toEqual({ type: PacketType.CONNECT_ERROR, nsp: '/admin', data: { message: 'Invalid namespace' } });
    expect((frame as { connect?: unknown }).connect).toBeUndefined();
  });

  it('reads events, with the first argument as data and {} when there is none', () => {
    const payload = { text: 'hello', sender: 'ana', room: 'general' };
    expect(socketioCodec.decode(clientFrame({ type: PacketType.EVENT, nsp: '/', data: ['send_text', payload] }))).toEqual({
      kind: 'action',
      action: 'send_text',
      data: payload,
    });
    expect(socketioCodec.decode(clientFrame({ type: PacketType.EVENT, nsp: '/', data: ['ping'] }))).toEqual({
      kind: 'action',
      action: 'ping',
      data: {},
    });
    expect(socketioCodec.decode(clientFrame({ type: PacketType.EVENT, nsp: '/', data: ['message', { a: 1 }, 'extra', 3] }))).toEqual({
      kind: 'action',
      action: 'message',
      data: { a: 1 },
    });
  });

  it('reads the acknowledgement id of an event', () => {
    const frame = clientFrame({ type: PacketType.EVENT, nsp: '/', id: 12, data: ['send_text', { text: 'hi' }] });
    expect(frame).toBe('4212["send_text",{"text":"hi"}]');
    expect(socketioCodec.decode(frame)).toEqual({ kind: 'action', action: 'send_text', data: { text: 'hi' }, ackId: 12 });
    expect(socketioCodec.decode(clientFrame({ type: PacketType.EVENT, nsp: '/', id: 0, data: ['ping'] }))).toEqual({
      kind: 'action',
      action: 'ping',
      data: {},
      ackId: 0,
    });
  });

  it('reads any event name, data and ack id the reference encoder produces', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).filter((name) => !['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].includes(name)),
        jsonValue,
        fc.option(fc.nat({ max: 2 ** 31 }), { nil: undefined }),
        (name, data, id) => {
          const packet: Packet = { type: PacketType.EVENT, nsp: '/', data: [name, data] };
          if (id !== undefined) packet.id = id;
          const expected: DecodedFrame = { kind: 'action', action: name, data };
          if (id !== undefined) expected.ackId = id;
          expect(socketioCodec.decode(clientFrame(packet))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('treats DISCONNECT and client ACKs as housekeeping', () => {
    expect(clientFrame({ type: PacketType.DISCONNECT, nsp: '/' })).toBe('41');
    expect(socketioCodec.decode('41')).toEqual({ kind: 'control', replies: [] });
    expect(socketioCodec.decode(clientFrame({ type: PacketType.ACK, nsp: '/', id: 3, data: ['ok'] }))).toEqual({ kind: 'control', replies: [] });
  });

  it('answers Engine.IO pings with pongs and ignores pong, noop, upgrade and close', () => {
    const frame = (type: EnginePacket['type'], data?: string) => {
      let out = '';
      encodePacket({ type, ...(data === undefined ? {} : { data }) } as EnginePacket, true, (encoded) => {
        out = encoded as string;
      });
      return out;
    };
    expect(socketioCodec.decode(frame('ping'))).toEqual({ kind: 'control', replies: ['3'] });
    expect(socketioCodec.decode(frame('ping', 'probe'))).toEqual({ kind: 'control', replies: ['3probe'] });
    expect(decodePacket('3probe')).toEqual({ type: 'pong', data: 'probe' });
    for (const type of ['pong', 'noop', 'upgrade', 'close'] as const) {
      expect(socketioCodec.decode(frame(type))).toEqual({ kind: 'control', replies: [] });
    }
  });

  it('rejects binary attachments with a clear error', () => {
    const [header, attachment] = clientFrames({ type: PacketType.EVENT, nsp: '/', id: 4, data: ['send_image', { image: Buffer.from([0xff, 0xd8, 0xff]) }] });
    expect(header).toMatch(/^451-4\["send_image"/);
    expect(Buffer.isBuffer(attachment)).toBe(true);
    const error = decodeError(header as string);
    expect(error.code).toBe('unsupported_packet');
    expect(error.message).toBe('binary attachments are not supported; send media as base64 strings');
    // A binary ACK gets the same answer.
    const [ackHeader] = clientFrames({ type: PacketType.ACK, nsp: '/', id: 1, data: [Buffer.from('x')] });
    expect(ackHeader).toMatch(/^461-/);
    expect(decodeError(ackHeader as string).message).toContain('binary attachments are not supported');
    let base64 = '';
    encodePacket({ type: 'message', data: Buffer.from([1, 2, 3]) }, false, (encoded) => {
      base64 = encoded as string;
    });
    // The attachment itself (sent as text with `forceBase64`) follows a rejected header: dropped.
    expect(base64).toBe('bAQID');
    expect(socketioCodec.decode(base64)).toEqual({ kind: 'control', replies: [] });
  });

  it('rejects frames that are neither JSON envelopes nor Socket.IO packets', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['', 'unsupported_packet', /Empty frame/],
      ['hello', 'unsupported_packet', /neither a JSON envelope nor a Socket.IO packet/],
      ['[1,2]', 'unsupported_packet', /neither a JSON envelope nor a Socket.IO packet/],
      ['0{"sid":"x"}', 'unsupported_packet', /only sent by servers/],
      ['4', 'unsupported_packet', /Missing Socket.IO packet type/],
      ['4x', 'unsupported_packet', /Unknown Socket.IO packet type "x"/],
      ['47["a"]', 'unsupported_packet', /Unknown Socket.IO packet type "7"/],
      ['42["send_text",{', 'invalid_json', /not valid JSON/],
      ['42{"action":"ping"}', 'unsupported_packet', /array that starts with the event name/],
      ['42[]', 'unsupported_packet', /array that starts with the event name/],
      ['42[1,2]', 'unsupported_packet', /array that starts with the event name/],
      ['42/admin,["ping"]', 'unsupported_packet', /Namespace "\/admin" does not exist/],
      ['40[1]', 'unsupported_packet', /must be a JSON object/],
      ['44{"message":"x"}', 'unsupported_packet', /only sent by servers/],
      ['4299999999999999999999["ping"]', 'unsupported_packet', /too large/],
    ];
    for (const [raw, code, message] of cases) {
      const error = decodeError(raw);
      expect(error.code, raw).toBe(code);
      expect(error.message, raw).toMatch(message);
    }
  });
});

describe('encode: what socket.io-client reads', () => {
  it('writes the Engine.IO open packet with handshake values that outlast API Gateway', () => {
    const [open, ...rest] = socketioCodec.openingFrames('AbC123=');
    expect(rest).toHaveLength(0);
    const packet = decodePacket(open!);
    expect(packet.type).toBe('open');
    const handshake = JSON.parse(packet.data as string) as Record<string, unknown>;
    expect(handshake).toEqual({
      sid: 'AbC123=',
      upgrades: [],
      pingInterval: SOCKETIO_HANDSHAKE.pingInterval,
      pingTimeout: SOCKETIO_HANDSHAKE.pingTimeout,
      maxPayload: 128 * 1024,
    });
    // engine.io-client closes with "ping timeout" pingInterval + pingTimeout after the last server
    // ping; API Gateway must always close first (2 h maximum), and the delay must fit setTimeout.
    const deadline = SOCKETIO_HANDSHAKE.pingInterval + SOCKETIO_HANDSHAKE.pingTimeout;
    expect(deadline).toBeGreaterThan(LIMITS.wsMaxConnectionMs);
    expect(deadline).toBeGreaterThan(LIMITS.wsIdleTimeoutMs);
    expect(deadline).toBeLessThan(2 ** 31 - 1);
  });

  it('accepts a CONNECT with the connection id as socket id', () => {
    const [accept] = socketioCodec.acceptConnect!('conn-1=');
    expect(accept).toBe('40{"sid":"conn-1="}');
    expect(readServerFrame(accept!)).toEqual({ type: PacketType.CONNECT, nsp: '/', data: { sid: 'conn-1=' } });
  });

  it('writes server events as EVENT packets', () => {
    const event = { event: 'message', data: { id: '01J', type: 'text', content: 'héllo "x" \u2028', sender: 'ana', room: 'general' } };
    const frame = socketioCodec.encode(event);
    expect(frame.startsWith('42["message",')).toBe(true);
    expect(readServerFrame(frame)).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['message', event.data] });
    expect(readServerFrame(socketioCodec.encode({ event: 'pong', data: undefined }))).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['pong'] });
  });

  it('writes any event data so the reference decoder reads it back', () => {
    fc.assert(
      fc.property(fc.constantFrom('connected', 'message', 'message_received', 'broadcast', 'notification', 'pong', 'error'), jsonValue, (name, data) => {
        expect(readServerFrame(socketioCodec.encode({ event: name, data }))).toEqual({ type: PacketType.EVENT, nsp: '/', data: [name, data] });
      }),
      { numRuns: 300 },
    );
  });

  it('writes replies as ACKs when the client asked for one, as events otherwise', () => {
    const reply = { event: 'message_received', data: { id: '01J', status: 'received' } };
    expect(socketioCodec.encodeReply(reply, 5)).toBe('435[{"id":"01J","status":"received"}]');
    expect(readServerFrame(socketioCodec.encodeReply(reply, 5))).toEqual({ type: PacketType.ACK, nsp: '/', id: 5, data: [reply.data] });
    expect(readServerFrame(socketioCodec.encodeReply(reply, 0))).toEqual({ type: PacketType.ACK, nsp: '/', id: 0, data: [reply.data] });
    expect(socketioCodec.encodeReply(reply)).toBe(socketioCodec.encode(reply));
  });

  it('writes errors as an ack {error} or as an `error` event', () => {
    const error = { event: 'error', data: { code: 'validation_error', message: 'Invalid send_text: text: Required' } };
    expect(readServerFrame(socketioCodec.encodeReply(error, 9))).toEqual({ type: PacketType.ACK, nsp: '/', id: 9, data: [{ error: error.data }] });
    expect(socketioCodec.encodeReply(error)).toBe('42["error",{"code":"validation_error","message":"Invalid send_text: text: Required"}]');
    expect(readServerFrame(socketioCodec.encodeReply(error))).toEqual({ type: PacketType.EVENT, nsp: '/', data: ['error', error.data] });
  });
});

describe('registration', () => {
  it('is registered statically, and fan-out encodes once per protocol', () => {
    expect(codecFor('socketio')).toBe(socketioCodec);
    const frameFor = encodeForProtocols({ event: 'broadcast', data: { content: 'hi' } });
    expect(frameFor('socketio')).toBe('42["broadcast",{"content":"hi"}]');
    expect(JSON.parse(frameFor('json'))).toEqual({ event: 'broadcast', data: { content: 'hi' } });
  });
});

describe('connection lifecycle with Socket.IO connections', () => {
  function fakes() {
    const records = new Map<string, ConnectionRecord>();
    const posts: Array<[string, string]> = [];
    const closed: string[] = [];
    const tasks: Task[] = [];
    const gone = new Set<string>();
    const store: ConnectionStore = {
      shardCount: 1,
      put: async (record) => {
        records.set(record.connectionId, record);
      },
      get: async (id) => records.get(id),
      remove: async (id) => {
        const record = records.get(id);
        records.delete(id);
        return record;
      },
      removeStale: async (id) => {
        const record = records.get(id);
        records.delete(id);
        return record;
      },
      setRoom: async () => undefined,
      listRoom: async () => ({ members: [] }),
      listShard: async () => ({ members: [] }),
    };
    const gateway: ConnectionGateway = {
      post: async (id, payload): Promise<PostOutcome> => {
        if (gone.has(id)) return 'gone';
        posts.push([id, payload]);
        return 'ok';
      },
      disconnect: async (id) => {
        closed.push(id);
      },
    };
    const queue: TaskQueue = {
      send: async (task) => {
        tasks.push(task);
      },
    };
    const clock = { now: () => Date.parse('2025-01-01T00:00:00Z') };
    const service = {
      connect: (id: string, identity: { userId: string; roles: string[] }, room: string, protocol: 'json' | 'socketio') =>
        registerConnection({ connections: store, tasks: queue, clock }, id, identity, room, protocol),
      acceptConnect: (id: string, codec: typeof socketioCodec) => acceptConnect({ connections: store, gateway }, id, codec),
    };
    return { service, records, posts, closed, tasks, gone };
  }

  it('greets a Socket.IO connection with the open packet only, a JSON one with `connected`', async () => {
    const { service, tasks } = fakes();
    await service.connect('sio-1', { userId: 'ana', roles: [] }, 'general', 'socketio');
    await service.connect('json-1', { userId: 'bob', roles: [] }, 'general', 'json');
    const [sio, json] = tasks as GreetTask[];
    expect(sio!.frames).toHaveLength(1);
    expect(decodePacket(sio!.frames[0]!).type).toBe('open');
    expect(json!.frames.map((f) => JSON.parse(f))).toEqual([
      { event: 'connected', data: { connection_id: 'json-1', room: 'general', user: 'bob', message: 'Connected to chat server' } },
    ]);
  });

  it('answers CONNECT with 40{sid} and then `connected`, with the same data as the JSON protocol', async () => {
    const { service, posts } = fakes();
    await service.connect('sio-1', { userId: 'ana', roles: [] }, 'lobby', 'socketio');
    expect(await service.acceptConnect('sio-1', socketioCodec)).toBe('sent');
    expect(posts.map(([, frame]) => frame)).toEqual([
      '40{"sid":"sio-1"}',
      '42["connected",{"connection_id":"sio-1","room":"lobby","user":"ana","message":"Connected to chat server"}]',
    ]);
  });

  it('closes a connection it does not know, so the client reconnects and registers', async () => {
    const { service, posts, closed } = fakes();
    expect(await service.acceptConnect('ghost', socketioCodec)).toBe('gone');
    expect(posts).toEqual([]);
    expect(closed).toEqual(['ghost']);
  });

  it('removes the record when the connection is gone', async () => {
    const { service, records, gone } = fakes();
    await service.connect('sio-2', { userId: 'ana', roles: [] }, 'general', 'socketio');
    gone.add('sio-2');
    expect(await service.acceptConnect('sio-2', socketioCodec)).toBe('gone');
    expect(records.has('sio-2')).toBe(false);
  });
});
