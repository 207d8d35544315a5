/** TaskQueue on SQS: one JSON message per task; several at once with SendMessageBatch. */
import { SendMessageBatchCommand, type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { TaskQueue } from '../domain/ports.js';
import type { Task } from '../domain/tasks.js';
import type { MethodPermissions } from '../shared/permissions.js';

/** SendMessageBatch is authorized by sqs:SendMessage (there is no separate batch action). */
export const TASK_QUEUE_PERMISSIONS: MethodPermissions<TaskQueue> = {
  send: [{ resource: 'queue/Tasks', actions: ['sqs:SendMessage'] }],
  sendBatch: [{ resource: 'queue/Tasks', actions: ['sqs:SendMessage'] }],
};

/** SendMessageBatch takes at most 10 entries and 256 KB in total. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

const attributesOf = (task: Task) => ({ kind: { DataType: 'String', StringValue: task.kind } });

export class SqsTaskQueue implements TaskQueue {
  constructor(
    /** The client, built on first use (many invocations send no task). */
    private readonly client: () => SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(task: Task, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.client().send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(task),
        MessageAttributes: attributesOf(task),
        ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}),
      }),
    );
  }

  /** Batches of up to 10 tasks within 256 KB; an entry SQS refuses is sent again on its own. */
  async sendBatch(tasks: Task[]): Promise<void> {
    let batch: { task: Task; body: string }[] = [];
    let bytes = 0;
    const flush = async () => {
      const entries = batch;
      batch = [];
      bytes = 0;
      if (entries.length === 1) return this.send(entries[0]!.task);
      const out = await this.client().send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map((e, i) => ({ Id: String(i), MessageBody: e.body, MessageAttributes: attributesOf(e.task) })),
        }),
      );
      for (const failed of out.Failed ?? []) {
        const entry = entries[Number(failed.Id)];
        if (!entry) throw new Error(`SendMessageBatch failed for an unknown entry: ${failed.Code}`);
        await this.send(entry.task);
      }
    };
    for (const task of tasks) {
      const body = JSON.stringify(task);
      const size = Buffer.byteLength(body) + 64;
      if (batch.length > 0 && (batch.length >= MAX_ENTRIES || bytes + size > MAX_BATCH_BYTES)) await flush();
      batch.push({ task, body });
      bytes += size;
    }
    if (batch.length > 0) await flush();
  }
}
