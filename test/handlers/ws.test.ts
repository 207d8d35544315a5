/**
 * WebSocket handlers ($connect, $disconnect, $default and the action routes) with API Gateway's
 * event shapes: what is stored, the reply frame the sender gets (the route response), and the
 * frames every other connection receives through @connections once the fan-out tasks ran.
 */
import '../support/quiet.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shardOf } from '../../lambdas/adapters/dynamo-connection-store.js';
import { ANONYMOUS } from '../../lambdas/auth/authenticator.js';
import { isUlid } from '../../lambdas/domain/ids.js';
import type { ChatMessage } from '../../lambdas/domain/model.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { WS_ACTIONS } from '../../lambdas/shared/routes.js';
import { connectionId, LOW_RATE_LIMITS, startTestEnv, type TestEnv } from '../support/env.js';
import { connectClients as connectClientsIn, rest, wsConnect, wsDisconnect, wsSend, wsSendRaw } from '../support/invoke.js';
import { AUDIO, b64, gif, IMAGES, padTo, png, wav } from '../support/media.js';
import type { ServerFrame } from '../support/recording-gateway.js';

let env: TestEnv;

beforeAll(async () => {
  env = await startTestEnv();
});
afterAll(async () => {
  await env?.stop();
});
beforeEach(async () => {
  await env.resetData();
});

const connectClients = (rooms: Record<string, string>) => connectClientsIn(env, rooms);

const eventsOf = (id: string) => env.gateway.eventsFor(id);

async function expectNothingStoredOrQueued(): Promise<void> {
  expect(await env.allStoredItems()).toEqual([]);
  expect(await env.receiveRecords()).toEqual([]);
}

function expectReceived(reply: ServerFrame, expected: Partial<ChatMessage>): ChatMessage {
  expect(reply.event).toBe('message_received');
  const data = reply.data as { id: string; status: string; room: string; timestamp: string; message: ChatMessage };
  expect(isUlid(data.id)).toBe(true);
  expect(data.status).toBe('received');
  expect(data.message.id).toBe(data.id);
  expect(data.room).toBe(data.message.room);
  expect(data.timestamp).toBe(data.message.timestamp);
  expect(data.message).toMatchObject(expected);
  return data.message;
}

