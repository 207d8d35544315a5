/**
 * SQS task queues, built from QUEUES in lambdas/shared/resources.ts, each with its own dead-letter
 * queue. Both are SQS-managed encrypted and deny non-TLS access (enforceSSL).
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TASK_QUEUE_SETTINGS } from '../../lambdas/shared/limits.js';
import { QUEUES, type QueueDefinition } from '../../lambdas/shared/resources.js';

export type QueueId = (typeof QUEUES)[number]['id'];

export interface TaskQueue {
  definition: QueueDefinition;
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
}

export class Queues extends Construct {
  /** Queues by their id in resources.ts (`Tasks`). */
  readonly queues: Record<QueueId, TaskQueue>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const queues: Partial<Record<QueueId, TaskQueue>> = {};
    for (const def of QUEUES) {
      const deadLetterQueue = new sqs.Queue(this, `${def.id}Dlq`, {
        retentionPeriod: Duration.days(TASK_QUEUE_SETTINGS.dlqRetentionDays),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new sqs.Queue(this, def.id, {
        visibilityTimeout: Duration.seconds(TASK_QUEUE_SETTINGS.visibilityTimeoutSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount },
      });
      queues[def.id as QueueId] = { definition: def, queue, deadLetterQueue };
    }
    this.queues = queues as Record<QueueId, TaskQueue>;
  }

  get all(): TaskQueue[] {
    return Object.values(this.queues);
  }
}
