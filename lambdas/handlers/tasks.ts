/**
 * Task consumer (what the Celery worker did): validates each SQS record with zod, runs it, and
 * reports the records that failed as `batchItemFailures` so only they are retried. A record that
 * can never succeed (bad JSON, unknown task) is reported as failed too: after the queue's max
 * receive count it lands in the DLQ, where it can be inspected and redriven, rather than vanish.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { greet } from '../domain/connections.js';
import { type Task, taskSchema } from '../domain/tasks.js';
import { buildTasksRoot } from '../roots/tasks.js';
import { lazy } from '../roots/wiring.js';
import { countFanoutStats, injectLambdaContext, logger } from './common/observability.js';
import type { Invocation } from './common/invocation.js';

/** Time kept in reserve before the function timeout: enough to enqueue a continuation. */
const DEADLINE_MARGIN_MS = 5_000;
/** Time a preview may take at most: a 40 MP JPEG decodes in about 15 s on one vCPU (scripts/preview-timing.ts). */
const PREVIEW_BUDGET_MS = 15_000;

const root = lazy(() => buildTasksRoot({ onFanoutStats: countFanoutStats }));

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

async function runTask(task: Task, deadline: number): Promise<void> {
  const wired = root();
  if (task.kind === 'greet') {
    await greet(wired.greeting, task);
    return;
  }
  if (task.kind === 'cutoff') {
    const outcome = await wired.cutOff(task);
    logger.info('cut-off', { room: task.room, user: task.user, connections: outcome.count });
    return;
  }
  if (task.kind === 'preview') {
    const outcome = await wired.previews.run(task);
    // A file that does not decode or is over the caps gets no preview: retrying would not change that.
    if (outcome === 'stored') logger.debug('preview', { messageId: task.messageId, outcome });
    else logger.info('no preview', { messageId: task.messageId, attachmentId: task.attachmentId, outcome });
    return;
  }
  if (task.kind === 'presence_check') {
    const outcome = await wired.presence.check(task);
    logger.info('presence check', { room: task.room, user: task.user, outcome });
    return;
  }
  // Metrics of the fan-out (delivered, stale, failed) are counted by the root's onFanoutStats hook.
  const stats = await wired.fanout.run(task, { deadline });
  // A part of a large fan-out that went cleanly is routine (a 10,000-member room has 100 of them):
  // its line is DEBUG; anything worth a look (stale, failed, throttled, split, continued) is INFO.
  const notable = task.audience.type !== 'connections' || stats.gone + stats.failed + stats.dropped + stats.throttled + stats.parts > 0 || stats.continued;
  if (notable) logger.info('fanout', { ...stats });
  else logger.debug('fanout', { ...stats });
}

export async function processBatch(event: SQSEvent, context?: Invocation): Promise<SQSBatchResponse> {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const deadline = Date.now() + Math.max(1_000, remaining - DEADLINE_MARGIN_MS);
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  // Two copies of one fan-out task (same key: a part enqueued again by a redelivered reader) in one
  // batch would both pass the ledger check before either is marked done: run the first only, and
  // let the copies share its outcome.
  const running = new Map<string, Promise<void>>();
  // Previews run one after another: a decoded photo takes up to ~160 MB, and ten at once would not
  // fit the function's memory. One that could not finish before the deadline is left for a retry.
  let previews: Promise<void> = Promise.resolve();
  const preview = (task: Task) => {
    const run = previews.then(() => {
      if (Date.now() + PREVIEW_BUDGET_MS > deadline) throw new Error('no time left for a preview in this invocation');
      return runTask(task, deadline);
    });
    previews = run.catch(() => undefined);
    return run;
  };
  await Promise.all(
    event.Records.map(async (record) => {
      const task = parseTask(record);
      if (!task) {
        logger.error('malformed task; it goes to the DLQ after its retries', { messageId: record.messageId });
        failures.push({ itemIdentifier: record.messageId });
        return;
      }
      try {
        if (task.kind === 'fanout') {
          let run = running.get(task.key);
          if (!run) {
            run = runTask(task, deadline);
            running.set(task.key, run);
          }
          await run;
        } else if (task.kind === 'preview') {
          await preview(task);
        } else {
          await runTask(task, deadline);
        }
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