describe('$connect', () => {
  it('stores the connection in the default room and greets it with `connected` right after', async () => {
    const id = connectionId('c-');
    const before = Math.floor(Date.now() / 1000);
    const result = await wsConnect(id);
    expect(result.statusCode).toBe(200);

    const item = await env.connectionItem(id);
    // Auth is off in these tests: every caller is the anonymous identity.
    expect(item).toMatchObject({ pk: id, room: 'general', userId: ANONYMOUS.userId, roles: ANONYMOUS.roles, protocol: 'json' });
    expect(item!.shard).toBe(shardOf(id));
    expect(new Date(item!.connectedAt as string).toISOString()).toBe(item!.connectedAt);
    expect(item!.ttl).toBeGreaterThanOrEqual(before + LIMITS.connectionTtlSeconds);
    expect(item!.ttl).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + LIMITS.connectionTtlSeconds);
    expect(await env.roomMembers('general')).toEqual([id]);

    // The connection is not postable during $connect: nothing was posted yet, a task was queued.
    expect(env.gateway.requests).toEqual([]);
    const drained = await env.drainTasks();
    // The greeting, and (the user's first connection in the room) the `online` fan-out to the room's
    // other connections, which leaves this one out: it gets only its greeting.
    expect(drained.processed.map((r) => JSON.parse(r.body).kind).filter((kind) => kind !== 'fanout')).toEqual(['greet']);
    expect(eventsOf(id)).toEqual([
      { event: 'connected', data: { connection_id: id, room: 'general', user: 'anonymous', message: 'Connected to chat server' } },
    ]);
  });

  it('takes the room from the query string', async () => {
    const id = connectionId('lobby-');
    expect((await wsConnect(id, { query: { room: 'lobby' } })).statusCode).toBe(200);
    expect(await env.connectionItem(id)).toMatchObject({ room: 'lobby' });
    expect(await env.roomMembers('lobby')).toEqual([id]);
    await env.drainTasks();
    expect(eventsOf(id)).toEqual([
      { event: 'connected', data: { connection_id: id, room: 'lobby', user: 'anonymous', message: 'Connected to chat server' } },
    ]);
  });

  describe('with auth on (as deployed)', () => {
    // Auth on is another deployment of the functions (no AUTH_MODE=off): an environment of its own.
    let authEnv: TestEnv;
    beforeAll(async () => {
      authEnv = await startTestEnv({ auth: true });
    });
    afterAll(async () => {
      await authEnv?.stop();
    });

    it('takes the identity from the $connect authorizer context', async () => {
      const id = connectionId('auth-');
      // What API Gateway passes on from a REQUEST authorizer: principalId, latency, and the context.
      const authorizer = { principalId: 'user-42', integrationLatency: 12, userId: 'user-42', roles: 'admin,mod' };
      const result = await wsConnect(id, { query: { room: 'lobby', token: 'x.y.z' }, authorizer });
      expect(result.statusCode).toBe(200);
      expect(await authEnv.connectionItem(id)).toMatchObject({ room: 'lobby', userId: 'user-42', roles: ['admin', 'mod'] });
      await authEnv.drainTasks();
      expect(authEnv.gateway.eventsFor(id)).toEqual([
        { event: 'connected', data: { connection_id: id, room: 'lobby', user: 'user-42', message: 'Connected to chat server' } },
      ]);
      // The sender of its messages is its user id.
      const reply = await wsSend(id, { action: 'send_text', data: { text: 'me' } });
      expectReceived(reply, { sender: 'user-42' });
      const spoofed = await wsSend(id, { action: 'send_text', data: { text: 'not me', sender: 'someone-else' } });
      expect(spoofed).toMatchObject({ event: 'error', data: { code: 'forbidden' } });
    });

    it('rejects a $connect that did not come through the authorizer (401), storing nothing', async () => {
      const id = connectionId('noauth-');
      const result = await wsConnect(id);
      expect(result.statusCode).toBe(401);
      expect(JSON.parse(result.body!)).toMatchObject({ error: { code: 'unauthorized' } });
      expect(await authEnv.connectionItem(id)).toBeUndefined();
      expect(await authEnv.receiveRecords()).toEqual([]);
    });
  });

  it('greets a connection that becomes postable only after a few attempts (410 while $connect runs)', async () => {
    const id = connectionId('slow-');
    expect((await wsConnect(id)).statusCode).toBe(200);
    env.gateway.failNext(id, 410, 2);
    await env.drainTasks();
    expect(env.gateway.attemptsFor(id).map((r) => r.status)).toEqual([410, 410, 200]);
    expect(eventsOf(id).map((f) => f.event)).toEqual(['connected']);
    // A 410 during the greeting does not mean the client left: the record stays.
    expect(await env.connectionItem(id)).toBeDefined();
  });

  it.each([
    ['spaces and punctuation', 'bad room!'],
    ['an empty room', ''],
    ['a room that is too long', 'r'.repeat(LIMITS.roomMaxChars + 1)],
  ])('rejects the handshake for %s, storing nothing', async (_name, room) => {
    const id = connectionId('bad-');
    const result = await wsConnect(id, { query: { room } });
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!)).toMatchObject({ error: { code: 'validation_error' } });
    expect(await env.connectionItem(id)).toBeUndefined();
    expect(await env.receiveRecords()).toEqual([]);
    expect(env.gateway.requests).toEqual([]);
  });
});

describe('$disconnect', () => {
  it('removes the connection record', async () => {
    const ids = await connectClients({ a: 'general', b: 'general' });
    expect((await wsDisconnect(ids.a!)).statusCode).toBe(200);
    expect(await env.connectionItem(ids.a!)).toBeUndefined();
    expect(await env.roomMembers('general')).toEqual([ids.b]);

    await rest('POST', '/api/message', { body: { type: 'text', content: 'after a left', sender: 's' } });
    await env.drainTasks();
    expect(env.gateway.attemptsFor(ids.a!)).toEqual([]);
    expect(eventsOf(ids.b!).map((f) => f.event)).toEqual(['message']);
  });

  it('answers 200 for a connection it does not know (best effort)', async () => {
    expect((await wsDisconnect(connectionId('ghost-'))).statusCode).toBe(200);
  });
});

