/**
 * The task consumer (SQS → Lambda) with records actually received from fauxqs: fan-out to rooms and
 * to everyone, stale connections (410), throttling and server errors, retries of what could not be
 * delivered, idempotent redelivery, malformed tasks and partial batch failures.
 */
import '../support/quiet.js';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayConnectionGateway } from '../../lambdas/adapters/apigw-gateway.js';
import { DynamoConnectionStore } from '../../lambdas/adapters/dynamo-connection-store.js';
import { DynamoTaskLedger } from '../../lambdas/adapters/dynamo-task-ledger.js';
import { SqsTaskQueue } from '../../lambdas/adapters/sqs-task-queue.js';
import { FanoutService } from '../../lambdas/domain/fanout.js';
import type { FanoutTask, Task } from '../../lambdas/domain/tasks.js';
import { LIMITS, TASK_QUEUE_SETTINGS } from '../../lambdas/shared/limits.js';
import { connectionId, startTestEnv, type TestEnv } from '../support/env.js';
import { connectClients as connectClientsIn, rest, wsConnect, wsSend } from '../support/invoke.js';

let env: TestEnv;

// These tests are about the task consumer: deployed with every fan-out through the queue (small
// rooms are otherwise delivered inline by the message path, test/handlers/fanout-design.test.ts).
const QUEUE_ONLY = { inlineFanoutMaxMembers: 0 };

beforeAll(async () => {
  env = await startTestEnv({ context: QUEUE_ONLY });
});
afterAll(async () => {
  await env?.stop();
});
beforeEach(async () => {
  await env.resetData();
});

const connectClients = (rooms: Record<string, string>) => connectClientsIn(env, rooms);

async function postText(content: string, room = 'general') {
  const res = await rest('POST', '/api/message', { body: { type: 'text', content, sender: 'tester', room } });
  expect(res.status).toBe(201);
  return res.body.message as { id: string };
}

const taskOf = (body: string) => JSON.parse(body) as Task;

