/** TaskQueue on SQS: one JSON message per task. */
import { type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { TaskQueue } from '../domain/ports.js';
import type { Task } from '../domain/tasks.js';

export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(task: Task): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(task),
        MessageAttributes: { kind: { DataType: 'String', StringValue: task.kind } },
      }),
    );
  }
}