describe('actions', () => {
  it('ping → pong', async () => {
    const ids = await connectClients({ a: 'general' });
    const reply = await wsSend(ids.a!, { action: 'ping' });
    expect(reply.event).toBe('pong');
    expect(Number.isNaN(Date.parse((reply.data as { timestamp: string }).timestamp))).toBe(false);
    await expectNothingStoredOrQueued();
  });

  it('message: the sender gets message_received, the room gets message, other rooms nothing', async () => {
    const ids = await connectClients({ sender: 'general', peer1: 'general', peer2: 'general', outsider: 'lobby' });
    const reply = await wsSend(ids.sender!, { action: 'message', data: { type: 'text', content: 'hello room', sender: 'alice' } });
    const message = expectReceived(reply, { type: 'text', content: 'hello room', sender: 'alice', room: 'general' });
    expect(await env.streamItems('room#general')).toEqual([{ kind: 'message', stream: 'room#general', message }]);

    await env.drainTasks();
    expect(eventsOf(ids.peer1!)).toEqual([{ event: 'message', data: message }]);
    expect(eventsOf(ids.peer2!)).toEqual([{ event: 'message', data: message }]);
    expect(env.gateway.attemptsFor(ids.sender!)).toEqual([]);
    expect(env.gateway.attemptsFor(ids.outsider!)).toEqual([]);
  });

  it('message: media types go through the same path', async () => {
    const ids = await connectClients({ sender: 'general', peer: 'general' });
    const content = b64(gif());
    const reply = await wsSend(ids.sender!, { action: 'message', data: { type: 'image', content, sender: 'a', format: 'gif' } });
    const message = expectReceived(reply, { type: 'image', content, format: 'gif' });
    await env.drainTasks();
    expect(eventsOf(ids.peer!)).toEqual([{ event: 'message', data: message }]);
  });

  it('message: an explicit room in the payload sends there instead of the connection room', async () => {
    const ids = await connectClients({ sender: 'general', inGeneral: 'general', inLobby: 'lobby' });
    const reply = await wsSend(ids.sender!, { action: 'message', data: { type: 'text', content: 'psst', sender: 'a', room: 'lobby' } });
    const message = expectReceived(reply, { room: 'lobby' });
    expect(await env.streamItems('room#lobby')).toHaveLength(1);
    await env.drainTasks();
    expect(eventsOf(ids.inLobby!)).toEqual([{ event: 'message', data: message }]);
    expect(eventsOf(ids.inGeneral!)).toEqual([]);
  });

  it('send_text', async () => {
    const ids = await connectClients({ sender: 'room-t', peer: 'room-t', other: 'general' });
    const reply = await wsSend(ids.sender!, { action: 'send_text', data: { text: 'plain text', sender: 'bob' } });
    const message = expectReceived(reply, { type: 'text', content: 'plain text', sender: 'bob', room: 'room-t' });
    expect(message.format).toBeUndefined();
    expect((await env.streamItems('room#room-t')).map((i) => i.kind)).toEqual(['message']);
    await env.drainTasks();
    expect(eventsOf(ids.peer!)).toEqual([{ event: 'message', data: message }]);
    expect(eventsOf(ids.other!)).toEqual([]);
    expect(eventsOf(ids.sender!)).toEqual([]);
  });

  for (const [format, build] of Object.entries(IMAGES)) {
    it(`send_image (${format})`, async () => {
      const ids = await connectClients({ sender: 'pics', peer: 'pics' });
      const image = b64(build());
      const reply = await wsSend(ids.sender!, { action: 'send_image', data: { image, sender: 'cam', format } });
      const message = expectReceived(reply, { type: 'image', content: image, format, room: 'pics' });
      expect((await env.streamItems('room#pics'))[0]).toMatchObject({ message: { id: message.id, content: image } });
      await env.drainTasks();
      expect(eventsOf(ids.peer!)).toEqual([{ event: 'message', data: message }]);
    });
  }

  for (const [format, build] of Object.entries(AUDIO)) {
    it(`send_audio (${format})`, async () => {
      const ids = await connectClients({ sender: 'sounds', peer: 'sounds' });
      const audio = b64(build());
      const reply = await wsSend(ids.sender!, { action: 'send_audio', data: { audio, sender: 'mic', format } });
      const message = expectReceived(reply, { type: 'audio', content: audio, format, room: 'sounds' });
      await env.drainTasks();
      expect(eventsOf(ids.peer!)).toEqual([{ event: 'message', data: message }]);
    });
  }

  it('accepts a base64-encoded (binary) frame', async () => {
    const ids = await connectClients({ sender: 'general' });
    const reply = await wsSend(ids.sender!, { action: 'send_text', data: { text: 'binary frame', sender: 'b' } }, { base64: true });
    expectReceived(reply, { content: 'binary frame' });
  });

  it('join moves the connection to another room', async () => {
    const ids = await connectClients({ mover: 'general', stayer: 'general', host: 'games' });
    const reply = await wsSend(ids.mover!, { action: 'join', data: { room: 'games' } });
    expect(reply).toEqual({ event: 'joined', data: { room: 'games' } });
    expect(await env.connectionItem(ids.mover!)).toMatchObject({ room: 'games' });
    expect(await env.roomMembers('games')).toEqual([ids.host, ids.mover].sort());
    expect(await env.roomMembers('general')).toEqual([ids.stayer]);

    const inGames = await wsSend(ids.host!, { action: 'send_text', data: { text: 'welcome', sender: 'host' } });
    const inGeneral = await wsSend(ids.stayer!, { action: 'send_text', data: { text: 'bye', sender: 'stayer' } });
    await env.drainTasks();
    expect(eventsOf(ids.mover!)).toEqual([{ event: 'message', data: (inGames.data as { message: unknown }).message }]);
    expect(eventsOf(ids.host!)).toEqual([]);
    expect(eventsOf(ids.stayer!)).toEqual([]);
    expect((inGeneral.data as { room: string }).room).toBe('general');
  });

  it('leave takes the connection out of its room; it still gets broadcasts and needs a room to send', async () => {
    const ids = await connectClients({ leaver: 'general', peer: 'general' });
    const reply = await wsSend(ids.leaver!, { action: 'leave' });
    expect(reply).toEqual({ event: 'left', data: { room: 'general' } });
    const item = await env.connectionItem(ids.leaver!);
    expect(item).toBeDefined();
    expect(item!.room).toBeUndefined();
    expect(await env.roomMembers('general')).toEqual([ids.peer]);

    const roomMessage = await wsSend(ids.peer!, { action: 'send_text', data: { text: 'room only', sender: 'p' } });
    expect(roomMessage.event).toBe('message_received');
    const broadcast = await rest('POST', '/api/messages/broadcast', { body: { type: 'text', content: 'everyone', sender: 'ops' } });
    await env.drainTasks();
    expect(eventsOf(ids.leaver!)).toEqual([{ event: 'broadcast', data: broadcast.body.message }]);

    const refused = await wsSend(ids.leaver!, { action: 'send_text', data: { text: 'where am I', sender: 'l' } });
    expect(refused.event).toBe('error');
    expect((refused.data as { code: string }).code).toBe('not_in_room');
    const explicit = await wsSend(ids.leaver!, { action: 'send_text', data: { text: 'to general', sender: 'l', room: 'general' } });
    expectReceived(explicit, { room: 'general' });
  });

  it('resume replays what the connection missed (room and global streams, in id order), then answers resumed', async () => {
    const ids = await connectClients({ returning: 'general', peer: 'general' });
    const send = async (text: string) =>
      ((await wsSend(ids.peer!, { action: 'send_text', data: { text, sender: 'p' } })).data as { message: ChatMessage }).message;
    const m1 = await send('one');
    const m2 = await send('two');
    const broadcast = (await rest('POST', '/api/messages/broadcast', { body: { type: 'text', content: 'all', sender: 'o' } })).body
      .message as ChatMessage;
    const event = (await rest('POST', '/api/events/publish', { body: { event_type: 'tick', data: { n: 1 } } })).body.event;
    const m3 = await send('three');
    await rest('POST', '/api/message', { body: { type: 'text', content: 'other room', sender: 'x', room: 'lobby' } });
    await env.drainTasks();
    env.gateway.reset();

    const reply = await wsSend(ids.returning!, { action: 'resume', data: { after: m1.id } });
    expect(reply).toEqual({ event: 'resumed', data: { room: 'general', count: 4, last_id: m3.id, complete: true } });
    expect(eventsOf(ids.returning!)).toEqual([
      { event: 'message', data: m2 },
      { event: 'broadcast', data: broadcast },
      { event: 'notification', data: event },
      { event: 'message', data: m3 },
    ]);

    env.gateway.reset();
    const upToDate = await wsSend(ids.returning!, { action: 'resume', data: { after: m3.id } });
    expect(upToDate).toEqual({ event: 'resumed', data: { room: 'general', count: 0, last_id: m3.id, complete: true } });
    expect(eventsOf(ids.returning!)).toEqual([]);

    const lobby = await wsSend(ids.returning!, { action: 'resume', data: { after: m1.id, room: 'lobby' } });
    expect(lobby.data).toMatchObject({ room: 'lobby', count: 3 });
  });

  it('every action of the route table answers (no action is left unhandled)', async () => {
    const ids = await connectClients({ a: 'general' });
    for (const action of WS_ACTIONS) {
      const reply = await wsSend(ids.a!, { action, data: {} });
      if (reply.event === 'error') expect(['internal_error', 'unknown_action']).not.toContain((reply.data as { code: string }).code);
    }
  });
});

