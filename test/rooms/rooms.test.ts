/**
 * Private rooms, direct rooms and authorization at every room-naming entry point, on the local
 * runtime with auth on (authorizers, the IAM gate on every AWS call, the functions as deployed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { startAuthRuntime } from '../client/helpers.js';
import { directRoomName } from '../../lambdas/domain/rooms.js';
import { SseClient, type WsClient, openWs, uniqueRoom } from '../local/helpers.js';
import { User } from './helpers.js';

let rt: Runtime;
let alice: User;
let bob: User;
let carol: User;
let admin: User;
const clients: WsClient[] = [];
const streams: SseClient[] = [];

async function connect(user: User, room: string): Promise<WsClient> {
  const client = await user.connect(room);
  clients.push(client);
  return client;
}

/** A private room of alice's with bob as a member. */
async function privateRoom(prefix: string, members = [bob.id]): Promise<string> {
  const name = uniqueRoom(prefix);
  const res = await alice.post('/api/rooms', { name, visibility: 'private', members });
  expect(res.status).toBe(201);
  return name;
}

const FORBIDDEN = { code: 'forbidden', message: 'You are not allowed in this room' };

beforeAll(async () => {
  rt = await startAuthRuntime({ sseTimeoutMs: 30_000 });
  [alice, bob, carol, admin] = (await User.signInAll(rt, ['alice', 'bob', 'carol', ['root', ['admin']]])) as [User, User, User, User];
});

afterAll(async () => {
  for (const stream of streams) stream.close();
  await Promise.all(clients.map((c) => c.close()));
  await rt?.stop();
});

describe('creating rooms', () => {
  it('creates a private room owned by the caller, and answers 409 for one that exists, is configured or is in use', async () => {
    const name = uniqueRoom('create');
    const created = await alice.post('/api/rooms', { name, visibility: 'private', members: [bob.id] });
    expect(created.status).toBe(201);
    expect(created.body.room).toMatchObject({ name, visibility: 'private', owner: alice.id, direct: false });
    expect((await bob.post('/api/rooms', { name, visibility: 'public' })).body.error.code).toBe('conflict');
    expect((await alice.post('/api/rooms', { name: 'general', visibility: 'private' })).status).toBe(409);
    // A room that exists today without a record (it has history) stays public: no takeover.
    const used = uniqueRoom('used');
    expect((await carol.post('/api/message', { type: 'text', content: 'first', room: used })).status).toBe(201);
    expect((await alice.post('/api/rooms', { name: used, visibility: 'private' })).status).toBe(409);
    // ... and so does one with live connections but no history yet.
    const live = uniqueRoom('live');
    await connect(carol, live);
    expect((await alice.post('/api/rooms', { name: live, visibility: 'private' })).status).toBe(409);
  });

  it('refuses bad input with 400', async () => {
    expect((await alice.post('/api/rooms', { name: 'x', visibility: 'secret' })).body.error.code).toBe('validation_error');
    expect((await alice.post('/api/rooms', { name: 'bad room', visibility: 'public' })).status).toBe(400);
    expect((await alice.post('/api/rooms', { name: 'dm:abc', visibility: 'private' })).status).toBe(400);
    expect((await alice.post('/api/rooms', { name: 'ok', visibility: 'private', members: ['a b'] })).status).toBe(400);
  });
});

