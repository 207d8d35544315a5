/**
 * Presence and typing end to end: the local runtime (every function as deployed, auth on, real
 * SQS delays through fauxqs), real `ws` clients, a short grace period (CDK context
 * `presenceGraceSeconds`). Every wait is on a frame or a task outcome; "nothing came" is shown
 * with a ping round trip after the check task has run.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../local/emulators.js';
import type { GateCall } from '../../local/iam-gate.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { CONNECTIONS_TABLE } from '../../lambdas/shared/resources.js';
import { type Frame, getJson, openWs, postJson, TaskLog, uniqueRoom, type WsClient } from '../local/helpers.js';

const GRACE_SECONDS = 2;

let rt: Runtime;
let ddb: DynamoDBDocumentClient;
let tasks: TaskLog;
const open: WsClient[] = [];

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true, context: { presenceGraceSeconds: GRACE_SECONDS } });
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: rt.region, endpoint: rt.dynamoEndpoint!, credentials: LOCAL_CREDENTIALS }));
  tasks = new TaskLog(rt);
}, 120_000);

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  tasks?.dispose();
  ddb?.destroy();
  await rt?.stop();
});

const token = (user: string) => rt.issueToken!(user);

async function connect(user: string, room: string): Promise<{ client: WsClient; id: string }> {
  const client = await openWs(`${rt.wsUrl}/?room=${encodeURIComponent(room)}&token=${token(user)}`);
  open.push(client);
  const connected = await client.nextEvent('connected');
  return { client, id: String(connected.data.connection_id) };
}

const presenceOf = (user: string, state: string) => (f: Frame) => f.event === 'presence' && f.data.user === user && f.data.state === state;

/** The presence check of (room, user) scheduled after `since` has run (and been deleted from the queue). */
function checkDone(room: string, user: string, since: number) {
  return tasks.waitFor(
    (r) => r.outcome === 'deleted' && r.body.includes('"presence_check"') && r.body.includes(`"room":"${room}"`) && r.body.includes(`"user":"${user}"`) && JSON.parse(r.body).leftAt >= since,
    20_000,
    `the presence check of ${user} in ${room}`,
  );
}

async function presence(room: string, as: string) {
  const res = await getJson(`${rt.httpUrl}/api/rooms/${encodeURIComponent(room)}/presence`, { authorization: `Bearer ${token(as)}` });
  expect(res.status).toBe(200);
  return res.body as { room: string; members: Array<{ user: string; connections: number; since: string }>; next_cursor: string | null };
}