describe('fan-out', () => {
  it('deletes a connection at once when PostToConnection answers 410 GoneException, and delivers to the rest', async () => {
    const ids = await connectClients({ a: 'general', stale: 'general', c: 'general' });
    // Connected a while ago (a 410 right after $connect is the handshake, see below), then gone.
    await env.ageConnection(ids.stale!, 60_000);
    env.gateway.markGone(ids.stale!);
    const message = await postText('who is still here?');
    await env.drainTasks();

    expect(env.gateway.attemptsFor(ids.stale!).map((r) => r.status)).toEqual([410]);
    expect(await env.connectionItem(ids.stale!)).toBeUndefined();
    expect(await env.roomMembers('general')).toEqual([ids.a, ids.c].sort());
    for (const id of [ids.a!, ids.c!]) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: message }]);

    // The next message does not try the stale connection again.
    await postText('again');
    await env.drainTasks();
    expect(env.gateway.attemptsFor(ids.stale!)).toHaveLength(1);
  });

  it('removes stale connections found by a broadcast too', async () => {
    const ids = await connectClients({ a: 'general', stale: 'lobby' });
    await env.ageConnection(ids.stale!, 60_000);
    env.gateway.markGone(ids.stale!);
    await rest('POST', '/api/messages/broadcast', { body: { type: 'text', content: 'all', sender: 'ops' } });
    await env.drainTasks();
    expect(await env.connectionItem(ids.stale!)).toBeUndefined();
    expect(await env.connectionItem(ids.a!)).toBeDefined();
    expect(env.gateway.eventsFor(ids.a!).map((f) => f.event)).toEqual(['broadcast']);
  });

  it('keeps a connection that answers 410 while it is still in its handshake (younger than the grace period)', async () => {
    const ids = await connectClients({ a: 'general', fresh: 'general' });
    env.gateway.markGone(ids.fresh!);
    await postText('too early for one');
    await env.drainTasks();
    expect(env.gateway.attemptsFor(ids.fresh!).map((r) => r.status)).toEqual([410]);
    expect(await env.connectionItem(ids.fresh!)).toBeDefined();
    expect(LIMITS.staleGraceMs).toBeGreaterThan(0);
  });

  it.each([429, 500] as const)('retries %i (throttling, server error) with backoff, then delivers exactly once', async (status) => {
    const ids = await connectClients({ a: 'general', busy: 'general' });
    env.gateway.failNext(ids.busy!, status, 2);
    const message = await postText('eventually');
    const drained = await env.drainTasks();

    expect(env.gateway.attemptsFor(ids.busy!).map((r) => r.status)).toEqual([status, status, 200]);
    expect(env.gateway.eventsFor(ids.busy!)).toEqual([{ event: 'message', data: message }]);
    expect(env.gateway.eventsFor(ids.a!)).toEqual([{ event: 'message', data: message }]);
    expect(await env.connectionItem(ids.busy!)).toBeDefined();
    // Retried inside the one task: no follow-up task was needed.
    expect(drained.processed.map((r) => taskOf(r.body).kind)).toEqual(['fanout']);
  });

  it('hands connections that are still throttled after every retry to a follow-up task, delivering once', async () => {
    const ids = await connectClients({ a: 'general', b: 'general', busy: 'general' });
    // One more failure than the first task's attempts (1 + postRetries): the follow-up delivers.
    env.gateway.failNext(ids.busy!, 429, LIMITS.postRetries + 1);
    const message = await postText('later for some');
    const drained = await env.drainTasks();

    const tasks = drained.processed.map((r) => taskOf(r.body) as FanoutTask);
    expect(tasks).toHaveLength(2);
    expect(tasks[1]!.audience).toEqual({ type: 'connections', members: [{ connectionId: ids.busy, protocol: 'json' }] });
    expect(tasks[1]!.key).not.toBe(tasks[0]!.key);
    const statuses = env.gateway.attemptsFor(ids.busy!).map((r) => r.status);
    expect(statuses).toEqual([...Array(LIMITS.postRetries + 1).fill(429), 200]);
    for (const id of Object.values(ids)) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: message }]);
  });

  it('a connection that answers a permanent error (400) does not fail the fan-out for everyone else', async () => {
    const ids = await connectClients({ a: 'general', broken: 'general', c: 'general' });
    env.gateway.failNext(ids.broken!, 400, 100);
    const message = await postText('to the healthy ones');
    const drained = await env.drainTasks();
    expect(drained.failed).toEqual([]);
    for (const id of [ids.a!, ids.c!]) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: message }]);
    expect(env.gateway.attemptsFor(ids.broken!).map((r) => r.status)).toEqual([400]);
  });

  it('does not deliver twice when SQS redelivers the same message (ApproximateReceiveCount 2)', async () => {
    const ids = await connectClients({ a: 'general', b: 'general' });
    const message = await postText('exactly once');

    const [first] = await env.receiveRecords(1);
    expect(first!.attributes.ApproximateReceiveCount).toBe('1');
    expect(await env.processRecords([first!])).toEqual({ batchItemFailures: [] });
    // The function's success was not recorded (e.g. it timed out after delivering): SQS redelivers.
    await env.release(first!);
    const [second] = await env.receiveRecords(1);
    expect(second!.messageId).toBe(first!.messageId);
    expect(second!.attributes.ApproximateReceiveCount).toBe('2');
    expect(await env.processRecords([second!])).toEqual({ batchItemFailures: [] });
    await env.deleteRecords([second!]);

    for (const id of Object.values(ids)) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: message }]);
    expect(await env.streamItems('room#general')).toHaveLength(1);
    expect(await env.receiveRecords()).toEqual([]);
  });

  it('reads a room page by page (Query) and continues in a follow-up task when time runs out', async () => {
    const rooms: Record<string, string> = {};
    for (let i = 0; i < 5; i++) rooms[`m${i}`] = 'paged';
    const ids = await connectClients({ ...rooms, outsider: 'general' });
    const members = Object.entries(ids)
      .filter(([name]) => name !== 'outsider')
      .map(([, id]) => id);
    const table = env.tables;
    const fanout = new FanoutService({
      connections: new DynamoConnectionStore(env.ddb, table.connections),
      gateway: new ApiGatewayConnectionGateway(env.management),
      tasks: new SqsTaskQueue(() => env.sqs, env.queue.url),
      ledger: new DynamoTaskLedger(env.ddb, table.messages),
      pageSize: 2,
    });
    const task: FanoutTask = { kind: 'fanout', key: 'paged-1', audience: { type: 'room', room: 'paged' }, event: { event: 'message', data: { n: 1 } } };

    // Out of time before the first page: nothing delivered, a continuation queued.
    const stats = await fanout.run(task, { deadline: Date.now() - 1 });
    expect(stats).toMatchObject({ delivered: 0, continued: true });
    expect(env.gateway.requests).toEqual([]);
    const [continuation] = await env.receiveRecords(1);
    const next = taskOf(continuation!.body) as FanoutTask;
    expect(next.audience).toEqual(task.audience);
    expect(next.key).not.toBe(task.key);
    await env.deleteRecords([continuation!]);

    // With time: all five members over three pages, once each; the outsider gets nothing.
    const full = await fanout.run(next);
    expect(full).toMatchObject({ delivered: 5, gone: 0, failed: 0, continued: false });
    for (const id of members) expect(env.gateway.eventsFor(id)).toEqual([{ event: 'message', data: { n: 1 } }]);
    expect(env.gateway.attemptsFor(ids.outsider!)).toEqual([]);
  });
});

