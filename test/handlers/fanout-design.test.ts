/**
 * The fan-out design (README, Performance), on the embedded emulators and the recording @connections endpoint:
 * small rooms delivered inline by the message path (no task), what fails inline handed to a task,
 * large audiences split into part tasks (SendMessageBatch) that other invocations deliver, parts
 * deduplicated through the ledger, and the adaptive concurrency limit (AIMD on 429).
 */
import '../support/quiet.js';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayConnectionGateway } from '../../lambdas/adapters/apigw-gateway.js';
import { DynamoConnectionStore } from '../../lambdas/adapters/dynamo-connection-store.js';
import { DynamoTaskLedger } from '../../lambdas/adapters/dynamo-task-ledger.js';
import { SqsTaskQueue } from '../../lambdas/adapters/sqs-task-queue.js';
import { AdaptiveConcurrency } from '../../lambdas/domain/adaptive-concurrency.js';
import { FanoutService } from '../../lambdas/domain/fanout.js';
import type { FanoutTask, Task } from '../../lambdas/domain/tasks.js';
import { connectionId, startTestEnv, type TestEnv } from '../support/env.js';
import { rest, wsConnect, wsSend } from '../support/invoke.js';

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

async function connect(room: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = connectionId(`m${i}-`);
    expect((await wsConnect(id, { query: { room } })).statusCode).toBe(200);
    ids.push(id);
  }
  await env.drainTasks();
  env.gateway.reset();
  return ids;
}

const taskOf = (body: string) => JSON.parse(body) as Task;

function service(options: { pageSize?: number; partSize?: number } = {}) {
  return new FanoutService({
    connections: new DynamoConnectionStore(env.ddb, env.tables.connections),
    gateway: new ApiGatewayConnectionGateway(env.management),
    tasks: new SqsTaskQueue(() => env.sqs, env.queue.url),
    ledger: new DynamoTaskLedger(env.ddb, env.tables.messages),
    ...options,
  });
}

describe('inline fan-out (small rooms)', () => {
  it('the REST function delivers a small room itself too (all members, as REST has no sender connection): no task', async () => {
    const [a, b] = await connect('rest-inline', 2);
    const res = await rest('POST', '/api/message', { body: { type: 'text', content: 'inline', sender: 'x', room: 'rest-inline' } });
    expect(res.status).toBe(201);
    for (const id of [a!, b!]) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: res.body.message }]);
    expect(await env.receiveRecords()).toEqual([]);
  });

  it('delivers a small room from the message path itself: no task is enqueued', async () => {
    const [sender, b, c] = await connect('inline', 3);
    const reply = await wsSend(sender!, { action: 'send_text', data: { text: 'inline', sender: 'x' } });
    expect(reply.event).toBe('message_received');
    const message = (reply.data as { message: unknown }).message;
    for (const id of [b!, c!]) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: message }]);
    expect(await env.receiveRecords()).toEqual([]);
  });

  it('excludes the sender, and hands a member answered 429 to a task that delivers it once', async () => {
    const [sender, busy, other] = await connect('inline-429', 3);
    env.gateway.failNext(busy!, 429, 1);
    const reply = await wsSend(sender!, { action: 'send_text', data: { text: 'later for one', sender: 's' } });
    expect(reply.event).toBe('message_received');
    expect(env.gateway.attemptsFor(sender!)).toEqual([]);
    expect(env.gateway.eventsFor(other!).map((f) => f.event)).toEqual(['message']);
    expect(env.gateway.eventsFor(busy!)).toEqual([]);

    const drained = await env.drainTasks();
    const tasks = drained.processed.map((r) => taskOf(r.body) as FanoutTask);
    expect(tasks.map((t) => t.audience)).toEqual([{ type: 'connections', members: [{ connectionId: busy, protocol: 'json' }] }]);
    expect(env.gateway.attemptsFor(busy!).map((r) => r.status)).toEqual([429, 200]);
    expect(env.gateway.eventsFor(busy!).map((f) => f.event)).toEqual(['message']);
  });
});

