/**
 * End to end: the real `socket.io-client` v4 against the local runtime (WebSocket API emulator,
 * `@connections`, SQS event source, the very Lambda handlers), configured as the README section "Migrating Socket.IO clients"
 * says: origin as the URL, the stage as `path`, `addTrailingSlash: false`, `transports:
 * ['websocket']`, the room in `query`.
 *
 * Every wait is on an event or a frame (no sleeps); ports are picked by the OS; every client is
 * closed and the runtime stopped after each block.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { SOCKETIO_HANDSHAKE } from '../../lambdas/protocol/socketio-codec.js';
import { b64, jpeg, png, wav } from '../support/media.js';

const STAGE = 'local';
const WAIT_MS = 15_000;

interface Received {
  event: string;
  args: unknown[];
}

/** Everything a client receives, kept in order, with waits that also see what arrived before. */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly taken = new Set<T>();
  private waiters: Array<() => void> = [];

  push(item: T): void {
    this.items.push(item);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves with (and consumes) the first unconsumed item that matches. */
  async take(match: (item: T) => boolean, what: string, timeoutMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.items.find((item) => !this.taken.has(item) && match(item));
      if (found !== undefined) {
        this.taken.add(found);
        return found;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; received: ${JSON.stringify(this.items).slice(-1500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Items not consumed yet that match. */
  pending(match: (item: T) => boolean): T[] {
    return this.items.filter((item) => !this.taken.has(item) && match(item));
  }
}

interface SioClient {
  socket: Socket;
  inbox: Inbox<Received>;
  lifecycle: Inbox<{ kind: 'connect' | 'disconnect' | 'connect_error'; detail?: unknown }>;
  next<D = Record<string, unknown>>(event: string, match?: (data: D) => boolean): Promise<D>;
}

interface JsonClient {
  ws: WebSocket;
  inbox: Inbox<{ event: string; data: Record<string, unknown> }>;
  next(event: string, match?: (data: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  send(action: string, data: unknown): void;
}

describe('socket.io-client v4 against the local runtime', () => {
  let runtime: Runtime;
  const sockets: Socket[] = [];
  const raws: WebSocket[] = [];

  const clientOptions = (room: string, extra: Partial<ManagerOptions & SocketOptions> = {}): Partial<ManagerOptions & SocketOptions> => ({
    path: `/${STAGE}`,
    addTrailingSlash: false,
    transports: ['websocket'],
    query: { room },
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    ...extra,
  });

  function sioClient(room: string, extra: Partial<ManagerOptions & SocketOptions> = {}, url = runtime.wsUrl): SioClient {
    const socket = io(url, clientOptions(room, extra));
    sockets.push(socket);
    const inbox = new Inbox<Received>();
    const lifecycle = new Inbox<{ kind: 'connect' | 'disconnect' | 'connect_error'; detail?: unknown }>();
    socket.onAny((event: string, ...args: unknown[]) => inbox.push({ event, args }));
    socket.on('connect', () => lifecycle.push({ kind: 'connect', detail: socket.id }));
    socket.on('disconnect', (reason, details) => lifecycle.push({ kind: 'disconnect', detail: { reason, details } }));
    socket.on('connect_error', (error) => lifecycle.push({ kind: 'connect_error', detail: error.message }));
    return {
      socket,
      inbox,
      lifecycle,
      async next<D>(event: string, match: (data: D) => boolean = () => true) {
        const item = await inbox.take((r) => r.event === event && match(r.args[0] as D), `"${event}" on a Socket.IO client`);
        return item.args[0] as D;
      },
    };
  }

  /** A Socket.IO client that has completed the handshake and got `connected`. */
  async function connectedSio(room: string, extra: Partial<ManagerOptions & SocketOptions> = {}) {
    const client = sioClient(room, extra);
    const connected = await client.next<{ connection_id: string; room: string }>('connected');
    expect(client.socket.connected).toBe(true);
    return { ...client, connectionId: connected.connection_id };
  }

  async function rawSocket(query: string): Promise<{ ws: WebSocket; frames: Inbox<string> }> {
    const ws = new WebSocket(`${runtime.wsUrl}/${STAGE}?${query}`);
    raws.push(ws);
    const frames = new Inbox<string>();
    ws.on('message', (data) => frames.push(data.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, frames };
  }

  async function jsonClient(room: string): Promise<JsonClient & { connectionId: string }> {
    const { ws, frames } = await rawSocket(`room=${encodeURIComponent(room)}`);
    const inbox = new Inbox<{ event: string; data: Record<string, unknown> }>();
    ws.on('message', (data) => inbox.push(JSON.parse(data.toString())));
    // Frames that arrived before the JSON listener was attached.
    for (const frame of frames.pending(() => true)) inbox.push(JSON.parse(frame));
    const client: JsonClient = {
      ws,
      inbox,
      async next(event, match = () => true) {
        return (await inbox.take((f) => f.event === event && match(f.data), `"${event}" on the JSON client`)).data;
      },
      send(action, data) {
        ws.send(JSON.stringify({ action, data }));
      },
    };
    const connected = await client.next('connected');
    return { ...client, connectionId: String(connected.connection_id) };
  }

  async function post(path: string, body: unknown): Promise<Response> {
    return fetch(`${runtime.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  beforeAll(async () => {
    runtime = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, stage: STAGE, quiet: true });
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    for (const ws of raws.splice(0)) ws.terminate();
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('speaks Engine.IO / Socket.IO on the wire: open packet, CONNECT, `connected`, in order', async () => {
    const { ws, frames } = await rawSocket('EIO=4&transport=websocket&room=wire');
    const open = await frames.take(() => true, 'the open packet');
    expect(open.charAt(0)).toBe('0');
    const handshake = JSON.parse(open.slice(1)) as Record<string, unknown>;
    expect(handshake).toEqual({
      sid: expect.any(String),
      upgrades: [],
      pingInterval: SOCKETIO_HANDSHAKE.pingInterval,
      pingTimeout: SOCKETIO_HANDSHAKE.pingTimeout,
      maxPayload: 131072,
    });
    // Nothing else until the client connects to the namespace.
    ws.send('40{"token":"ignored-for-now"}');
    expect(await frames.take(() => true, 'the CONNECT answer')).toBe(`40${JSON.stringify({ sid: handshake.sid })}`);
    const connected = await frames.take(() => true, '`connected`');
    expect(JSON.parse(connected.slice(2))).toEqual([
      'connected',
      { connection_id: handshake.sid, room: 'wire', user: 'anonymous', message: 'Connected to chat server' },
    ]);
    ws.send('2');
    expect(await frames.take(() => true, 'the pong')).toBe('3');
    ws.send('42["ping"]');
    expect(JSON.parse((await frames.take(() => true, 'pong event')).slice(2))).toEqual(['pong', { timestamp: expect.any(String) }]);
    ws.send('40/admin,');
    expect(await frames.take(() => true, 'CONNECT_ERROR')).toBe('44/admin,{"message":"Invalid namespace"}');
  });

  it('connects with transports [websocket] and gets `connected`, socket.id being the connection id', async () => {
    const client = await connectedSio('lobby', { auth: { token: 'passed-in-connect-packet' } });
    expect(client.socket.io.engine.transport.name).toBe('websocket');
    expect(client.socket.id).toBe(client.connectionId);
    expect(runtime.websocket.connections().map((c) => c.connectionId)).toContain(client.connectionId);
    const [connected] = client.inbox.pending(() => true);
    expect(connected).toBeUndefined(); // `connected` was consumed above, exactly once
  });

  it('carries every seed event both ways, media as base64', async () => {
    const room = 'every-event';
    const alice = await connectedSio(room);
    const bob = await connectedSio(room);

    const image = b64(png());
    const photo = b64(jpeg());
    const audio = b64(wav());

    alice.socket.emit('message', { type: 'text', content: 'hello via message', sender: 'alice' });
    const r1 = await alice.next<{ status: string; message: { content: string } }>('message_received', (d) => d.message.content === 'hello via message');
    expect(r1.status).toBe('received');
    expect(await bob.next('message', (m: { content: string }) => m.content === 'hello via message')).toMatchObject({ type: 'text', sender: 'alice', room });

    alice.socket.emit('send_text', { text: 'hello via send_text', sender: 'alice' });
    await alice.next('message_received', (d: { message: { content: string } }) => d.message.content === 'hello via send_text');
    expect(await bob.next('message', (m: { content: string }) => m.content === 'hello via send_text')).toMatchObject({ type: 'text', room });

    alice.socket.emit('send_image', { image, sender: 'alice', format: 'png' });
    await alice.next('message_received', (d: { message: { type: string } }) => d.message.type === 'image');
    const gotImage = await bob.next<{ type: string; content: string; format: string }>('message', (m) => m.type === 'image');
    expect(gotImage.content).toBe(image);
    expect(gotImage.format).toBe('png');
    expect(Buffer.from(gotImage.content, 'base64').equals(png())).toBe(true);

    alice.socket.emit('message', { type: 'image', content: photo, sender: 'alice', format: 'jpg' });
    expect((await bob.next<{ type: string; content: string }>('message', (m) => m.type === 'image' && m.content === photo)).content).toBe(photo);

    alice.socket.emit('send_audio', { audio, sender: 'alice', format: 'wav' });
    await alice.next('message_received', (d: { message: { type: string } }) => d.message.type === 'audio');
    expect(await bob.next('message', (m: { type: string }) => m.type === 'audio')).toMatchObject({ content: audio, format: 'wav' });

    alice.socket.emit('ping');
    expect(await alice.next('pong')).toEqual({ timestamp: expect.any(String) });

    const broadcast = await post('/api/messages/broadcast', { type: 'text', content: 'maintenance at noon', sender: 'ops' });
    expect(broadcast.status).toBeLessThan(300);
    for (const client of [alice, bob]) {
      expect(await client.next('broadcast', (m: { content: string }) => m.content === 'maintenance at noon')).toMatchObject({ type: 'text' });
    }

    const published = await post('/api/events/publish', { event_type: 'deploy', data: { version: '1.2.3' } });
    expect(published.status).toBe(201);
    for (const client of [alice, bob]) {
      expect(await client.next('notification', (n: { event_type: string }) => n.event_type === 'deploy')).toMatchObject({ data: { version: '1.2.3' } });
    }

    alice.socket.emit('send_text', { sender: 'alice' });
    expect(await alice.next('error')).toMatchObject({ code: 'validation_error', message: expect.stringContaining('send_text') });
    alice.socket.emit('no_such_event', {});
    expect(await alice.next('error')).toMatchObject({ code: 'unknown_action' });
    alice.socket.emit('send_image', { image: b64(Buffer.from('not an image at all')), format: 'png' });
    expect(await alice.next('error')).toMatchObject({ code: expect.stringMatching(/format_mismatch|invalid_base64|validation_error/) });
  });

  it('answers acknowledgement callbacks', async () => {
    const client = await connectedSio('acks');
    const pong = await client.socket.timeout(WAIT_MS).emitWithAck('ping');
    expect(pong).toEqual({ timestamp: expect.any(String) });

    const received = await new Promise<{ status: string; message: { content: string } }>((resolve) => {
      client.socket.emit('send_text', { text: 'with a callback', sender: 'ana' }, resolve);
    });
    expect(received.status).toBe('received');
    expect(received.message.content).toBe('with a callback');

    const rejected = await client.socket.timeout(WAIT_MS).emitWithAck('send_audio', { audio: 'not base64 !!', format: 'wav' });
    expect(rejected).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    // With an ack the reply goes to the callback only, not also as an event.
    expect(client.inbox.pending((r) => r.event === 'message_received' || r.event === 'error' || r.event === 'pong')).toEqual([]);
  });

  it('puts a Socket.IO client and a plain JSON client in the same room', async () => {
    const room = 'mixed';
    const sio = await connectedSio(room);
    const json = await jsonClient(room);

    sio.socket.emit('send_text', { text: 'from socket.io', sender: 'sio' });
    expect(await json.next('message', (m) => m.content === 'from socket.io')).toMatchObject({ sender: 'sio', room });

    json.send('send_text', { text: 'from json', sender: 'json' });
    expect(await json.next('message_received')).toMatchObject({ status: 'received' });
    expect(await sio.next('message', (m: { content: string }) => m.content === 'from json')).toMatchObject({ sender: 'json', room });

    const image = b64(png());
    json.send('send_image', { image, format: 'png', sender: 'json' });
    expect((await sio.next<{ content: string }>('message', (m) => m.content === image)).content).toBe(image);
  });

  it('answers bad packets with an error and keeps the connection usable', async () => {
    const client = await connectedSio('bad-packets');
    const engine = client.socket.io.engine;
    // Packets socket.io-client itself never sends, written through its own engine (`4` + data)
    // or its WebSocket (raw frame).
    const rawSend = (frame: string) => (engine.transport as unknown as { ws: WebSocket }).ws.send(frame);

    rawSend('0{"sid":"spoofed"}');
    expect(await client.next('error')).toMatchObject({ code: 'unsupported_packet', message: expect.stringContaining('only sent by servers') });
    engine.write('x');
    expect(await client.next('error')).toMatchObject({ code: 'unsupported_packet', message: expect.stringContaining('Unknown Socket.IO packet type "x"') });
    engine.write('2["send_text",{"text":');
    expect(await client.next('error')).toMatchObject({ code: 'invalid_json' });
    engine.write('9');
    expect(await client.next('error')).toMatchObject({ code: 'unsupported_packet', message: expect.stringContaining('Unknown Socket.IO packet type "9"') });
    engine.write('4{"message":"x"}');
    expect(await client.next('error')).toMatchObject({ code: 'unsupported_packet', message: expect.stringContaining('only sent by servers') });
    engine.write('2{"not":"an array"}');
    expect(await client.next('error')).toMatchObject({ code: 'unsupported_packet' });
    engine.write('5-["send_image",{"_placeholder":true,"num":0}]');
    expect(await client.next('error')).toMatchObject({ code: 'unsupported_packet', message: expect.stringContaining('binary attachments') });

    expect(client.socket.connected).toBe(true);
    expect(await client.socket.timeout(WAIT_MS).emitWithAck('ping')).toEqual({ timestamp: expect.any(String) });
    expect(client.lifecycle.pending((e) => e.kind === 'disconnect')).toEqual([]);
  });

  it('rejects binary attachments: with forceBase64 a clear error and the connection kept', async () => {
    const client = await connectedSio('binary', { forceBase64: true });
    client.socket.emit('send_image', { image: png(), format: 'png' });
    expect(await client.next('error')).toEqual({
      code: 'unsupported_packet',
      message: 'binary attachments are not supported; send media as base64 strings',
    });
    expect(await client.socket.timeout(WAIT_MS).emitWithAck('ping')).toEqual({ timestamp: expect.any(String) });
    expect(client.lifecycle.pending((e) => e.kind === 'disconnect')).toEqual([]);
    expect(client.inbox.pending((r) => r.event === 'error')).toEqual([]);
  });

  it('a binary frame is closed with 1003 as on API Gateway, and the client reconnects', async () => {
    const client = await connectedSio('binary-frames');
    client.socket.emit('send_image', { image: png(), format: 'png' });
    const closed = await client.lifecycle.take((e) => e.kind === 'disconnect', 'the disconnect');
    const detail = closed.detail as { reason: string; details?: { context?: { code?: number } } };
    expect(detail.reason).toBe('transport close');
    expect(detail.details?.context?.code).toBe(1003);
    const again = await client.next<{ connection_id: string }>('connected');
    expect(again.connection_id).not.toBe(client.connectionId);
    expect(await client.socket.timeout(WAIT_MS).emitWithAck('ping')).toEqual({ timestamp: expect.any(String) });
  });

  it('rejects other namespaces with connect_error', async () => {
    const client = sioClient('ns', {}, `${runtime.wsUrl}/admin`);
    const failed = await client.lifecycle.take((e) => e.kind === 'connect_error', 'connect_error');
    expect(failed.detail).toBe('Invalid namespace');
  });

  it('reconnects on its own after the server closes the connection (DELETE @connections)', async () => {
    const room = 'forced-close';
    const client = await connectedSio(room);
    const json = await jsonClient(room);
    const response = await fetch(`${runtime.managementUrl}/@connections/${encodeURIComponent(client.connectionId)}`, { method: 'DELETE' });
    expect(response.status).toBe(204);

    const closed = await client.lifecycle.take((e) => e.kind === 'disconnect', 'the disconnect');
    expect((closed.detail as { reason: string }).reason).toBe('transport close');
    const again = await client.next<{ connection_id: string; room: string }>('connected');
    expect(again.connection_id).not.toBe(client.connectionId);
    expect(again.room).toBe(room);
    expect(client.socket.id).toBe(again.connection_id);

    // The new connection is in the room again, both ways.
    json.send('send_text', { text: 'after reconnect', sender: 'json' });
    expect(await client.next('message', (m: { content: string }) => m.content === 'after reconnect')).toMatchObject({ room });
    client.socket.emit('send_text', { text: 'back again', sender: 'sio' });
    expect(await json.next('message', (m) => m.content === 'back again')).toMatchObject({ sender: 'sio' });
  });
});

describe('socket.io-client v4 and the idle timeout of API Gateway', () => {
  let runtime: Runtime;
  let socket: Socket | undefined;

  beforeAll(async () => {
    // API Gateway closes a connection after 10 min without client messages; here after 1.5 s.
    runtime = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, stage: STAGE, quiet: true, idleTimeoutMs: 1500 });
  });

  afterAll(async () => {
    socket?.disconnect();
    await runtime?.stop();
  });

  it('is closed by the gateway (not by its own ping timer) and reconnects on its own', async () => {
    socket = io(runtime.wsUrl, {
      path: `/${STAGE}`,
      addTrailingSlash: false,
      transports: ['websocket'],
      query: { room: 'idle' },
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    const inbox = new Inbox<{ kind: string; detail: unknown }>();
    socket.on('connected', (data: { connection_id: string }) => inbox.push({ kind: 'connected', detail: data.connection_id }));
    socket.on('disconnect', (reason, details) => inbox.push({ kind: 'disconnect', detail: { reason, details } }));

    const first = (await inbox.take((e) => e.kind === 'connected', 'connected')).detail;
    const closed = (await inbox.take((e) => e.kind === 'disconnect', 'the idle close')).detail as {
      reason: string;
      details?: { context?: { code?: number } };
    };
    expect(closed.reason).toBe('transport close');
    expect(closed.details?.context?.code).toBe(1001);
    const second = (await inbox.take((e) => e.kind === 'connected', 'connected after the reconnect')).detail;
    expect(second).not.toBe(first);
    expect(socket.connected).toBe(true);
  });
});