describe('greeting', () => {
  it('posts `connected` with the connection id once the connection is postable', async () => {
    const id = connectionId('g-');
    await wsConnect(id, { query: { room: 'lobby' } });
    const records = await env.receiveRecords();
    // Besides the greeting, the first connection of a user in a room queues its `online` fan-out.
    expect(records.map((r) => taskOf(r.body)).filter((t) => t.kind === 'greet')).toEqual([
      {
        kind: 'greet',
        connectionId: id,
        frames: [JSON.stringify({ event: 'connected', data: { connection_id: id, room: 'lobby', user: 'anonymous', message: 'Connected to chat server' } })],
      },
    ]);
    expect(records.find((r) => taskOf(r.body).kind === 'greet')!.messageAttributes.kind).toMatchObject({ dataType: 'String', stringValue: 'greet' });
    expect(await env.processRecords(records)).toEqual({ batchItemFailures: [] });
    await env.deleteRecords(records);
    expect(env.gateway.eventsFor(id)).toEqual([
      { event: 'connected', data: { connection_id: id, room: 'lobby', user: 'anonymous', message: 'Connected to chat server' } },
    ]);
  });
});

describe('malformed tasks and partial batch failures', () => {
  it('reports exactly the malformed records in batchItemFailures and runs the valid ones', async () => {
    const ids = await connectClients({ a: 'general', b: 'general' });
    const bad = [
      await env.sendRaw('this is not json'),
      await env.sendRaw(JSON.stringify({ kind: 'launch_rockets' })),
      await env.sendRaw(JSON.stringify({ kind: 'fanout', key: 'k1' })),
      await env.sendRaw(JSON.stringify({ kind: 'greet', connectionId: '', frames: [] })),
    ];
    await wsSend(ids.a!, { action: 'send_text', data: { text: 'valid one', sender: 'a' } });

    const records = [...(await env.receiveRecords(10))];
    expect(records).toHaveLength(5);
    // The deployed function, as the event source mapping invokes it.
    const response = await env.processRecords(records);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([...bad].sort());
    await env.deleteRecords(records);
    expect(env.gateway.eventsFor(ids.b!).map((f) => f.event)).toEqual(['message']);
  });

  it('a record that keeps failing goes to the dead-letter queue after maxReceiveCount receives', async () => {
    const badId = await env.sendRaw('{"kind": "fanout"');
    const drained = await env.drainTasks({ onFailure: 'redeliver' });
    expect(drained.failed.map((r) => r.messageId)).toEqual(Array(TASK_QUEUE_SETTINGS.maxReceiveCount).fill(badId));
    expect(drained.failed.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(
      Array.from({ length: TASK_QUEUE_SETTINGS.maxReceiveCount }, (_, i) => String(i + 1)),
    );
    const dlq = await env.sqs.send(new ReceiveMessageCommand({ QueueUrl: env.queue.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(dlq.Messages?.map((m) => m.MessageId)).toEqual([badId]);
  });

  it('a batch of only valid tasks reports no failures', async () => {
    const ids = await connectClients({ a: 'general' });
    await postText('one');
    await postText('two');
    const records = await env.receiveRecords(10);
    expect(records).toHaveLength(2);
    expect(await env.processRecords(records)).toEqual({ batchItemFailures: [] });
    await env.deleteRecords(records);
    expect(env.gateway.eventsFor(ids.a!).map((f) => (f.data as { content: string }).content).sort()).toEqual(['one', 'two']);
  });
});
