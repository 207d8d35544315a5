/**
 * The membership check and its cost, with in-memory ports: who is let in, and how many reads each
 * path makes (at most one on the message path; none for the connection's own room, `general` or
 * an admin). Also the listing's cursor over the two indexes.
 */
import { describe, expect, it } from 'vitest';
import { ChatError } from '../../lambdas/domain/errors.js';
import type { ConnectionRecord, Identity, ServerEvent } from '../../lambdas/domain/model.js';
import { MemberRoomAccess, RoomService, directRoomName } from '../../lambdas/domain/rooms.js';
import { type ActionContext, runAction } from '../../lambdas/domain/ws-actions.js';
import { MemoryRooms } from './memory-rooms.js';

const alice: Identity = { userId: 'alice', roles: [] };
const bob: Identity = { userId: 'bob', roles: [] };
const root: Identity = { userId: 'root', roles: ['admin'] };

function service(store: MemoryRooms) {
  return new RoomService({
    store,
    history: { pageBefore: async () => [] },
    connections: { listRoom: async () => ({ members: [] }) },
    clock: { now: () => Date.parse('2026-12-01T00:00:00Z') },
    adminRole: 'admin',
    cutOff: async () => ({ count: 0, failed: 0, users: [] }),
    scheduleCutOff: async () => undefined,
  });
}

const refused = (promise: Promise<unknown>) => expect(promise).rejects.toMatchObject({ code: 'forbidden', message: 'You are not allowed in this room' });

describe('MemberRoomAccess', () => {
  it('lets members, admins and everyone into public rooms; refuses others the same way; a dm: name without a record is no public room', async () => {
    const store = new MemoryRooms();
    const access = new MemberRoomAccess(store, 'admin');
    await service(store).create(alice, { name: 'design', visibility: 'private' });
    await access.assertMember(alice, 'design');
    await access.assertMember(root, 'design');
    await refused(access.assertMember(bob, 'design'));
    await access.assertMember(bob, 'no-record');
    await refused(access.assertMember(bob, directRoomName('x', 'y')));
  });

  it('costs one read per check, none for general or an admin', async () => {
    const store = new MemoryRooms();
    const access = new MemberRoomAccess(store, 'admin');
    await access.assertMember(bob, 'anything');
    expect(store.reads).toBe(1);
    await access.assertMember(bob, 'general');
    await access.assertMember(root, 'anything');
    expect(store.reads).toBe(1);
  });
});

describe('the WebSocket message path', () => {
  function context(store: MemoryRooms, record: ConnectionRecord): ActionContext & { sent: string[] } {
    const sent: string[] = [];
    return {
      sent,
      connectionId: record.connectionId,
      chat: {
        sendMessage: async (draft, options) => {
          sent.push(options.room);
          return { id: '01KB0000000000000000000000', type: 'text', content: draft.content, sender: draft.sender, room: options.room, timestamp: '' };
        },
      },
      history: { since: async () => [] },
      connections: { get: async () => record, setRoom: async (_id, room) => ({ ...record, room }) },
      resolveSender: (identity) => identity.userId,
      sendToSelf: async (_event: ServerEvent) => undefined,
      rooms: new MemberRoomAccess(store, 'admin'),
    };
  }

  it('reads nothing to send to the connection’s own room, once to name another; a refused send stores nothing', async () => {
    const store = new MemoryRooms();
    await service(store).create(alice, { name: 'design', visibility: 'private' });
    const record: ConnectionRecord = { connectionId: 'c1', room: 'design', userId: 'alice', roles: [], protocol: 'json', connectedAt: '' };
    const ctx = context(store, record);
    store.reads = 0;
    await runAction('send_text', { text: 'hi' }, ctx);
    await runAction('send_text', { text: 'hi', room: 'design' }, ctx);
    expect(store.reads).toBe(0);
    await runAction('send_text', { text: 'hi', room: 'elsewhere' }, ctx);
    expect(store.reads).toBe(1);

    const outsider = context(store, { ...record, connectionId: 'c2', room: 'lobby', userId: 'bob' });
    await refused(runAction('send_text', { text: 'let me in', room: 'design' }, outsider));
    await refused(runAction('join', { room: 'design' }, outsider));
    await refused(runAction('resume', { after: '01KB0000000000000000000000', room: 'design' }, outsider));
    expect(outsider.sent).toEqual([]);
  });
});

describe('RoomService', () => {
  it('pages private rooms of the caller, then public rooms, with an opaque cursor; never another user’s private room', async () => {
    const store = new MemoryRooms();
    const rooms = service(store);
    for (const name of ['p1', 'p2', 'p3']) await rooms.create(alice, { name, visibility: 'private' });
    for (const name of ['o1', 'o2']) await rooms.create(bob, { name, visibility: 'public' });
    await rooms.create(bob, { name: 'bobs', visibility: 'private' });
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await rooms.list(alice, cursor, 2);
      expect(page.rooms.length).toBeLessThanOrEqual(2);
      names.push(...page.rooms.map((r) => r.name));
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(names).toEqual(['p1', 'p2', 'p3', 'o1', 'o2']);
    expect(pages).toBe(3);
    // Admins are members of every room for access, not for the listing: their own private rooms and
    // the public ones (listing every private room would take a Scan).
    const admins = await rooms.list(root, undefined, 100);
    expect(admins.rooms.map((r) => r.name)).toEqual(['o1', 'o2']);
    await expect(rooms.list(alice, 'bm90IGEgY3Vyc29y', 2)).rejects.toBeInstanceOf(ChatError);
  });

  it('opens one direct room per pair, whoever asks first', async () => {
    const store = new MemoryRooms();
    const rooms = service(store);
    const first = await rooms.openDirect(alice, 'bob');
    const second = await rooms.openDirect(bob, 'alice');
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.record).toEqual(first.record);
    expect(first.record.members).toEqual(['alice', 'bob']);
    await expect(rooms.openDirect(alice, 'alice')).rejects.toMatchObject({ code: 'validation_error' });
  });
});