describe('a non-member of a private room is refused everywhere, the same way', () => {
  let room: string;
  beforeAll(async () => {
    room = await privateRoom('refuse');
  });

  it('$connect ?room= answers 403', async () => {
    await expect(carol.connect(room)).rejects.toMatchObject({ status: 403 });
    // Members and admins get in.
    await connect(bob, room);
    await connect(admin, room);
  });

  it('join answers an error event with code forbidden, and the connection stays where it was', async () => {
    const client = await connect(carol, uniqueRoom('lobby'));
    const error = await client.request('join', { room }, 'error');
    expect(error.data).toEqual(FORBIDDEN);
    const mine = await client.request('join', { room: 'general' }, 'joined');
    expect(mine.data.room).toBe('general');
  });

  it('sending with room is refused over WebSocket and REST', async () => {
    const client = await connect(carol, uniqueRoom('lobby'));
    const ws = await client.request('send_text', { text: 'let me in', room }, 'error');
    expect(ws.data).toEqual(FORBIDDEN);
    const message = await client.request('message', { type: 'text', content: 'let me in', room }, 'error');
    expect(message.data).toEqual(FORBIDDEN);
    const rest = await carol.post('/api/message', { type: 'text', content: 'let me in', room });
    expect(rest.status).toBe(403);
    expect(rest.body).toEqual({ error: FORBIDDEN });
    // Nothing was stored: the members' history has none of it.
    const history = await bob.get(`/api/messages?room=${room}`);
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m: { content: string }) => m.content)).not.toContain('let me in');
  });

  it('history (GET /api/messages) answers 403', async () => {
    const res = await carol.get(`/api/messages?room=${room}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: FORBIDDEN });
  });

  it('resume naming the room answers forbidden', async () => {
    const sent = await bob.post('/api/message', { type: 'text', content: 'secret', room });
    expect(sent.status).toBe(201);
    const client = await connect(carol, uniqueRoom('lobby'));
    const error = await client.request('resume', { after: '00000000000000000000000000', room }, 'error');
    expect(error.data).toEqual(FORBIDDEN);
    expect(client.received((f) => f.raw.includes('secret'))).toEqual([]);
  });

  it('SSE answers 403 before streaming a byte', async () => {
    const res = await fetch(carol.sseUrl(room));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: FORBIDDEN });
    const member = await fetch(bob.sseUrl(room), { signal: AbortSignal.timeout(20_000) });
    expect(member.status).toBe(200);
    await member.body?.cancel();
  });

  it('a room that does not exist is refused no differently from one that does: forbidden for member management', async () => {
    const missing = await carol.post(`/api/rooms/${uniqueRoom('nope')}/members`, { user: carol.id });
    const existing = await carol.post(`/api/rooms/${room}/members`, { user: carol.id });
    expect(missing.status).toBe(403);
    expect(existing.status).toBe(403);
    expect(existing.body).toEqual(missing.body);
  });
});

describe('members', () => {
  it('only the owner or an admin manages members; a new member gets in, the owner cannot be removed', async () => {
    const room = await privateRoom('members');
    expect((await bob.post(`/api/rooms/${room}/members`, { user: carol.id })).status).toBe(403);
    expect((await carol.delete(`/api/rooms/${room}/members/${bob.id}`)).status).toBe(403);
    await expect(carol.connect(room)).rejects.toMatchObject({ status: 403 });
    const added = await alice.post(`/api/rooms/${room}/members`, { user: carol.id });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ status: 'success', room, user: carol.id });
    await connect(carol, room);
    expect((await alice.delete(`/api/rooms/${room}/members/${alice.id}`)).status).toBe(400);
    const byAdmin = await admin.delete(`/api/rooms/${room}/members/${carol.id}`);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ status: 'success', room, user: carol.id, connections: 1 });
  });

  it('a removed member is cut off mid-conversation: the live socket gets `removed` and stops receiving, SSE ends', async () => {
    const room = await privateRoom('cutoff');
    const aliceWs = await connect(alice, room);
    const bobWs = await connect(bob, room);
    const bobSse = new SseClient(bob.sseUrl(room), ['message', 'removed']);
    streams.push(bobSse);
    await bobSse.opened();

    const before = await aliceWs.request('send_text', { text: 'still here?' }, 'message_received');
    await bobWs.nextEvent('message', (f) => f.data.id === before.data.id);
    await bobSse.waitFor((e) => e.type === 'message' && e.id === before.data.id);

    const removed = await alice.delete(`/api/rooms/${room}/members/${encodeURIComponent(bob.id)}`);
    expect(removed.status).toBe(200);
    expect(removed.body.connections).toBeGreaterThanOrEqual(2); // the socket and the SSE stream's relay
    const event = await bobWs.nextEvent('removed');
    expect(event.data).toEqual({ room });
    const sseRemoved = await bobSse.waitFor((e) => e.type === 'removed');
    expect(sseRemoved.data).toEqual({ room });

    const after = await aliceWs.request('send_text', { text: 'bob is gone' }, 'message_received');
    // A round trip on bob's socket: anything sent to it before the pong has arrived.
    await bobWs.roundTrip();
    const history = await alice.get(`/api/messages?room=${room}`);
    expect(history.body.messages.map((m: { id: string }) => m.id)).toContain(after.data.id);
    expect(bobWs.received((f) => f.event === 'message' && f.data.id === after.data.id)).toEqual([]);
    // And everything else is refused from now on.
    // The socket is in no room now (as after `leave`); naming the room is refused.
    expect((await bobWs.request('send_text', { text: 'hello?' }, 'error')).data.code).toBe('not_in_room');
    expect((await bobWs.request('send_text', { text: 'hello?', room }, 'error')).data).toEqual(FORBIDDEN);
    expect((await bobWs.request('join', { room }, 'error')).data).toEqual(FORBIDDEN);
    expect((await bob.get(`/api/messages?room=${room}`)).status).toBe(403);
    // The EventSource reconnects after the stream ends and is refused.
    await new Promise<void>((resolve) => {
      if (bobSse.source.readyState === 2) resolve();
      else bobSse.source.addEventListener('error', () => bobSse.source.readyState === 2 && resolve());
    });
    expect(bobSse.events.filter((e) => e.type === 'message' && e.id === after.data.id)).toEqual([]);
  });
});

describe('direct rooms', () => {
  it('is the same room whoever asks first; yourself is 400; a third user cannot get in', async () => {
    const first = await alice.post('/api/rooms/direct', { user: bob.id });
    const second = await bob.post('/api/rooms/direct', { user: alice.id });
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(second.body.room).toEqual(first.body.room);
    expect(first.body.room).toMatchObject({ name: directRoomName(alice.id, bob.id), visibility: 'private', direct: true, owner: null });
    expect(first.body.room.members).toEqual([alice.id, bob.id].sort());
    expect((await alice.post('/api/rooms/direct', { user: alice.id })).status).toBe(400);

    const room = first.body.room.name as string;
    const aliceWs = await connect(alice, room);
    const bobWs = await connect(bob, room);
    const sent = await aliceWs.request('send_text', { text: 'psst' }, 'message_received');
    await bobWs.nextEvent('message', (f) => f.data.id === sent.data.id);
    await expect(carol.connect(room)).rejects.toMatchObject({ status: 403 });
    // Nobody manages a direct room's members, not even an admin.
    expect((await alice.post(`/api/rooms/${room}/members`, { user: carol.id })).status).toBe(403);
    expect((await admin.post(`/api/rooms/${room}/members`, { user: carol.id })).status).toBe(400);
  });

  it('a direct room cannot be squatted before it exists', async () => {
    const room = directRoomName(bob.id, carol.id);
    await expect(alice.connect(room)).rejects.toMatchObject({ status: 403 });
    expect((await alice.post('/api/message', { type: 'text', content: 'early', room })).status).toBe(403);
  });
});

describe('listing', () => {
  it('lists private rooms the caller belongs to and public rooms, paged, and nobody else’s private rooms', async () => {
    const mine = [await privateRoom('list-a', []), await privateRoom('list-b', []), await privateRoom('list-c', [carol.id])];
    const publicName = uniqueRoom('list-pub');
    expect((await bob.post('/api/rooms', { name: publicName, visibility: 'public' })).status).toBe(201);
    const hidden = uniqueRoom('list-hidden');
    expect((await bob.post('/api/rooms', { name: hidden, visibility: 'private' })).status).toBe(201);

    const seen: Array<{ name: string; visibility: string }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await alice.get(`/api/rooms?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.rooms.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.rooms);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 500);
    const names = seen.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of mine) expect(names).toContain(name);
    expect(names).toContain(publicName);
    expect(names).not.toContain(hidden);
    expect(pages).toBeGreaterThan(2);
    // Carol sees the room she was made a member of.
    const carols = await carol.get('/api/rooms?limit=100');
    expect(carols.body.rooms.map((r: { name: string }) => r.name)).toContain(mine[2]);
    expect((await alice.get('/api/rooms?cursor=garbage')).body.error.code).toBe('validation_error');
    expect((await alice.get('/api/rooms?limit=0')).status).toBe(400);
  });
});

describe('unchanged for rooms without a record', () => {
  it('connect, send, history and SSE work as before', async () => {
    const room = uniqueRoom('open');
    const ws = await openWs(`${rt.wsUrl}/?room=${room}&token=${carol.token}`);
    clients.push(ws);
    await ws.nextEvent('connected');
    const sent = await ws.request('send_text', { text: 'open as ever' }, 'message_received');
    const history = await bob.get(`/api/messages?room=${room}`);
    expect(history.body.messages.map((m: { id: string }) => m.id)).toContain(sent.data.id);
  });
});
