/**
 * Task retries and the DLQ through the whole runtime: the SQS event source, the real tasks handler,
 * the queue's visibility timeout and redrive policy. The queue gets a 1 s visibility timeout and a
 * max receive count of 2 here, so retries happen within seconds.
 */
import { ReceiveMessageCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../local/emulators.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { TaskLog, type WsClient, openWs, uniqueRoom } from './helpers.js';

let rt: Runtime;
let tasks: TaskLog;
let sqs: SQSClient;
const clients: WsClient[] = [];

beforeAll(async () => {
  rt = await startRuntime({
    httpPort: 0,
    wsPort: 0,
    ssePort: 0,
    quiet: true,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
  });
  tasks = new TaskLog(rt);
  sqs = new SQSClient({ region: rt.region, endpoint: rt.sqsEndpoint, credentials: LOCAL_CREDENTIALS });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  sqs?.destroy();
  await rt?.stop();
});

describe('task queue event source', () => {
  it('retries a task that fails once: the greeting arrives on the second receive', async () => {
    const room = uniqueRoom('retry');
    // The first PostToConnection of this room's greeting fails with 403 (not retried in process,
    // so the task fails and SQS redelivers it after the visibility timeout).
    const fault = rt.websocket.injectPostFault({
      match: (_id, data) => data.toString().includes('"connected"') && data.toString().includes(room),
      status: 403,
      errorType: 'ForbiddenException',
    });
    const client = await openWs(`${rt.wsUrl}?room=${room}`);
    clients.push(client);
    const connected = await client.nextEvent('connected', () => true, 15_000);
    const connectionId = String(connected.data.connection_id);
    expect(fault.hits()).toBe(1);
    const isGreeting = (body: string) => body.includes('"greet"') && body.includes(connectionId);
    const first = await tasks.waitFor((r) => isGreeting(r.body) && r.outcome === 'failed');
    const second = await tasks.waitFor((r) => isGreeting(r.body) && r.outcome === 'deleted');
    expect(first.messageId).toBe(second.messageId);
    expect(first.receiveCount).toBe(1);
    expect(second.receiveCount).toBe(2);
    expect(client.received((f) => f.event === 'connected')).toHaveLength(1);
  });

  it('moves a task that always fails to the DLQ after maxReceiveCount receives', async () => {
    const body = `{"kind":"not-a-task","marker":"${uniqueRoom('dlq')}"}`;
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: rt.taskQueueUrl, MessageBody: body }));
    const messageId = sent.MessageId!;
    const failures = [
      await tasks.waitFor((r) => r.messageId === messageId && r.receiveCount === 1),
      await tasks.waitFor((r) => r.messageId === messageId && r.receiveCount === 2),
    ];
    expect(failures.map((r) => r.outcome)).toEqual(['failed', 'failed']);

    // SQS moves it on the next receive after the second failure; long-poll the DLQ for it.
    const deadline = Date.now() + 20_000;
    let found: string | undefined;
    while (!found && Date.now() < deadline) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: rt.taskDlqUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
      );
      found = out.Messages?.find((m) => m.Body === body)?.Body;
    }
    expect(found).toBe(body);
    expect(tasks.records.filter((r) => r.messageId === messageId)).toHaveLength(2);
  });
});