// First in the file: no task of another test runs while it counts.
describe('cost of a presence change', () => {
  /** Counts every AWS call of the functions (through the runtime's IAM gates) while `act` runs. */
  async function counted(act: () => Promise<void>): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    rt.injectFaults({
      decide: () => undefined,
      completed: (call: GateCall) => {
        const key = `${call.fn} ${call.service}:${call.operation}${call.input?.IndexName ? `(${call.input.IndexName})` : ''}`;
        counts[key] = (counts[key] ?? 0) + 1;
      },
    });
    try {
      await act();
    } finally {
      rt.injectFaults(undefined);
    }
    return counts;
  }

  it('online and offline in a room of three: the calls each costs (printed for the README) and no Scan', async () => {
    const room = uniqueRoom('cost');
    const watchers = [await connect('bob', room), await connect('carol', room)];
    // bob's and carol's own online fan-outs are done before counting starts (SQS does not keep
    // order: bob's may run after carol's, and would otherwise be counted as alice's).
    await watchers[0]!.client.next(presenceOf('carol', 'online'));
    for (const user of ['bob', 'carol']) {
      await tasks.waitFor(
        (r) => r.outcome === 'deleted' && r.body.includes(room) && r.body.includes('"event":"presence"') && r.body.includes(`"user":"${user}"`),
        15_000,
        `${user}'s online fan-out`,
      );
    }
    let alice: { client: WsClient; id: string } | undefined;
    const online = await counted(async () => {
      alice = await connect('alice', room);
      for (const w of watchers) await w.client.next(presenceOf('alice', 'online'));
      await tasks.waitFor((r) => r.outcome === 'deleted' && r.body.includes('"event":"presence"') && r.body.includes('"user":"alice"'), 15_000, 'the online fan-out');
    });
    const closedAt = Date.now();
    const offline = await counted(async () => {
      await alice!.client.close();
      for (const w of watchers) await w.client.next(presenceOf('alice', 'offline'), 20_000, 'alice offline');
      await checkDone(room, 'alice', closedAt);
    });
    console.log('calls of an online change (alice connects; greeting included):', online);
    console.log('calls of an offline change (alice closes):', offline);
    for (const counts of [online, offline]) {
      expect(Object.keys(counts).filter((k) => /Scan|Transact/.test(k))).toEqual([]);
    }
    // Online to bob and carol (not alice herself), and alice's greeting: retried on 410 until her
    // $connect has returned, so at least one post.
    expect(online['tasks execute-api:PostToConnection']).toBeGreaterThanOrEqual(3);
    expect(online['wsConnect dynamodb:UpdateItem']).toBe(1);
    expect(online['tasks dynamodb:Query(byRoom)']).toBe(1);
    expect(offline['tasks execute-api:PostToConnection']).toBe(2);
    expect(offline['tasks dynamodb:Query(byRoomUser)']).toBe(1);
    expect(offline['tasks dynamodb:UpdateItem']).toBe(1);
    expect(offline['wsDisconnect sqs:SendMessage']).toBe(1);
  }, 60_000);
});

