/**
 * SQS event source mapping, as Lambda runs it for the task queue (lib/constructs/queues.ts):
 * a few pollers long-poll the queue through the real SQS client, hand each batch (up to
 * TASK_QUEUE_SETTINGS.batchSize) to the handler as an SQS event, and then
 * - delete the records not listed in `batchItemFailures` (ReportBatchItemFailures),
 * - leave the failed ones alone: they reappear after the queue's visibility timeout, with a
 *   higher ApproximateReceiveCount, and SQS moves them to the DLQ after maxReceiveCount receives
 *   (the queue's redrive policy, provisioned by local/emulators.ts);
 * - treat a handler that throws or times out, or a response naming an unknown record, as a failure
 *   of the whole batch.
 */
import { EventEmitter } from 'node:events';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { TASK_QUEUE_SETTINGS } from '../lambdas/shared/limits.js';
import type { FunctionName } from '../lambdas/shared/routes.js';
import { type AnyHandler, invoke } from './lambda.js';
import type { RuntimeLogger } from './log.js';

export interface EventSourceOptions {
  queueUrl: string;
  queueArn: string;
  region: string;
  /** SQS endpoint (embedded emulator or LocalStack); the default AWS endpoint when absent. */
  endpoint?: string;
  /** The poller's credentials: on AWS the mapping polls with the function's execution role. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  fn: FunctionName;
  /** FunctionResponseTypes has ReportBatchItemFailures (default true); without it the response is ignored. */
  reportBatchItemFailures?: boolean;
  handler: AnyHandler;
  batchSize?: number;
  /** Concurrent pollers (Lambda starts with a few and scales; 2 by default here). */
  pollers?: number;
  /** Long-poll wait; short so that stop() is quick (the receive is also aborted). */
  waitTimeSeconds?: number;
  logger: RuntimeLogger;
}

/** What happened to one record; emitted as `record` events (tests observe retries with them). */
export interface RecordOutcome {
  messageId: string;
  receiveCount: number;
  body: string;
  outcome: 'deleted' | 'failed';
}

export interface EventSource extends EventEmitter<{ record: [RecordOutcome]; batch: [{ size: number; failed: number }] }> {
  stop(): Promise<void>;
}

export function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((v) => Buffer.from(v).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  const record: SQSRecord = {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  for (const key of ['MessageGroupId', 'MessageDeduplicationId', 'SequenceNumber', 'AWSTraceHeader'] as const) {
    if (attributes[key] !== undefined) (record.attributes as unknown as Record<string, string>)[key] = attributes[key]!;
  }
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

export function startEventSource(options: EventSourceOptions): EventSource {
  const { logger } = options;
  const emitter = new EventEmitter() as EventSource;
  const sqs = new SQSClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: 3 });
  const abort = new AbortController();
  const batchSize = Math.min(10, options.batchSize ?? TASK_QUEUE_SETTINGS.batchSize);
  const pollerCount = Math.max(1, options.pollers ?? 2);
  let running = true;

  const receiveInput: ReceiveMessageCommandInput = {
    QueueUrl: options.queueUrl,
    MaxNumberOfMessages: batchSize,
    WaitTimeSeconds: options.waitTimeSeconds ?? 1,
    MessageSystemAttributeNames: ['All'],
    MessageAttributeNames: ['All'],
  };

  const processBatch = async (messages: Message[]) => {
    const records = messages.map((m) => toRecord(m, options.queueArn, options.region));
    const event: SQSEvent = { Records: records };
    let failedIds: Set<string>;
    try {
      const result = (await invoke(options.fn, options.handler, event)) as { batchItemFailures?: Array<{ itemIdentifier?: string }> } | undefined;
      const failures = options.reportBatchItemFailures === false ? [] : (result?.batchItemFailures ?? []);
      const known = new Set(records.map((r) => r.messageId));
      // An identifier that is empty or not in the batch fails the whole batch, as in Lambda.
      if (failures.some((f) => !f.itemIdentifier || !known.has(f.itemIdentifier))) failedIds = known;
      else failedIds = new Set(failures.map((f) => f.itemIdentifier!));
    } catch (error) {
      logger.info(`${options.fn}: invocation failed, the whole batch of ${records.length} is retried: ${(error as Error).message}`);
      failedIds = new Set(records.map((r) => r.messageId));
    }
    const done = records.filter((r) => !failedIds.has(r.messageId));
    if (done.length > 0) {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      for (const failed of out.Failed ?? []) logger.error(`DeleteMessageBatch failed for an entry: ${failed.Code} ${failed.Message}`);
    }
    if (failedIds.size > 0) logger.info(`${options.fn}: ${failedIds.size} of ${records.length} records failed; SQS redelivers them after the visibility timeout`);
    for (const record of records) {
      emitter.emit('record', {
        messageId: record.messageId,
        receiveCount: Number(record.attributes.ApproximateReceiveCount),
        body: record.body,
        outcome: failedIds.has(record.messageId) ? 'failed' : 'deleted',
      });
    }
    emitter.emit('batch', { size: records.length, failed: failedIds.size });
  };

  const poll = async () => {
    let backoff = 100;
    while (running) {
      try {
        const out = await sqs.send(new ReceiveMessageCommand(receiveInput), { abortSignal: abort.signal });
        backoff = 100;
        if (out.Messages && out.Messages.length > 0) await processBatch(out.Messages);
      } catch (error) {
        if (!running) break;
        logger.error(`${options.fn}: polling ${options.queueUrl} failed; retrying in ${backoff} ms`, error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  };

  const loops = Array.from({ length: pollerCount }, () => poll());

  emitter.stop = async () => {
    running = false;
    abort.abort();
    // Batches in flight finish (their handler is awaited); pollers waiting on SQS return at once.
    await Promise.allSettled(loops);
    sqs.destroy();
  };
  return emitter;
}
