/**
 * Delivery under faults, through the whole local runtime: real `ws` clients in several rooms,
 * hundreds of messages from several senders (WebSocket and REST), while faults are injected
 *
 * - in the handlers' AWS SDK clients (test/support/faults.ts, registered with addClientMiddleware):
 *   DynamoDB throttling (ProvisionedThroughputExceededException) and 5xx, writes whose answer is
 *   lost after they landed, SQS SendMessage 5xx and lost answers (the task is then sent twice),
 *   PostToConnection 429 / 500 and lost answers, a task handler that crashes on one record of a batch;
 * - in a fault proxy in front of the emulators: SQS ReceiveMessage errors, and receives whose answer
 *   is lost (the tasks come back after the visibility timeout: redelivery);
 * - stale connections (records whose client is gone, older than the handshake grace): 410;
 * - a Lambda timeout during fan-out: a short function timeout, so broadcasts continue in follow-up
 *   tasks, and one invocation that overruns it and is failed by the runtime;
 * - the same task sent twice;
 * - a task that fails on every receive: it reaches the DLQ only after maxReceiveCount receives, and
 *   runs once redriven.
 *
 * Every accepted message (the sender got `message_received` or 201) must reach every connection that
 * was in its room the whole time; nothing is stored twice; history keeps each sender's order. The
 * schedule is seeded (FAULT_SEED) and counts calls, so a run is reproducible up to timing.
 */
import '../support/quiet.js';
import { GetQueueAttributesCommand, SQSClient, SendMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../lambdas/adapters/dynamo-connection-store.js';
import { LIMITS, TASK_QUEUE_SETTINGS } from '../../lambdas/shared/limits.js';
import { type Emulators, LOCAL_CREDENTIALS, startEmulators } from '../../local/emulators.js';
import { redriveDlq } from '../../local/redrive.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { TaskLog, type WsClient, getJson, joinRoom, openWs, postJson, uniqueRoom } from '../local/helpers.js';
import {
  DeliveryTally,
  type FaultProxy,
  FaultInjector,
  attr,
  everyNth,
  formatCounts,
  setFunctionTimeout,
  startFaultProxy,
} from '../support/faults.js';
import { waitFor } from '../support/wait.js';

const SEED = Number(process.env.FAULT_SEED ?? 20261127);
const ROOM_COUNT = 4;
const MEMBERS_PER_ROOM = 10;
const WS_SENDERS_PER_ROOM = 3;
const WS_MESSAGES_PER_SENDER = 20;
const REST_MESSAGES_PER_ROOM = 15;
/** As deployed (TASK_QUEUE_SETTINGS): a task goes to the DLQ after its 5th failed receive. */
const MAX_RECEIVE_COUNT = TASK_QUEUE_SETTINGS.maxReceiveCount;
/**
 * Retries come back after this (the deployed 180 s would make the test minutes long). It must stay
 * above the time a batch takes on a busy machine, or tasks still running are received again; the
 * DLQ test shortens it once the queue is idle.
 */
const VISIBILITY_TIMEOUT_SECONDS = 3;

// Applied at the runtime's IAM gates: every DynamoDB, SQS and @connections call of the functions.
const injector = new FaultInjector();

interface Member {
  client: WsClient;
  connectionId: string;
  room: string;
}

interface Accepted {
  id: string;
  room: string;
  sender: string;
  content: string;
}

let emulators: Emulators;
let proxy: FaultProxy;
let rt: Runtime;
let taskLog: TaskLog;
let sqs: SQSClient;
let ddb: DynamoDBDocumentClient;
const tally = new DeliveryTally();
const members: Member[] = [];
const others: WsClient[] = [];
const accepted: Accepted[] = [];
const rejected: string[] = [];
const batches: Array<{ size: number; failed: number }> = [];
let sent = 0;
let broadcastsAccepted = 0;
/** How long clients joining under faults waited for their `connected` greeting. */
const greetMs: number[] = [];
/** The runtime's own lines about failed invocations (Lambda timeouts). */
const invocationFailures: string[] = [];
/** Resolves once this many messages were accepted (clients join and leave in mid-traffic). */
const acceptedWaiters: Array<{ at: number; resolve: () => void }> = [];
const whenAccepted = (at: number) => new Promise<void>((resolve) => acceptedWaiters.push({ at, resolve }));
function accept(entry: Accepted): void {
  accepted.push(entry);
  for (const waiter of acceptedWaiters.filter((w) => accepted.length >= w.at)) {
    acceptedWaiters.splice(acceptedWaiters.indexOf(waiter), 1);
    waiter.resolve();
  }
}

const stableIn = (room: string) => members.filter((m) => m.room === room);
const stableIds = () => members.map((m) => m.connectionId);

/** Every stable member counts each `message` / `broadcast` frame it gets, by message id. */
function track(member: Member): void {
  member.client.ws.on('message', (data) => {
    try {
      const frame = JSON.parse(data.toString()) as { event?: string; data?: { id?: unknown } };
      if ((frame.event === 'message' || frame.event === 'broadcast') && typeof frame.data?.id === 'string') {
        tally.observe(member.connectionId, frame.data.id);
      }
    } catch {
      // not JSON: not ours to count
    }
  });
}

async function connectMembers(room: string, count: number): Promise<Member[]> {
  const joined: Member[] = [];
  for (let i = 0; i < count; i += 5) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(5, count - i) }, async () => {
        const { client, connectionId } = await joinRoom(rt, room);
        const member = { client, connectionId, room };
        track(member);
        return member;
      }),
    );
    joined.push(...batch);
  }
  return joined;
}

