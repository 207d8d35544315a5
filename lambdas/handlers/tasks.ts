/**
 * Task consumer (what the Celery worker did): validates each SQS record with zod, runs it, and
 * reports the records that failed as `batchItemFailures` so only they are retried. A record that
 * can never succeed (bad JSON, unknown task) is reported as failed too: after the queue's max
 * receive count it lands in the DLQ, where it can be inspected and redriven, rather than vanish.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { getContainer } from '../adapters/container.js';
import { type Task, taskSchema } from '../domain/tasks.js';
import { countMetrics, logger } from './common/observability.js';

/** Time kept in reserve before the function timeout: enough to enqueue a continuation. */
const DEADLINE_MARGIN_MS = 5_000;

export function parseTask(record: SQSRecord): Task | undefined {
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch {
    return undefined;
  }
  const parsed = taskSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

async function runTask(task: Task, record: SQSRecord, deadline: number): Promise<void> {
  const container = getContainer();
  const redelivered = Number(record.attributes?.ApproximateReceiveCount ?? '1') > 1;
  if (task.kind === 'greet') {
    await container.connections.greet(task);
    return;
  }
  const stats = await container.fanout.run(task, { deadline, redelivered });
  logger.info('fanout', { ...stats });
  countMetrics({ MessagesDelivered: stats.delivered, StaleConnectionsRemoved: stats.gone, DeliveryFailures: stats.failed });
}

export async function processBatch(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const deadline = Date.now() + Math.max(1_000, remaining - DEADLINE_MARGIN_MS);
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      const task = parseTask(record);
      if (!task) {
        logger.error('malformed task; it goes to the DLQ after its retries', { messageId: record.messageId });
        failures.push({ itemIdentifier: record.messageId });
        return;
      }
      try {
        await runTask(task, record, deadline);
      } catch (error) {
        logger.warn('task failed; it will be retried', { messageId: record.messageId, kind: task.kind, error: error as Error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}

export const handler = middy<SQSEvent, SQSBatchResponse>((event: SQSEvent, context: Context) => processBatch(event, context)).use(
  injectLambdaContext(logger),
);
