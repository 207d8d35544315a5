/**
 * A member's removal whose cut-off fails halfway, on the local runtime (auth on, functions as
 * deployed, faults answered at the IAM gate): the REST function cannot take one of the member's
 * connections out of the room, answers with the one it did, and the task queue finishes the job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultInjector, GateCall } from '../../local/iam-gate.js';
import type { Runtime } from '../../local/runtime.js';
import { startAuthRuntime } from '../client/helpers.js';
import { type WsClient, uniqueRoom } from '../local/helpers.js';
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

/** The REST function's first conditional leave of a connection (UpdateItem on Connections) fails, not retried by the SDK. */
function failOneLeave(): { failed: () => number; injector: FaultInjector } {
  let failed = 0;
  const injector: FaultInjector = {
    decide: (call: GateCall) => {
      const table = String(call.input?.TableName ?? '');
      if (failed > 0 || call.fn !== 'http' || call.service !== 'dynamodb' || call.operation !== 'UpdateItem' || table !== rt.resources.tables.Connections) return undefined;
      failed++;
      return {
        type: 'respond',
        response: {
          status: 400,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ValidationException', message: 'Injected fault' }),
        },
      };
    },
  };
  return { failed: () => failed, injector };
}

describe('a removal that fails halfway', () => {
  it('answers the connections it cut off, and the task queue cuts off the rest (removed, no more messages)', async () => {
    const room = uniqueRoom('halfway');
    expect((await alice.post('/api/rooms', { name: room, visibility: 'private', members: [bob.id] })).status).toBe(201);
    const aliceWs = await alice.connect(room);
    const tabs = [await bob.connect(room), await bob.connect(room)];
    clients.push(aliceWs, ...tabs);

    const fault = failOneLeave();
    rt.injectFaults(fault.injector);
    let res: Awaited<ReturnType<User['delete']>>;
    try {
      res = await alice.delete(`/api/rooms/${room}/members/${encodeURIComponent(bob.id)}`);
    } finally {
      rt.injectFaults(undefined);
    }
    expect(fault.failed()).toBe(1);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'success', room, user: bob.id, connections: 1 });

    // Both tabs are cut off: one by the request, the other by the `cutoff` task it enqueued.
    for (const tab of tabs) expect((await tab.nextEvent('removed', () => true, 20_000)).data).toEqual({ room });
    const after = await aliceWs.request('send_text', { text: 'bob is gone' }, 'message_received');
    for (const tab of tabs) {
      await tab.roundTrip();
      expect(tab.received((f) => f.event === 'message' && f.data.id === after.data.id)).toEqual([]);
      expect(tab.received((f) => f.event === 'removed')).toHaveLength(1);
      expect((await tab.request('send_text', { text: 'hello?', room }, 'error')).data.code).toBe('forbidden');
    }
  });
});