/** Sends one message over a WebSocket and waits for its reply; accepted ones are expected everywhere. */
async function sendWs(from: { client: WsClient; connectionId: string }, room: string, sender: string, content: string): Promise<void> {
  sent++;
  const reply = from.client.next((f) => f.event === 'message_received' || f.event === 'error', 30_000, `the reply to ${content}`);
  from.client.send('message', { type: 'text', content, sender });
  const frame = await reply;
  if (frame.event !== 'message_received') {
    rejected.push(`${content}: ${frame.raw}`);
    return;
  }
  const id = String(frame.data.id);
  accept({ id, room, sender, content });
  tally.expect(
    id,
    stableIn(room)
      .map((m) => m.connectionId)
      .filter((c) => c !== from.connectionId),
  );
}

async function sendRest(room: string, sender: string, content: string): Promise<void> {
  sent++;
  const res = await postJson(`${rt.httpUrl}/api/message`, { type: 'text', content, sender, room });
  if (res.status !== 201) {
    rejected.push(`${content}: ${res.status} ${JSON.stringify(res.body)}`);
    return;
  }
  const id = String(res.body.message.id);
  accept({ id, room, sender, content });
  tally.expect(
    id,
    stableIn(room).map((m) => m.connectionId),
  );
}

async function broadcast(content: string): Promise<string> {
  sent++;
  const res = await postJson(`${rt.httpUrl}/api/messages/broadcast`, { type: 'text', content, sender: 'ops' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = String(res.body.message.id);
  broadcastsAccepted++;
  tally.expect(id, stableIds());
  return id;
}

async function queueDepth(queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function queryAll(stream: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await ddb.send(
      new QueryCommand({
        TableName: rt.resources.tables.Messages,
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'stream' },
        ExpressionAttributeValues: { ':s': stream },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
    if (!start) break;
  }
  return items;
}

/** A room's whole history through `GET /api/messages`, paging back with `before`, oldest first. */
async function history(room: string): Promise<Array<{ id: string; sender: string; content: string }>> {
  const all: Array<{ id: string; sender: string; content: string }> = [];
  let before: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res = await getJson(`${rt.httpUrl}/api/messages?room=${room}&limit=${LIMITS.historyMaxPage}${before ? `&before=${before}` : ''}`);
    expect(res.status).toBe(200);
    all.unshift(...res.body.messages);
    before = res.body.next_before;
    if (!before) break;
  }
  return all;
}

beforeAll(async () => {
  emulators = await startEmulators();
  proxy = await startFaultProxy(emulators, injector);
  rt = await startRuntime({
    httpPort: 0,
    wsPort: 0,
    ssePort: 0,
    quiet: true,
    awsEndpoint: proxy.url,
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    context: { ratePerUser: 1_000_000, ratePerConnection: 1_000_000 },
    logger: {
      info: (line) => {
        if (line.includes('invocation failed')) invocationFailures.push(line);
      },
      error: () => {},
    },
  });
  rt.injectFaults(injector.gateFaults());
  taskLog = new TaskLog(rt);
  rt.tasks.on('batch', (batch) => batches.push(batch));
  sqs = new SQSClient({ region: rt.region, endpoint: proxy.url, credentials: LOCAL_CREDENTIALS });
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: rt.region, endpoint: emulators.dynamoEndpoint, credentials: LOCAL_CREDENTIALS }));
});

