/**
 * A `$connect` or `join` racing a member's removal, on the local runtime (auth on, functions as
 * deployed). The IAM gate holds the entering connection's write (the record's PutItem, the join's
 * UpdateItem) until the removal has answered, so the removal's cut-off cannot see it: the worst
 * order, forced without a timer. The entry must then be refused and leave nothing in the room.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultInjector, GateCall } from '../../local/iam-gate.js';
import type { Runtime } from '../../local/runtime.js';
import { startAuthRuntime } from '../client/helpers.js';
import { type WsClient, openWs, uniqueRoom } from '../local/helpers.js';
import { attr } from '../support/faults.js';
import { User } from './helpers.js';

let rt: Runtime;
let alice: User;
let bob: User;
const clients: WsClient[] = [];

beforeAll(async () => {
  rt = await startAuthRuntime();
  [alice, bob] = (await User.signInAll(rt, ['alice', 'bob'])) as [User, User];
});

afterAll(async () => {
  rt?.injectFaults(undefined);
  await Promise.all(clients.map((c) => c.close()));
  await rt?.stop();
});

/** Holds the first call `matches` picks until `release()`; `held` resolves when it arrives. */
function holdFirst(matches: (call: GateCall) => boolean) {
  let release!: () => void;
  const until = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived!: () => void;
  const held = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  let taken = false;
  const injector: FaultInjector = {
    decide: (call) => {
      if (taken || !matches(call)) return undefined;
      taken = true;
      arrived();
      return { type: 'hold', until };
    },
  };
  return { injector, held, release };
}

const onConnections = (call: GateCall) => call.service === 'dynamodb' && String(call.input?.TableName ?? '') === rt.resources.tables.Connections;

async function privateRoomWithBob(prefix: string): Promise<string> {
  const room = uniqueRoom(prefix);
  expect((await alice.post('/api/rooms', { name: room, visibility: 'private', members: [bob.id] })).status).toBe(201);
  return room;
}

/** Bob's connections the room's presence list shows (read as alice, a member). */
async function bobsConnections(room: string): Promise<number> {
  const res = await alice.get(`/api/rooms/${room}/presence`);
  expect(res.status).toBe(200);
  return (res.body.members as Array<{ user: string; connections: number }>).find((m) => m.user === bob.id)?.connections ?? 0;
}

describe('an entry racing a removal', () => {
  it('$connect: the record lands after the cut-off looked; the handshake is refused and the record is gone', async () => {
    const room = await privateRoomWithBob('race-connect');
    const hold = holdFirst((call) => call.fn === 'wsConnect' && call.operation === 'PutItem' && onConnections(call) && attr((call.input?.Item as Record<string, unknown>)?.userId) === bob.id);
    rt.injectFaults(hold.injector);
    try {
      const handshake = openWs(`${rt.wsUrl}/?room=${encodeURIComponent(room)}&token=${bob.token}`);
      handshake.then((c) => clients.push(c)).catch(() => undefined);
      await hold.held;
      const removed = await alice.delete(`/api/rooms/${room}/members/${encodeURIComponent(bob.id)}`);
      expect(removed.body).toMatchObject({ status: 'success', connections: 0 });
      hold.release();
      await expect(handshake).rejects.toMatchObject({ status: 403 });
    } finally {
      rt.injectFaults(undefined);
    }
    expect(await bobsConnections(room)).toBe(0);
  });

  it('join: the move lands after the cut-off looked; the join is refused and the connection is in no room', async () => {
    const room = await privateRoomWithBob('race-join');
    const lobby = uniqueRoom('lobby');
    const bobWs = await bob.connect(lobby);
    clients.push(bobWs);
    const hold = holdFirst((call) => call.fn === 'wsMessage' && call.operation === 'UpdateItem' && onConnections(call) && String(call.input?.UpdateExpression ?? '').startsWith('SET room'));
    rt.injectFaults(hold.injector);
    try {
      const reply = bobWs.next((f) => f.event === 'joined' || f.event === 'error', 20_000, 'the join reply');
      bobWs.send('join', { room });
      await hold.held;
      const removed = await alice.delete(`/api/rooms/${room}/members/${encodeURIComponent(bob.id)}`);
      expect(removed.body).toMatchObject({ status: 'success', connections: 0 });
      hold.release();
      const frame = await reply;
      expect(frame.event).toBe('error');
      expect(frame.data.code).toBe('forbidden');
    } finally {
      rt.injectFaults(undefined);
    }
    expect(await bobsConnections(room)).toBe(0);
    // In no room: a message to the room reaches bob no more.
    const aliceWs = await alice.connect(room);
    clients.push(aliceWs);
    const sent = await aliceWs.request('send_text', { text: 'members only' }, 'message_received');
    await bobWs.roundTrip();
    expect(bobWs.received((f) => f.event === 'message' && f.data.id === sent.data.id)).toEqual([]);
    expect((await bobWs.request('send_text', { text: 'anyone?' }, 'error')).data.code).toBe('not_in_room');
  });
});