describe('fan-out reach', () => {
  it('a REST broadcast reaches every connection in every room and shard', async () => {
    const rooms: Record<string, string> = {};
    for (let i = 0; i < 24; i++) rooms[`c${i}`] = ['general', 'lobby', 'games'][i % 3]!;
    const ids = await connectClients(rooms);
    const shards = new Set(Object.values(ids).map(shardOf));
    expect(shards.size).toBeGreaterThan(3);

    const res = await rest('POST', '/api/messages/broadcast', { body: { type: 'text', content: 'to all', sender: 'ops' } });
    await env.drainTasks();
    for (const id of Object.values(ids)) expect(eventsOf(id)).toEqual([{ event: 'broadcast', data: res.body.message }]);
  });

  it('a published event reaches every connection as notification', async () => {
    const ids = await connectClients({ a: 'general', b: 'lobby' });
    const res = await rest('POST', '/api/events/publish', { body: { event_type: 'alert', data: { level: 'high' } } });
    await env.drainTasks();
    expect(eventsOf(ids.a!)).toEqual([{ event: 'notification', data: res.body.event }]);
    expect(eventsOf(ids.b!)).toEqual([{ event: 'notification', data: res.body.event }]);
  });
});

describe('error frames: `error` event with a code, nothing stored, nothing queued, nothing delivered', () => {
  const tooBigImage = b64(padTo(png(), LIMITS.mediaMaxBytes + 1));
  const rows: Array<[string, unknown, string]> = [
    ['invalid JSON', 'this is not json', 'invalid_json'],
    ['truncated JSON', '{"action": "message", "data": {', 'invalid_json'],
    ['empty frame', '', 'invalid_json'],
    ['unknown action', { action: 'dance', data: {} }, 'unknown_action'],
    ['missing action', { data: { text: 'x' } }, 'validation_error'],
    ['action not a string', { action: 42 }, 'validation_error'],
    ['JSON array frame', '[1, 2, 3]', 'validation_error'],
    ['message: missing content', { action: 'message', data: { type: 'text', sender: 'a' } }, 'validation_error'],
    ['message: missing sender', { action: 'message', data: { type: 'text', content: 'x' } }, 'validation_error'],
    ['message: data not an object', { action: 'message', data: 'hello' }, 'validation_error'],
    ['message: unknown type', { action: 'message', data: { type: 'sticker', content: 'x', sender: 'a' } }, 'unsupported_type'],
    ['message: bad room', { action: 'message', data: { type: 'text', content: 'x', sender: 'a', room: '#$%' } }, 'validation_error'],
    [
      'message: oversize text',
      { action: 'message', data: { type: 'text', content: 'x'.repeat(LIMITS.textMaxChars + 1), sender: 'a' } },
      'payload_too_large',
    ],
    ['send_text: missing text', { action: 'send_text', data: { sender: 'a' } }, 'validation_error'],
    ['send_text: text not a string', { action: 'send_text', data: { text: ['x'], sender: 'a' } }, 'validation_error'],
    ['send_text: blank text', { action: 'send_text', data: { text: '  ', sender: 'a' } }, 'validation_error'],
    ['send_image: missing image', { action: 'send_image', data: { sender: 'a', format: 'png' } }, 'validation_error'],
    ['send_image: missing format', { action: 'send_image', data: { image: b64(png()), sender: 'a' } }, 'validation_error'],
    ['send_image: bad base64', { action: 'send_image', data: { image: '!!!!', sender: 'a', format: 'png' } }, 'invalid_base64'],
    ['send_image: format mismatch', { action: 'send_image', data: { image: b64(png()), sender: 'a', format: 'jpg' } }, 'format_mismatch'],
    ['send_image: unsupported format', { action: 'send_image', data: { image: b64(png()), sender: 'a', format: 'tiff' } }, 'unsupported_type'],
    ['send_image: oversize', { action: 'send_image', data: { image: tooBigImage, sender: 'a', format: 'png' } }, 'payload_too_large'],
    ['send_audio: format mismatch', { action: 'send_audio', data: { audio: b64(wav()), sender: 'a', format: 'ogg' } }, 'format_mismatch'],
    ['send_audio: bad base64', { action: 'send_audio', data: { audio: 'UklGR=A=', sender: 'a', format: 'wav' } }, 'invalid_base64'],
    ['send_audio: image format', { action: 'send_audio', data: { audio: b64(wav()), sender: 'a', format: 'png' } }, 'unsupported_type'],
    ['join: missing room', { action: 'join', data: {} }, 'validation_error'],
    ['join: bad room', { action: 'join', data: { room: 'no spaces' } }, 'validation_error'],
    ['resume: missing after', { action: 'resume', data: {} }, 'validation_error'],
    ['resume: after not an id', { action: 'resume', data: { after: 'yesterday' } }, 'validation_error'],
    ['frame over 128 KB', JSON.stringify({ action: 'send_text', data: { text: 'x'.repeat(LIMITS.wsMessageBytes), sender: 'a' } }), 'payload_too_large'],
  ];
  const cases = rows.map(([name, frame, code]) => ({ name, frame, code }));

  it.each(cases)('$name → $code', async ({ frame, code }) => {
    const ids = await connectClients({ sender: 'general', peer: 'general' });
    const result = await wsSendRaw(ids.sender!, frame);
    expect(result.statusCode).toBe(200);
    const reply = JSON.parse(result.body!) as ServerFrame;
    expect(reply.event).toBe('error');
    const data = reply.data as { code: string; message: string };
    expect(data.code).toBe(code);
    expect(data.message.length).toBeGreaterThan(0);
    expect(result.body).not.toMatch(/\bat .+\.(ts|js):\d+|stack/);
    await expectNothingStoredOrQueued();
    expect(env.gateway.requests).toEqual([]);
    expect(await env.connectionItem(ids.sender!)).toMatchObject({ room: 'general' });
  });

  it('a connection that was never registered gets not_found', async () => {
    const reply = await wsSend(connectionId('stranger-'), { action: 'send_text', data: { text: 'hi', sender: 'x' } });
    expect(reply).toMatchObject({ event: 'error', data: { code: 'not_found' } });
    const join = await wsSend(connectionId('stranger-'), { action: 'join', data: { room: 'lobby' } });
    expect(join).toMatchObject({ event: 'error', data: { code: 'not_found' } });
    await expectNothingStoredOrQueued();
    expect(await env.allConnections()).toEqual([]);
  });
});