afterAll(async () => {
  injector.enabled = false;
  await Promise.all([...members.map((m) => m.client.close()), ...others.map((c) => c.close())]);
  taskLog?.dispose();
  sqs?.destroy();
  ddb?.destroy();
  await rt?.stop();
  await proxy?.stop();
  await emulators?.stop();
});

describe('delivery under injected faults', () => {
  it('every accepted message reaches every connection of its room; nothing stored twice; per-sender order kept; stale connections removed', async () => {
    const rooms = Array.from({ length: ROOM_COUNT }, (_, i) => uniqueRoom(`faults${i}`));
    injector.enabled = false;
    for (const room of rooms) members.push(...(await connectMembers(room, MEMBERS_PER_ROOM)));

    // Stale connections: records whose clients are gone without a $disconnect (best effort on AWS),
    // connected long before the handshake grace period. @connections answers 410 for them.
    const ghosts = rooms.map((room, i) => ({ pk: `Gh0st${i}${SEED % 1000}xYz=`, room }));
    const longAgo = new Date(Date.now() - LIMITS.staleGraceMs - 60_000).toISOString();
    for (const ghost of ghosts) {
      await ddb.send(
        new PutCommand({
          TableName: rt.resources.tables.Connections,
          Item: { ...ghost, shard: shardOf(ghost.pk), userId: 'anonymous', roles: [], protocol: 'json', connectedAt: longAgo, ttl: Math.floor(Date.now() / 1000) + 3600 },
        }),
      );
    }

    const ghostIds = new Set(ghosts.map((g) => g.pk));
    let staleAnswers = 0;
    const stopObserving = injector.observe((call) => {
      if (call.operation === 'PostToConnection' && call.status === 410 && ghostIds.has(String(call.input.ConnectionId))) staleAnswers++;
    });

    // ---- the fault schedule (deterministic: every Nth matching call, seeded offsets) ----
    const op = (service: string, operation: string) => (c: { service: string; operation: string }) => c.service === service && c.operation === operation;
    injector.add({ kind: 'dynamo-throttle', match: (c) => c.service === 'dynamodb', when: everyNth(9, SEED), firstAttemptOnly: true, action: { type: 'error', status: 400, errorType: 'ProvisionedThroughputExceededException' } });
    injector.add({ kind: 'dynamo-5xx', match: (c) => c.service === 'dynamodb', when: everyNth(13, SEED + 1), firstAttemptOnly: true, action: { type: 'error', status: 500, errorType: 'InternalServerError' } });
    injector.add({ kind: 'dynamo-write-answer-lost', match: op('dynamodb', 'PutItem'), when: everyNth(11, SEED + 2), firstAttemptOnly: true, action: { type: 'lost', status: 500, errorType: 'InternalServerError' } });
    injector.add({ kind: 'sqs-send-5xx', match: op('sqs', 'SendMessage'), when: everyNth(10, SEED + 3), firstAttemptOnly: true, action: { type: 'error', status: 500, errorType: 'InternalError' } });
    // The task was queued but its answer is lost: the SDK sends it again, SQS holds it twice.
    injector.add({ kind: 'sqs-send-answer-lost (task sent twice)', match: op('sqs', 'SendMessage'), when: everyNth(17, SEED + 4), firstAttemptOnly: true, action: { type: 'lost', status: 500, errorType: 'InternalError' } });
    const taskReceive = (c: { service: string; operation: string; input: Record<string, unknown> }) =>
      c.service === 'sqs' && c.operation === 'ReceiveMessage' && c.input.QueueUrl === rt.taskQueueUrl;
    injector.add({ kind: 'sqs-receive-5xx', layer: 'proxy', match: taskReceive, when: everyNth(8, SEED + 5), action: { type: 'error', status: 500, errorType: 'InternalError' } });
    // Received (in flight, receive count up) but the answer is lost: redelivered after the visibility timeout.
    const removeLostReceives = injector.add({ kind: 'sqs-receive-answer-lost (redelivery)', layer: 'proxy', match: taskReceive, when: everyNth(15, SEED + 6), limit: 3, action: { type: 'lost', status: 500, errorType: 'InternalError' } });
    injector.add({ kind: 'post-429', match: op('apigw', 'PostToConnection'), when: everyNth(12, SEED + 7), action: { type: 'error', status: 429, errorType: 'LimitExceededException' } });
    injector.add({ kind: 'post-500', match: op('apigw', 'PostToConnection'), when: everyNth(19, SEED + 8), action: { type: 'error', status: 500, errorType: 'InternalServerErrorException' } });
    injector.add({ kind: 'post-answer-lost', match: op('apigw', 'PostToConnection'), when: everyNth(41, SEED + 9), action: { type: 'lost', status: 500, errorType: 'InternalServerErrorException' } });
    // A task handler that crashes on one record of its batch (three times over the run): after its
    // deliveries, as it records the task done, so SQS redelivers a task that already did its work.
    const crashAt = new Set([2, 9, 21]);
    injector.add({
      kind: 'task-crash (one record of a batch)',
      match: (c) => c.service === 'dynamodb' && c.operation === 'PutItem' && attr((c.input.Item as Record<string, unknown>)?.stream)?.startsWith('task#') === true,
      when: (index) => crashAt.has(index),
      action: { type: 'crash', message: 'Injected crash in the task handler' },
    });
    injector.enabled = true;

    // ---- phase A: room traffic from WebSocket and REST senders, with clients coming and going ----
    const senders = rooms.flatMap((room) =>
      stableIn(room)
        .slice(0, WS_SENDERS_PER_ROOM)
        .map((member, i) => async () => {
          for (let n = 0; n < WS_MESSAGES_PER_SENDER; n++) await sendWs(member, room, `ws-${i}`, `${room} ws-${i} #${n}`);
        }),
    );
    const restSenders = rooms.map((room) => async () => {
      for (let n = 0; n < REST_MESSAGES_PER_ROOM; n++) await sendRest(room, 'rest', `${room} rest #${n}`);
    });
    // Clients that join and leave in the middle: they send too, and must leave no record behind.
    const churn = rooms.map((room, i) => async () => {
      await whenAccepted(40 + 20 * i);
      // Under faults the greeting (a task) can take several seconds: a longer wait than joinRoom's.
      const client = await openWs(`${rt.wsUrl}/?room=${encodeURIComponent(room)}`);
      others.push(client);
      const joinStarted = Date.now();
      const connectionId = String((await client.nextEvent('connected', () => true, 45_000)).data.connection_id);
      greetMs.push(Date.now() - joinStarted);
      for (let n = 0; n < 3; n++) await sendWs({ client, connectionId }, room, `churn-${i}`, `${room} churn-${i} #${n}`);
      await client.close();
    });
    await Promise.all([...senders, ...restSenders, ...churn].map((run) => run()));

    const complete = await tally.whenComplete(40_000);
    expect(complete, JSON.stringify(tally.summary().missing)).toBe(true);
    const messagesPhase = tally.summary();
    removeLostReceives(); // phase B looks at receive counts

    // ---- phase B: broadcasts under a short Lambda timeout: continuation tasks, and one overrun ----
    const restoreTimeout = setFunctionTimeout(rt, 'tasks', 2_000); // deadline = start + 1 s (the handler keeps 5 s, at least 1 s)
    const removeLatency = injector.add({
      kind: 'dynamo-latency (slow shard queries)',
      match: (c) => c.service === 'dynamodb' && c.operation === 'Query' && c.input.IndexName === 'byShard',
      action: { type: 'delay', ms: 120 },
    });
    const overrunMarker = `overrun ${uniqueRoom('b')}`;
    const removeHang = injector.add({
      kind: 'lambda-timeout (fan-out overran its function timeout)',
      match: (c) => c.service === 'apigw' && c.operation === 'PostToConnection' && Buffer.from(c.input.Data as Uint8Array).toString().includes(overrunMarker),
      limit: 1,
      action: { type: 'delay', ms: 2_500 },
    });
    let firstBroadcast: string;
    let secondBroadcast: string;
    let broadcastsDone: boolean;
    try {
      firstBroadcast = await broadcast(`continued ${uniqueRoom('b')}`);
      secondBroadcast = await broadcast(overrunMarker);
      broadcastsDone = await tally.whenComplete(30_000);
    } finally {
      restoreTimeout();
      removeLatency();
      removeHang();
    }
    expect(broadcastsDone, JSON.stringify(tally.summary().missing)).toBe(true);
    const continuations = (id: string) => taskLog.records.filter((r) => r.outcome === 'deleted' && r.body.includes(`"key":"${id}:c:`));
    // The frames can reach the clients before the event source reports the task deleted.
    await taskLog.waitFor((r) => r.outcome === 'deleted' && r.body.includes(`"key":"${firstBroadcast}:c:`), 15_000, 'a continuation of the broadcast');
    injector.count('fanout-continuations', continuations(firstBroadcast).length + continuations(secondBroadcast).length);
    // The overrunning invocation failed as a Lambda timeout: its batch came back and was settled.
    // (The task may also have been queued twice, by a lost SendMessage answer: the copy that ran into
    // the slow post is the one that failed.)
    const overrun = await taskLog.waitFor((r) => r.body.includes(`"key":"${secondBroadcast}"`) && r.outcome === 'failed', 15_000, 'the timed-out fan-out');
    const settled = await taskLog.waitFor((r) => r.messageId === overrun.messageId && r.outcome === 'deleted', 15_000, 'the timed-out fan-out, redelivered');
    expect(settled.receiveCount).toBeGreaterThan(overrun.receiveCount);
    // Failed as a timeout: middy aborts the handler just before the deadline ("[AbortError]"), or the
    // runtime's own timeout fires ("Task timed out after 2.00 seconds").
    expect(invocationFailures.some((line) => /AbortError|Task timed out/.test(line)), invocationFailures.join('\n')).toBe(true);

    // ---- duplicate SQS delivery: the same fan-out task sent again (as SQS may) ----
    // Room fan-outs where the room's messages went through the queue, else retries of inline ones.
    const fanouts = taskLog.records.filter((r) => r.outcome === 'deleted' && r.body.includes('"kind":"fanout"') && !r.body.includes('"type":"all"'));
    const duplicated = [...fanouts.filter((r) => r.body.includes('"type":"room"')), ...fanouts].slice(0, 3);
    expect(duplicated.length).toBe(3);
    const copies: string[] = [];
    for (const record of duplicated) {
      const out = await sqs.send(new SendMessageCommand({ QueueUrl: rt.taskQueueUrl, MessageBody: record.body }));
      copies.push(out.MessageId!);
      injector.count('duplicate-task-delivery');
    }
    for (const messageId of copies) {
      await taskLog.waitFor((r) => r.messageId === messageId && r.outcome === 'deleted', 15_000, 'the duplicate task');
    }

    // ---- verification, faults off ----
    injector.enabled = false;
    injector.clear();
    const summary = tally.summary();
    stopObserving();
    injector.count('post-410 (stale connection)', staleAnswers);

    // Stale connections were removed at their first 410; churned clients' $disconnect ran.
    for (const ghost of ghosts) {
      const out = await ddb.send(new GetCommand({ TableName: rt.resources.tables.Connections, Key: { pk: ghost.pk } }));
      expect(out.Item, `stale connection ${ghost.pk}`).toBeUndefined();
    }
    const records = await waitFor(
      async () => {
        const out = await ddb.send(new ScanCommand({ TableName: rt.resources.tables.Connections, FilterExpression: 'attribute_exists(#shard)', ExpressionAttributeNames: { '#shard': 'shard' }, ProjectionExpression: 'pk' }));
        return (out.Items ?? []).map((i) => String(i.pk)).sort();
      },
      (pks) => pks.length === members.length,
      { timeoutMs: 10_000, what: 'only the stable connections in the table' },
    );
    expect(records).toEqual(stableIds().sort());

    // Nothing stored twice, nothing accepted missing: the messages table, stream by stream.
    for (const room of rooms) {
      const items = await queryAll(`room#${room}`);
      const contents = items.map((i) => (i.body as { message: { content: string } }).message.content);
      expect(new Set(contents).size, `duplicate content stored in ${room}`).toBe(contents.length);
      const expectedIds = accepted.filter((a) => a.room === room).map((a) => a.id).sort();
      expect(items.map((i) => String(i.id)).sort()).toEqual(expectedIds);
    }
    const globalItems = await queryAll('global');
    expect(globalItems.map((i) => String(i.id)).sort()).toEqual([firstBroadcast, secondBroadcast].sort());

    // History keeps each sender's order (every sender waited for its reply before the next send).
    for (const room of rooms) {
      const messages = await history(room);
      const bySender = new Map<string, string[]>();
      for (const m of messages) bySender.set(m.sender, [...(bySender.get(m.sender) ?? []), m.content]);
      for (const [sender, contents] of bySender) {
        const sentOrder = accepted.filter((a) => a.room === room && a.sender === sender).map((a) => a.content);
        expect(contents, `order of ${sender} in ${room}`).toEqual(sentOrder);
      }
      expect(messages.length).toBe(accepted.filter((a) => a.room === room).length);
    }

    // Tasks that failed (crashes, timeouts) were retried and settled well before the DLQ.
    const failedIds = new Set(taskLog.records.filter((r) => r.outcome === 'failed').map((r) => r.messageId));
    let maxReceives = 1;
    for (const messageId of failedIds) {
      const outcomes = taskLog.records.filter((r) => r.messageId === messageId);
      const history = `${outcomes.map((r) => `${r.receiveCount}:${r.outcome}`).join(' ')} ${outcomes[0]!.body.slice(0, 80)}`;
      const settledAt = await taskLog.waitFor((r) => r.messageId === messageId && r.outcome === 'deleted', 15_000, `task ${messageId} settled: ${history}`);
      expect(settledAt.receiveCount).toBeLessThanOrEqual(MAX_RECEIVE_COUNT);
      maxReceives = Math.max(maxReceives, settledAt.receiveCount);
    }
    const crashedBatches = batches.filter((b) => b.failed > 0 && b.failed < b.size).length;
    expect(injector.counts['task-crash (one record of a batch)']).toBe(crashAt.size);
    expect(await queueDepth(rt.taskDlqUrl)).toBe(0);

    expect(rejected).toEqual([]);
    expect(summary.lost).toBe(0);
    expect(staleAnswers).toBeGreaterThanOrEqual(ghosts.length);
    console.log(
      `[faults] messages sent=${sent} accepted=${accepted.length + broadcastsAccepted} rejected=${rejected.length} | deliveries expected=${summary.expected} delivered=${summary.delivered} lost=${summary.lost} duplicated=${summary.duplicated}` +
        ` (room messages: ${messagesPhase.delivered}/${messagesPhase.expected}) | greeting under faults ${greetMs.join('/')} ms` +
        ` | tasks failed and retried=${failedIds.size} (settled by receive ${maxReceives}, none in the DLQ) | batches with one record failed and the rest done=${crashedBatches}` +
        ` | faults injected=${injector.total()}: ${formatCounts(injector.counts)}`,
    );
  }, 90_000); // about 25 s; the margin is for a machine busy with other work

  it('a task that fails on every receive reaches the DLQ only after maxReceiveCount receives, and succeeds once redriven', async () => {
    injector.clear(); // only the poison below, whatever the test before left
    injector.enabled = false;
    const room = uniqueRoom('dlq');
    const listeners = await connectMembers(room, 3);
    members.push(...listeners);
    const sender = listeners[0]!;
    // Quick retries for this one: each receive of the poisoned task comes one second after the last.
    // Only once the queue is idle, so that no other task (still running) is received again early.
    await waitFor(() => queueDepth(rt.taskQueueUrl), (n) => n === 0, { timeoutMs: 30_000, intervalMs: 100, what: 'an idle task queue' });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: rt.taskQueueUrl, Attributes: { VisibilityTimeout: '1' } }));
    const poison = injector.add({
      kind: 'poisoned fan-out (fails every receive)',
      match: (c) => c.service === 'dynamodb' && c.operation === 'Query' && c.input.IndexName === 'byRoom' && attr((c.input.ExpressionAttributeValues as Record<string, unknown>)?.[':v']) === room,
      action: { type: 'crash', message: 'Injected permanent failure' },
    });
    injector.enabled = true;
    await sendWs(sender, room, 'dlq-sender', `${room} poisoned`);
    const message = accepted.at(-1)!;
    expect(message.room).toBe(room);
    const isTask = (body: string) => body.includes(`"key":"${message.id}"`);

    for (let receive = 1; receive <= MAX_RECEIVE_COUNT; receive++) {
      const outcome = await taskLog.waitFor((r) => isTask(r.body) && r.receiveCount === receive, 15_000, `receive ${receive} of the poisoned task`);
      expect(outcome.outcome).toBe('failed');
    }
    await waitFor(() => queueDepth(rt.taskDlqUrl), (n) => n === 1, { timeoutMs: 15_000, intervalMs: 100, what: 'the poisoned task in the DLQ' });
    const receives = taskLog.records.filter((r) => isTask(r.body));
    expect(receives.map((r) => r.receiveCount)).toEqual(Array.from({ length: MAX_RECEIVE_COUNT }, (_, i) => i + 1));
    expect(receives.every((r) => r.outcome === 'failed')).toBe(true);
    expect(tally.summary().lost).toBe(1 * (listeners.length - 1));

    // Fixed: redrive it back to the task queue, where it now runs.
    poison();
    const result = await redriveDlq({ sqs, dlqUrl: rt.taskDlqUrl, sourceQueueUrl: rt.taskQueueUrl });
    expect(result).toEqual({ method: 'copy', moved: 1 }); // fauxqs has no StartMessageMoveTask
    expect(await tally.whenComplete(15_000)).toBe(true);
    await taskLog.waitFor((r) => isTask(r.body) && r.outcome === 'deleted', 15_000, 'the redriven task');
    expect(await queueDepth(rt.taskDlqUrl)).toBe(0);
    const summary = tally.summary();
    expect(summary.lost).toBe(0);
    console.log(
      `[faults] DLQ: poisoned task failed receives ${receives.map((r) => r.receiveCount).join(',')} of maxReceiveCount ${MAX_RECEIVE_COUNT}, then in the DLQ; redriven (${result.method}, ${result.moved} moved) and delivered to ${listeners.length - 1} connections; overall lost=${summary.lost}`,
    );
  });
});
