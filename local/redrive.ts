/**
 * Redrive: moves the messages of a dead-letter queue back to its source queue, so tasks that failed
 * every retry (and were fixed since) run again.
 *
 * On AWS (and emulators that have it) this is `StartMessageMoveTask`, which runs asynchronously in
 * SQS. fauxqs (the embedded emulator) does not implement it (it answers `InvalidAction`), so the
 * fallback moves the messages itself: receive from the DLQ, send the same body and attributes to the
 * source queue, then delete from the DLQ. That order is at-least-once: a crash between send and
 * delete leaves a copy in both queues, which the idempotent task consumers tolerate.
 *
 *   npx tsx local/redrive.ts <dlq-url> <source-queue-url> [--endpoint http://127.0.0.1:4566] [--copy]
 */
import { pathToFileURL } from 'node:url';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  sqs: SQSClient;
  dlqUrl: string;
  sourceQueueUrl: string;
  /** `auto` (default): StartMessageMoveTask where supported, else `copy`. */
  method?: 'auto' | 'move-task' | 'copy';
  /** Upper bound on messages moved by `copy` (default 10,000). */
  maxMessages?: number;
}

export interface RedriveResult {
  method: 'move-task' | 'copy';
  /** Messages moved (`copy`), or the number SQS reports to move (`move-task`, may be undefined). */
  moved: number | undefined;
  /** The move task's handle (`move-task`). */
  taskHandle?: string;
}

/** Errors by which an endpoint says it has no StartMessageMoveTask. */
const UNSUPPORTED = new Set(['InvalidAction', 'UnknownOperationException', 'UnsupportedOperation', 'NotImplemented']);

async function arnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`No QueueArn for ${queueUrl}`);
  return arn;
}

async function copyBack(options: RedriveOptions): Promise<number> {
  const { sqs, dlqUrl, sourceQueueUrl } = options;
  const max = options.maxMessages ?? 10_000;
  let moved = 0;
  while (moved < max) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      await sqs.send(new SendMessageCommand({ QueueUrl: sourceQueueUrl, MessageBody: message.Body ?? '', MessageAttributes: message.MessageAttributes }));
    }
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    if (deleted.Failed && deleted.Failed.length > 0) {
      throw new Error(`Redrive: ${deleted.Failed.length} messages were sent back but not deleted from the DLQ: ${deleted.Failed[0]!.Code}`);
    }
    moved += messages.length;
  }
  return moved;
}

export async function redriveDlq(options: RedriveOptions): Promise<RedriveResult> {
  const method = options.method ?? 'auto';
  if (method !== 'copy') {
    try {
      const [sourceArn, destinationArn] = await Promise.all([arnOf(options.sqs, options.dlqUrl), arnOf(options.sqs, options.sourceQueueUrl)]);
      const out = await options.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
      return { method: 'move-task', moved: undefined, ...(out.TaskHandle ? { taskHandle: out.TaskHandle } : {}) };
    } catch (error) {
      if (method === 'move-task' || !UNSUPPORTED.has((error as Error).name)) throw error;
    }
  }
  return { method: 'copy', moved: await copyBack(options) };
}

async function main(argv: string[]): Promise<void> {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const [dlqUrl, sourceQueueUrl] = positional.filter((a) => a !== flag('--endpoint'));
  if (!dlqUrl || !sourceQueueUrl) {
    console.error('usage: tsx local/redrive.ts <dlq-url> <source-queue-url> [--endpoint URL] [--copy]');
    process.exitCode = 2;
    return;
  }
  const endpoint = flag('--endpoint') ?? process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  const sqs = new SQSClient(endpoint ? { endpoint } : {});
  try {
    const result = await redriveDlq({ sqs, dlqUrl, sourceQueueUrl, method: argv.includes('--copy') ? 'copy' : 'auto' });
    console.log(JSON.stringify(result));
  } finally {
    sqs.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
