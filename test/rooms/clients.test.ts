/**
 * Rooms through the clients people use: the typed client package (createRoom, openDirect,
 * listRooms, addMember, removeMember, the `removed` event) and socket.io-client v4 (refusals and
 * `removed` under the same names as JSON clients).
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { ChatClient, type ChatClientError } from '../../client/src/index.js';
import { Log, closeClients, recordedClient, startAuthRuntime, uniqueRoom } from '../client/helpers.js';
import { User } from './helpers.js';

let rt: Runtime;
let alice: User;
let bob: User;
let carol: User;
const sockets: Socket[] = [];

beforeAll(async () => {
  rt = await startAuthRuntime();
  [alice, bob, carol] = (await User.signInAll(rt, ['alice', 'bob', 'carol'])) as [User, User, User];
});

afterAll(async () => {
  closeClients();
  for (const socket of sockets) socket.close();
  await rt?.stop();
});

const clientOf = (user: User, room = 'general') => recordedClient(rt, { room, getToken: () => user.token });

describe('client package', () => {
  it('creates rooms, opens direct rooms, lists them paged and manages members', async () => {
    const a = clientOf(alice).client;
    const b = clientOf(bob).client;
    const name = uniqueRoom('pkg');
    const room = await a.createRoom({ name, visibility: 'private', members: [bob.id] });
    expect(room).toMatchObject({ name, visibility: 'private', owner: alice.id, direct: false });
    await expect(b.createRoom({ name, visibility: 'public' })).rejects.toMatchObject({ code: 'conflict', status: 409 });

    const [fromA, fromB] = await Promise.all([a.openDirect(bob.id), b.openDirect(alice.id)]);
    expect(fromA).toEqual(fromB);
    expect(fromA.direct).toBe(true);

    const seen: string[] = [];
    for await (const page of a.rooms.all(1)) seen.push(...page.map((r) => r.name));
    expect(seen).toContain(name);
    expect(seen).toContain(fromA.name);
    expect((await a.listRooms({ limit: 1 })).rooms).toHaveLength(1);

    await a.addMember(name, carol.id);
    const c = clientOf(carol).client;
    expect((await c.listRooms({ limit: 100 })).rooms.map((r) => r.name)).toContain(name);
    await expect(c.removeMember(name, bob.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await a.removeMember(name, carol.id)).toBe(0);
  });

  it('emits `removed` and stops with `forbidden` when its user is removed from its room', async () => {
    const name = uniqueRoom('pkg-cut');
    await clientOf(alice).client.createRoom({ name, visibility: 'private', members: [bob.id] });
    const recorded = clientOf(bob, name);
    const removed = new Log<{ room: string }>();
    recorded.client.on('removed', (r) => removed.push(r));
    await recorded.opened();
    const owner = new ChatClient({ wsUrl: rt.wsUrl, httpUrl: rt.httpUrl, room: name, getToken: () => alice.token });
    try {
      expect(await owner.removeMember(name, bob.id)).toBe(1);
    } finally {
      owner.close();
    }
    await removed.until((r) => r.some((x) => x.room === name), 'removed');
    const errors = await recorded.errors.until((e) => e.some((x: ChatClientError) => x.code === 'forbidden'), 'a forbidden error');
    expect(errors.at(-1)?.code).toBe('forbidden');
    expect(recorded.client.state).toBe('closed');
  });
});

describe('socket.io-client', () => {
  function sio(user: User, room: string) {
    const socket = io(rt.wsUrl, { path: '/local', addTrailingSlash: false, transports: ['websocket'], query: { room, token: user.token }, reconnection: false });
    sockets.push(socket);
    const events = new Log<{ event: string; data: Record<string, unknown> }>();
    const lifecycle = new Log<string>();
    socket.onAny((event: string, data: Record<string, unknown>) => events.push({ event, data }));
    socket.on('connect_error', () => lifecycle.push('connect_error'));
    return { socket, events, lifecycle };
  }

  it('is refused at the handshake, on join and on send, and gets `removed` like a JSON client', async () => {
    const name = uniqueRoom('sio');
    expect((await alice.post('/api/rooms', { name, visibility: 'private', members: [bob.id] })).status).toBe(201);

    const outsider = sio(carol, name);
    await outsider.lifecycle.until((l) => l.includes('connect_error'), 'connect_error');
    expect(outsider.socket.connected).toBe(false);

    const lobby = sio(carol, uniqueRoom('sio-lobby'));
    await lobby.events.until((e) => e.some((x) => x.event === 'connected'), 'connected');
    lobby.socket.emit('join', { room: name });
    lobby.socket.emit('send_text', { text: 'let me in', room: name });
    const errors = await lobby.events.until((e) => e.filter((x) => x.event === 'error').length >= 2, 'two errors');
    for (const error of errors.filter((x) => x.event === 'error')) expect(error.data).toMatchObject({ code: 'forbidden' });

    const member = sio(bob, name);
    await member.events.until((e) => e.some((x) => x.event === 'connected'), 'connected');
    expect((await alice.delete(`/api/rooms/${name}/members/${bob.id}`)).body.connections).toBe(1);
    const removed = await member.events.until((e) => e.some((x) => x.event === 'removed'), 'removed');
    expect(removed.find((x) => x.event === 'removed')?.data).toEqual({ room: name });
  });
});

describe('client package refused', () => {
  it('stops with `forbidden` when its room is a private room the user may not use (no endless reconnect)', async () => {
    const name = uniqueRoom('pkg-refused');
    expect((await alice.post('/api/rooms', { name, visibility: 'private' })).status).toBe(201);
    const recorded = clientOf(carol, name);
    const errors = await recorded.errors.until((e) => e.some((x) => x.code === 'forbidden'), 'a forbidden error');
    expect(errors.find((x) => x.code === 'forbidden')?.status).toBe(403);
    await recorded.states.until((s) => s.includes('closed'), 'closed');
  });
});