describe('presence', () => {
  it('two tabs are one member: one online, connections 2, offline only after both closed and the grace', async () => {
    const room = uniqueRoom('tabs');
    const bob = await connect('bob', room);
    const tab1 = await connect('alice', room);
    await bob.client.next(presenceOf('alice', 'online'), 10_000, 'alice online');
    const tab2 = await connect('alice', room);

    const listed = await presence(room, 'bob');
    expect(listed.members).toEqual([
      { user: 'alice', connections: 2, since: expect.any(String) },
      { user: 'bob', connections: 1, since: expect.any(String) },
    ]);
    expect(listed.next_cursor).toBeNull();

    const firstClosed = Date.now();
    await tab1.client.close();
    await checkDone(room, 'alice', firstClosed);
    await bob.client.roundTrip();
    expect(bob.client.received(presenceOf('alice', 'offline'))).toHaveLength(0);
    expect((await presence(room, 'bob')).members.find((m) => m.user === 'alice')?.connections).toBe(1);

    const lastClosed = Date.now();
    await tab2.client.close();
    const offline = await bob.client.next(presenceOf('alice', 'offline'), 20_000, 'alice offline');
    expect(Date.now() - lastClosed).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - 250);
    expect(offline.data).toEqual({ room, user: 'alice', state: 'offline' });
    expect(bob.client.received(presenceOf('alice', 'online'))).toHaveLength(1);
    expect((await presence(room, 'bob')).members.map((m) => m.user)).toEqual(['bob']);
  }, 60_000);

  it('a reconnect within the grace period sends nothing', async () => {
    const room = uniqueRoom('reconnect');
    const bob = await connect('bob', room);
    const first = await connect('alice', room);
    await bob.client.next(presenceOf('alice', 'online'), 10_000, 'alice online');
    const closedAt = Date.now();
    await first.client.close();
    await connect('alice', room);
    await checkDone(room, 'alice', closedAt);
    await bob.client.roundTrip();
    expect(bob.client.received((f) => f.event === 'presence' && f.data.user === 'alice').map((f) => f.data.state)).toEqual(['online']);
  }, 60_000);

  it('join and leave move presence between rooms, and the presence action answers the list', async () => {
    const a = uniqueRoom('join-a');
    const b = uniqueRoom('join-b');
    const watcherA = await connect('bob', a);
    const watcherB = await connect('carol', b);
    const alice = await connect('alice', a);
    await watcherA.client.next(presenceOf('alice', 'online'));
    await alice.client.request('join', { room: b }, 'joined');
    await watcherB.client.next(presenceOf('alice', 'online'));
    await watcherA.client.next(presenceOf('alice', 'offline'), 20_000, 'alice offline in a');

    const list = await watcherB.client.request('presence', {}, 'presence_list');
    expect(list.data.room).toBe(b);
    expect((list.data.members as Array<{ user: string }>).map((m) => m.user)).toEqual(['alice', 'carol']);

    await alice.client.request('leave', {}, 'left');
    await watcherB.client.next(presenceOf('alice', 'offline'), 20_000, 'alice offline in b');
  }, 60_000);

  it('a connection that dies without $disconnect (its posts answer 410) drops out, and offline follows', async () => {
    const room = uniqueRoom('dead');
    const bob = await connect('bob', room);
    const dave = await connect('dave', room);
    await bob.client.next(presenceOf('dave', 'online'));
    // API Gateway dropped dave's connection and never ran $disconnect: @connections answers 410,
    // and the record is older than the handshake grace (a 410 right after $connect is the handshake).
    const longAgo = new Date(Date.now() - LIMITS.staleGraceMs - 60_000).toISOString();
    await ddb.send(
      new UpdateCommand({ TableName: rt.resources.tables[CONNECTIONS_TABLE.id], Key: { pk: dave.id }, UpdateExpression: 'SET connectedAt = :t', ExpressionAttributeValues: { ':t': longAgo } }),
    );
    const gone = rt.websocket.injectPostFault({ match: (id) => id === dave.id, status: 410, errorType: 'GoneException', times: 1000 });
    const before = Date.now();
    await bob.client.request('send_text', { text: 'anyone there?', room }, 'message_received');
    await bob.client.next(presenceOf('dave', 'offline'), 20_000, 'dave offline');
    expect(gone.hits()).toBeGreaterThanOrEqual(1);
    expect(Date.now() - before).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - 250);
    expect((await presence(room, 'bob')).members.map((m) => m.user)).toEqual(['bob']);
  }, 60_000);

  it('a connection whose record expired counts as gone: left out of the list, and offline follows', async () => {
    const room = uniqueRoom('expired');
    const bob = await connect('bob', room);
    const erin = await connect('erin', room);
    await bob.client.next(presenceOf('erin', 'online'));
    // DynamoDB deletes expired items late (the emulator never): an expired record must not count.
    await ddb.send(
      new UpdateCommand({
        TableName: rt.resources.tables[CONNECTIONS_TABLE.id],
        Key: { pk: erin.id },
        UpdateExpression: 'SET #ttl = :t',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':t': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    expect((await presence(room, 'bob')).members.map((m) => m.user)).toEqual(['bob']);
    await bob.client.next(presenceOf('erin', 'offline'), 20_000, 'erin offline');
  }, 60_000);

  it('refuses a bad room and a bad cursor with 400, and pages with next_cursor', async () => {
    const bad = await getJson(`${rt.httpUrl}/api/rooms/${encodeURIComponent('no spaces')}/presence`, { authorization: `Bearer ${token('bob')}` });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    const cursor = await getJson(`${rt.httpUrl}/api/rooms/general/presence?cursor=${encodeURIComponent('not a cursor!')}`, { authorization: `Bearer ${token('bob')}` });
    expect(cursor.status).toBe(400);
    const noToken = await getJson(`${rt.httpUrl}/api/rooms/general/presence`);
    expect(noToken.status).toBe(401);

    const room = uniqueRoom('pages');
    for (const user of ['u1', 'u2', 'u3']) await connect(user, room);
    const first = await getJson(`${rt.httpUrl}/api/rooms/${room}/presence?limit=2`, { authorization: `Bearer ${token('bob')}` });
    expect(first.body.members.map((m: { user: string }) => m.user)).toEqual(['u1', 'u2']);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await getJson(`${rt.httpUrl}/api/rooms/${room}/presence?limit=2&cursor=${first.body.next_cursor}`, { authorization: `Bearer ${token('bob')}` });
    expect(second.body.members.map((m: { user: string }) => m.user)).toEqual(['u3']);
    expect(second.body.next_cursor).toBeNull();
  }, 60_000);
});

describe('presence and typing in a private room', () => {
  it('non-members learn nothing (403, forbidden); a removed member goes offline', async () => {
    const room = uniqueRoom('private');
    const created = await postJson(`${rt.httpUrl}/api/rooms`, { name: room, visibility: 'private', members: ['alice'] }, { authorization: `Bearer ${token('bob')}` });
    expect(created.status).toBe(201);
    const bob = await connect('bob', room);
    const alice = await connect('alice', room);
    await bob.client.next(presenceOf('alice', 'online'));

    const outsider = await getJson(`${rt.httpUrl}/api/rooms/${room}/presence`, { authorization: `Bearer ${token('mallory')}` });
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe('forbidden');
    const mallory = await connect('mallory', uniqueRoom('elsewhere'));
    expect((await mallory.client.request('presence', { room }, 'error')).data.code).toBe('forbidden');
    expect((await mallory.client.request('typing', { room, state: 'start' }, 'error')).data.code).toBe('forbidden');
    await Promise.all([bob.client.roundTrip(), alice.client.roundTrip()]);
    expect([...bob.client.received((f) => f.event === 'typing'), ...alice.client.received((f) => f.event === 'typing')]).toEqual([]);

    const removed = await fetch(`${rt.httpUrl}/api/rooms/${room}/members/alice`, { method: 'DELETE', headers: { authorization: `Bearer ${token('bob')}` } });
    expect(removed.status).toBe(200);
    await alice.client.nextEvent('removed');
    await bob.client.next(presenceOf('alice', 'offline'), 20_000, 'alice offline after her removal');
    expect((await presence(room, 'bob')).members.map((m) => m.user)).toEqual(['bob']);
  }, 60_000);
});

describe('typing', () => {
  it('reaches the other members, not the sender or their other tabs; never stored; one per 2 s', async () => {
    const room = uniqueRoom('typing');
    const bob = await connect('bob', room);
    const alice = await connect('alice', room);
    const aliceTab2 = await connect('alice', room);

    alice.client.send('typing', { state: 'start' });
    const got = await bob.client.nextEvent('typing');
    expect(got.data).toEqual({ room, user: 'alice', state: 'start', expires_in_ms: LIMITS.typingLapseMs });

    const refused = await alice.client.request('typing', { state: 'stop' }, 'error');
    expect(refused.data.code).toBe('rate_limited');
    expect((refused.data.details as { retry_after_ms: number }).retry_after_ms).toBe(LIMITS.typingIntervalMs);

    await Promise.all([alice.client.roundTrip(), aliceTab2.client.roundTrip(), bob.client.roundTrip()]);
    expect(alice.client.received((f) => f.event === 'typing')).toHaveLength(0);
    expect(aliceTab2.client.received((f) => f.event === 'typing')).toHaveLength(0);
    expect(bob.client.received((f) => f.event === 'typing')).toHaveLength(1);

    const history = await getJson(`${rt.httpUrl}/api/messages?room=${room}`, { authorization: `Bearer ${token('bob')}` });
    expect(history.status).toBe(200);
    expect(history.body.messages).toEqual([]);
  }, 60_000);

  it('needs a room and a valid state', async () => {
    const room = uniqueRoom('typing-bad');
    const alice = await connect('alice', room);
    const bad = await alice.client.request('typing', { state: 'maybe' }, 'error');
    expect(bad.data.code).toBe('validation_error');
    await alice.client.request('leave', {}, 'left');
    const none = await alice.client.request('typing', { state: 'start' }, 'error');
    expect(none.data.code).toBe('not_in_room');
  }, 30_000);
});