describe('rate limits', () => {
  // Deployed with low limits (CDK context): another template, another environment.
  let lowLimits: TestEnv;
  beforeAll(async () => {
    lowLimits = await startTestEnv({ context: LOW_RATE_LIMITS });
  });
  afterAll(async () => {
    await lowLimits?.stop();
  });

  it('answers rate_limited past the per-connection limit, storing nothing more', async () => {
    const ids = await connectClientsIn(lowLimits, { chatty: 'general', peer: 'general' });
    for (let i = 0; i < 3; i++) {
      expect((await wsSend(ids.chatty!, { action: 'send_text', data: { text: `m${i}`, sender: 'c' } })).event).toBe('message_received');
    }
    const limited = await wsSend(ids.chatty!, { action: 'send_text', data: { text: 'one too many', sender: 'c' } });
    expect(limited.event).toBe('error');
    expect(limited.data).toMatchObject({ code: 'rate_limited', details: { retry_after_seconds: expect.any(Number) } });
    expect(await lowLimits.streamItems('room#general')).toHaveLength(3);
    // Another connection is not affected.
    expect((await wsSend(ids.peer!, { action: 'send_text', data: { text: 'fine', sender: 'p' } })).event).toBe('message_received');
  });
});

describe('Socket.IO clients through the same handlers', () => {
  it('handshake, then an event whose reply is an ack-less Socket.IO frame; peers get their own protocol', async () => {
    const io = connectionId('io-');
    const json = (await connectClients({ jsonPeer: 'general' })).jsonPeer!;
    expect((await wsConnect(io, { query: { EIO: '4', transport: 'websocket' } })).statusCode).toBe(200);
    expect(await env.connectionItem(io)).toMatchObject({ protocol: 'socketio' });
    await env.drainTasks();
    // Engine.IO open packet first; `connected` waits for the Socket.IO CONNECT.
    const [open] = env.gateway.framesFor(io);
    expect(open).toMatch(/^0\{/);
    expect(JSON.parse(open!.slice(1))).toMatchObject({ sid: io });

    expect(await wsSendRaw(io, '40')).toEqual({ statusCode: 200 });
    const frames = env.gateway.framesFor(io).slice(1);
    expect(frames[0]).toBe(`40${JSON.stringify({ sid: io })}`);
    expect(frames[1]!.startsWith('42["connected",')).toBe(true);
    env.gateway.reset();

    const reply = await wsSendRaw(io, '42["send_text",{"text":"from socket.io","sender":"sio"}]');
    expect(reply.body!.startsWith('42["message_received",')).toBe(true);
    const [, data] = JSON.parse(reply.body!.slice(2)) as [string, { message: ChatMessage }];
    await env.drainTasks();
    expect(eventsOf(json)).toEqual([{ event: 'message', data: data.message }]);

    // And a JSON client's message reaches the Socket.IO client as a Socket.IO EVENT.
    const fromJson = await wsSend(json, { action: 'send_text', data: { text: 'from json', sender: 'j' } });
    await env.drainTasks();
    expect(env.gateway.framesFor(io)).toEqual([`42${JSON.stringify(['message', (fromJson.data as { message: unknown }).message])}`]);
  });

  it('a Socket.IO CONNECT from a connection the service does not know closes it (DELETE @connections)', async () => {
    const stranger = connectionId('io-stranger-');
    expect(await wsSendRaw(stranger, '40')).toEqual({ statusCode: 200 });
    expect(env.gateway.requests.map((r) => [r.method, r.connectionId])).toEqual([['DELETE', stranger]]);
    expect(env.gateway.isGone(stranger)).toBe(true);
  });
});

describe('the recording @connections endpoint speaks the management API', () => {
  it('POST, GET, DELETE with URL-encoded ids, and the error types the adapter relies on', async () => {
    const { ApiGatewayManagementApiClient, DeleteConnectionCommand, GetConnectionCommand, PostToConnectionCommand } = await import(
      '@aws-sdk/client-apigatewaymanagementapi'
    );
    const client = new ApiGatewayManagementApiClient({ region: 'us-east-1', endpoint: env.gateway.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    try {
      const id = 'a/b+c=d?e';
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('{"event":"pong"}') }));
      expect(env.gateway.requests[0]).toMatchObject({ method: 'POST', connectionId: id, status: 200, body: '{"event":"pong"}', signed: true });

      const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
      expect(info.ConnectedAt).toBeInstanceOf(Date);
      expect(info.Identity?.SourceIp).toBe('127.0.0.1');

      env.gateway.failNext(id, 429, 1);
      await expect(client.send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array() }))).rejects.toMatchObject({
        name: 'LimitExceededException',
        $metadata: { httpStatusCode: 429 },
      });

      await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
      await expect(client.send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array() }))).rejects.toMatchObject({
        name: 'GoneException',
        $metadata: { httpStatusCode: 410 },
      });
      await expect(client.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toMatchObject({ name: 'GoneException' });
    } finally {
      client.destroy();
    }
  });
});
