/**
 * The SQS event source on its own, against the embedded SQS emulator, with stub handlers: record
 * shape, partial batch failures, and the whole-batch failure cases of Lambda's event source mapping.
 */
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, LOCAL_CREDENTIALS, LOCAL_REGION, type ProvisionedResources, provisionResources, startEmulators } from '../../local/emulators.js';
import { type EventSource, type RecordOutcome, startEventSource } from '../../local/event-source.js';
import type { AnyHandler } from '../../local/lambda.js';
import { silentLogger } from '../../local/log.js';
import { waitForEvent } from './helpers.js';

let emulators: Emulators;
let resources: ProvisionedResources;
let sqs: SQSClient;
let source: EventSource | undefined;
let prefixCounter = 0;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  emulators = await startEmulators();
  sqs = new SQSClient({ region: LOCAL_REGION, endpoint: emulators.sqsEndpoint, credentials: LOCAL_CREDENTIALS });
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
});

afterAll(async () => {
  sqs?.destroy();
  await emulators?.stop();
});

/** A fresh queue per test (own prefix), messages sent before the source starts: one batch. */
async function run(bodies: string[], handler: AnyHandler) {
  resources = await provisionResources({
    dynamoEndpoint: emulators.dynamoEndpoint,
    sqsEndpoint: emulators.sqsEndpoint,
    prefix: `es${++prefixCounter}-`,
    queueSettings: { visibilityTimeoutSeconds: 1, maxReceiveCount: 5 },
  });
  const queue = resources.queues.Tasks!;
  if (bodies.length > 0) await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: bodies.map((body, i) => ({
        Id: String(i),
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      })),
    }),
  );
  const outcomes: RecordOutcome[] = [];
  const events: SQSEvent[] = [];
  source = startEventSource({
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: LOCAL_REGION,
    endpoint: emulators.sqsEndpoint,
    credentials: LOCAL_CREDENTIALS,
    fn: 'tasks',
    handler: async (event: SQSEvent, context) => {
      events.push(event);
      return handler(event, context);
    },
    pollers: 1,
    logger: silentLogger,
  });
  source.on('record', (r) => outcomes.push(r));
  const until = (predicate: (r: RecordOutcome) => boolean, what: string) => {
    const seen = outcomes.find(predicate);
    if (seen) return Promise.resolve(seen);
    return waitForEvent<RecordOutcome>(
      (l) => {
        source!.on('record', l);
        return () => source!.off('record', l);
      },
      predicate,
      10_000,
      what,
    );
  };
  return { outcomes, events, until, queue };
}

describe('SQS event source', () => {
  it('builds Lambda SQS records and deletes what succeeded', async () => {
    const { events, until, queue } = await run(['a', 'b'], async () => ({ batchItemFailures: [] }));
    await until((r) => r.body === 'b', 'b');
    await until((r) => r.body === 'a', 'a');
    const record = events[0]!.Records[0]!;
    expect(record).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: expect.any(String),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: LOCAL_REGION,
      md5OfBody: expect.any(String),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.any(String), SenderId: expect.any(String) },
      messageAttributes: { kind: { stringValue: 'test', dataType: 'String', stringListValues: [], binaryListValues: [] } },
    });
  });

  it('retries only the records listed in batchItemFailures', async () => {
    const { outcomes, until } = await run(['ok', 'fail-once'], async (event: SQSEvent) => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'fail-once' && r.attributes.ApproximateReceiveCount === '1').map((r) => ({
        itemIdentifier: r.messageId,
      })),
    }));
    const retried = await until((r) => r.body === 'fail-once' && r.outcome === 'deleted', 'the retry');
    expect(retried.receiveCount).toBe(2);
    expect(outcomes.filter((r) => r.body === 'ok').map((r) => r.outcome)).toEqual(['deleted']);
  });

  it('retries the whole batch when the handler throws', async () => {
    let calls = 0;
    const { outcomes, until } = await run(['x', 'y'], async () => {
      calls++;
      if (calls === 1) throw new Error('crash');
      return { batchItemFailures: [] };
    });
    await until((r) => r.body === 'x' && r.outcome === 'deleted', 'x deleted');
    await until((r) => r.body === 'y' && r.outcome === 'deleted', 'y deleted');
    expect(outcomes.filter((r) => r.outcome === 'failed').map((r) => r.body).sort()).toEqual(['x', 'y']);
  });

  it('retries the whole batch when batchItemFailures names an unknown record', async () => {
    let calls = 0;
    const { outcomes, until } = await run(['p', 'q'], async () => {
      calls++;
      return { batchItemFailures: calls === 1 ? [{ itemIdentifier: 'not-in-this-batch' }] : [] };
    });
    await until((r) => r.body === 'p' && r.outcome === 'deleted', 'p deleted');
    await until((r) => r.body === 'q' && r.outcome === 'deleted', 'q deleted');
    expect(outcomes.filter((r) => r.outcome === 'failed')).toHaveLength(2);
  });

  it('stops promptly while long-polling', async () => {
    await run([], async () => ({ batchItemFailures: [] }));
    const started = Date.now();
    await source!.stop();
    source = undefined;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