describe('large audiences: part tasks for parallel invocations', () => {
  it('delivers the first part itself and enqueues the rest as parts, each connection exactly once', async () => {
    const ids = await connect('big', 7);
    const fanout = service({ pageSize: 3, partSize: 2 });
    const task: FanoutTask = { kind: 'fanout', key: 'big-1', audience: { type: 'room', room: 'big' }, event: { event: 'message', data: { n: 1 } } };
    const stats = await fanout.run(task);
    expect(stats).toMatchObject({ delivered: 2, parts: 3, continued: false });

    const records = await env.receiveRecords(10);
    const parts = records.map((r) => taskOf(r.body) as FanoutTask);
    expect(parts.map((p) => p.audience.type === 'connections' && p.audience.members.length).sort()).toEqual([1, 2, 2]);
    expect(new Set(parts.map((p) => p.key)).size).toBe(3);
    expect(await env.processRecords(records)).toEqual({ batchItemFailures: [] });
    await env.deleteRecords(records);
    for (const id of ids) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: { n: 1 } }]);
  });

  it('a reader task held twice by SQS (the second copy after the first finished) is delivered once', async () => {
    const ids = await connect('twice', 4);
    const fanout = service({ pageSize: 2, partSize: 2 });
    const task: FanoutTask = { kind: 'fanout', key: 'twice-1', audience: { type: 'room', room: 'twice' }, event: { event: 'message', data: { n: 2 } } };
    await fanout.run(task);
    // A second copy of the same task (e.g. SendMessage retried after its answer was lost) runs
    // with receive count 1: the ledger, checked for every task, skips it.
    const second = await service({ pageSize: 2, partSize: 2 }).run({ ...task });
    expect(second.skipped).toBe(true);
    await env.drainTasks();
    expect(ids.map((id) => env.gateway.eventsFor(id).length)).toEqual([1, 1, 1, 1]);
  });

  it('parts enqueued twice (their reader was redelivered before its ledger entry) are delivered once each', async () => {
    const ids = await connect('twice-parts', 4);
    const task: FanoutTask = { kind: 'fanout', key: 'twice-2', audience: { type: 'room', room: 'twice-parts' }, event: { event: 'message', data: { n: 3 } } };
    await service({ pageSize: 2, partSize: 2 }).run(task);
    // The reader crashed before its ledger entry: forget it, so the redelivered reader runs again.
    await env.ddb.send(new DeleteCommand({ TableName: env.tables.messages, Key: { stream: 'task#twice-2', id: 'done' } }));
    await service({ pageSize: 2, partSize: 2 }).run({ ...task });
    await env.drainTasks();
    const delivered = ids.map((id) => env.gateway.eventsFor(id).length);
    // The reader's own first part goes out twice (at-least-once for a redelivered reader); its
    // part tasks carry the same keys and the ledger lets each through once.
    expect(delivered.filter((n) => n === 1)).toHaveLength(2);
    expect(delivered.filter((n) => n === 2)).toHaveLength(2);
  });
});

describe('follow-up tasks for failing deliveries', () => {
  it('are keyed deterministically and, past the last generation, fail the task into SQS retries', async () => {
    const [a] = await connect('stuck', 1);
    env.gateway.failNext(a!, 500, 1000);
    const task: FanoutTask = {
      kind: 'fanout',
      key: 'stuck-1',
      audience: { type: 'connections', members: [{ connectionId: a!, protocol: 'json' }] },
      event: { event: 'message', data: { n: 1 } },
    };
    const fast = () => service();
    await fast().run(task);
    const first = (await env.receiveRecords(10)).map((r) => taskOf(r.body));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'fanout', attempt: 1 });
    await env.deleteRecords(await env.receiveRecords(10));
    // The same task run again (a redelivery) hands on under the same key.
    await env.ddb.send(new DeleteCommand({ TableName: env.tables.messages, Key: { stream: 'task#stuck-1', id: 'done' } }));
    await fast().run(task);
    const again = (await env.receiveRecords(10)).map((r) => taskOf(r.body));
    expect(again.map((t) => (t as FanoutTask).key)).toEqual(first.map((t) => (t as FanoutTask).key));
    await env.resetData();
    env.gateway.failNext(a!, 500, 1000);
    await expect(fast().run({ ...task, key: 'stuck-2', attempt: 5 })).rejects.toThrow(/still failing after 5 follow-up tasks/);
  }, 60_000);
});

describe('AdaptiveConcurrency', () => {
  it('halves the limit on throttling (once per cool-down) and grows it back by one per window', async () => {
    const limiter = new AdaptiveConcurrency(64, 4, 50);
    expect(limiter.limit).toBe(64);
    limiter.onThrottle(1_000);
    limiter.onThrottle(1_010);
    expect(limiter.limit).toBe(32);
    limiter.onThrottle(1_100);
    expect(limiter.limit).toBe(16);
    // About one more slot per window of `limit` successes.
    for (let i = 0; i < 18; i++) limiter.onSuccess();
    expect(limiter.limit).toBe(17);
    for (let i = 0; i < 10; i++) limiter.onThrottle(2_000 + i * 100);
    expect(limiter.limit).toBe(4);
  });

  it('never has more than `limit` slots out', async () => {
    const limiter = new AdaptiveConcurrency(3);
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await limiter.acquire();
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        limiter.release();
      }),
    );
    expect(peak).toBe(3);
  });
});
