/**
 * Round trips a first invocation no longer makes one after another: `$connect` writes the
 * connection record and sends its greeting task at once, and a room fan-out reads the room's first
 * page with its ledger check. What must hold still holds: `$connect` returns only once both writes
 * have settled, a task found done delivers nothing, and a task out of time reads nothing. Ports are
 * in memory because the test is about ordering, which round trips on the embedded emulators cannot
 * hold still; the same paths run end to end in ws.test.ts, tasks.test.ts and the runtime suites.
 */
import { describe, expect, it } from 'vitest';
import { registerConnection } from '../../lambdas/domain/connections.js';
import { FanoutService } from '../../lambdas/domain/fanout.js';
import type { MemberPage } from '../../lambdas/domain/ports.js';
import type { FanoutTask, GreetTask } from '../../lambdas/domain/tasks.js';
import { deferred } from '../support/deferred.js';


const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('$connect writes the record and the greeting task at once', () => {
  const identity = { userId: 'alice', roles: [] };

  it('both start before either answers; it returns once both are done', async () => {
    const put = deferred<void>();
    const send = deferred<void>();
    const started: string[] = [];
    const sent: GreetTask[] = [];
    const registering = registerConnection(
      {
        connections: {
          put: () => {
            started.push('put');
            return put.promise;
          },
        },
        tasks: {
          send: (task) => {
            started.push('send');
            sent.push(task as GreetTask);
            return send.promise;
          },
        },
        clock: { now: () => 0 },
      },
      'c1',
      identity,
      'general',
      'json',
    );
    let returned = false;
    void registering.then(() => (returned = true));
    await tick();
    expect(started.sort()).toEqual(['put', 'send']);
    expect(sent[0]).toMatchObject({ kind: 'greet', connectionId: 'c1' });
    put.resolve();
    await tick();
    expect(returned).toBe(false);
    send.resolve();
    expect(await registering).toMatchObject({ connectionId: 'c1', room: 'general', userId: 'alice' });
  });

  it('a failed record write fails the handshake, only after the task send has settled', async () => {
    const send = deferred<void>();
    const failure = new Error('put failed');
    let settled = false;
    const registering = registerConnection(
      {
        connections: { put: async () => Promise.reject(failure) },
        tasks: { send: () => send.promise.finally(() => (settled = true)) },
        clock: { now: () => 0 },
      },
      'c1',
      identity,
      'general',
      'json',
    );
    let outcome: unknown;
    void registering.catch((error) => (outcome = error));
    await tick();
    expect(outcome).toBeUndefined();
    send.resolve();
    await expect(registering).rejects.toBe(failure);
    expect(settled).toBe(true);
  });
});

describe('a room fan-out reads its first page with the ledger check', () => {
  const page: MemberPage = { members: [{ connectionId: 'c2', protocol: 'json' }] };
  const task: FanoutTask = { kind: 'fanout', key: 'k1', audience: { type: 'room', room: 'general' }, event: { event: 'message', data: { n: 1 } } };

  function fanout(done: Promise<boolean>) {
    const events: string[] = [];
    const service = new FanoutService({
      connections: {
        listRoom: async (_room, cursor, limit) => {
          events.push(`read:${cursor ?? ''}:${limit}`);
          return page;
        },
        listShard: async () => ({ members: [] }),
        removeStale: async () => undefined,
        shardCount: 1,
      },
      gateway: {
        post: async (connectionId) => {
          events.push(`post:${connectionId}`);
          return 'ok';
        },
      },
      tasks: { send: async () => undefined, sendBatch: async () => undefined },
      ledger: {
        isDone: () => {
          events.push('ledger');
          return done;
        },
        markDone: async () => {
          events.push('done');
        },
      },
      pageSize: 50,
    });
    return { service, events };
  }

  it('the read starts before the ledger answers; the page read is the one delivered', async () => {
    const done = deferred<boolean>();
    const { service, events } = fanout(done.promise);
    const running = service.run(task, { deadline: Date.now() + 60_000 });
    await tick();
    expect(events).toEqual(['read::50', 'ledger']);
    done.resolve(false);
    expect(await running).toMatchObject({ delivered: 1, skipped: false });
    expect(events).toEqual(['read::50', 'ledger', 'post:c2', 'done']);
  });

  it('a task found done delivers nothing', async () => {
    const { service, events } = fanout(Promise.resolve(true));
    expect(await service.run(task)).toMatchObject({ delivered: 0, skipped: true });
    expect(events.filter((e) => e.startsWith('post') || e === 'done')).toEqual([]);
  });

  it('presence and typing read cap + 1 connections with the ledger check', async () => {
    const { service, events } = fanout(Promise.resolve(false));
    expect(await service.run({ ...task, maxAudience: 5 })).toMatchObject({ delivered: 1 });
    expect(events.slice(0, 2)).toEqual(['read::6', 'ledger']);
  });

  it('out of time already, the room is not read and the task is handed on', async () => {
    const { service, events } = fanout(Promise.resolve(false));
    expect(await service.run(task, { deadline: Date.now() - 1 })).toMatchObject({ delivered: 0, continued: true });
    expect(events.filter((e) => e.startsWith('read'))).toEqual([]);
  });
});
