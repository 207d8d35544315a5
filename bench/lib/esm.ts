/**
 * The SQS event source mapping of the task queue, for the bench: pollers long-poll the queue and
 * hand each batch to an idle "sandbox" (a host process running the tasks bundle), so several
 * invocations run at once, each in its own process, as Lambda runs them; then delete what did not
 * fail (ReportBatchItemFailures). It counts its own SQS requests (the mapping's, billed to the
 * account like any other) and the invocations with their durations.
 */
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TASK_QUEUE_SETTINGS } from '../../lambdas/shared/limits.js';
import { LOCAL_CREDENTIALS } from '../../local/emulators.js';
import { sqsEvent } from './events.js';
import type { Host, InvokeResult } from './host-client.js';

export interface EsmOptions {
  sqsEndpoint: string;
  queueUrl: string;
  queueArn: string;
  /** Sandboxes: at most this many invocations at once. */
  hosts: Host[];
  fn?: string;
  batchSize?: number;
  /** Concurrent pollers (Lambda starts with five). */
  pollers?: number;
  waitTimeSeconds?: number;
  onInvocation?: (result: InvokeResult, records: number) => void;
}

export interface EsmStats {
  invocations: number;
  records: number;
  failedRecords: number;
  receiveCalls: number;
  emptyReceives: number;
  deleteCalls: number;
  /** Records per invocation, in order. */
  batchSizes: number[];
}

export interface Esm {
  stats(): EsmStats;
  /** Resolves once no batch is in flight and the last `quietMs` saw no message. */
  idle(quietMs?: number, timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

export function startEsm(options: EsmOptions): Esm {
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
  const abort = new AbortController();
  const fn = options.fn ?? 'tasks';
  const free = [...options.hosts];
  const waitingForHost: Array<(host: Host) => void> = [];
  const stats: EsmStats = { invocations: 0, records: 0, failedRecords: 0, receiveCalls: 0, emptyReceives: 0, deleteCalls: 0, batchSizes: [] };
  let running = true;
  let inFlight = 0;
  let lastActivity = Date.now();

  const acquire = (): Promise<Host> => {
    const host = free.pop();
    if (host) return Promise.resolve(host);
    return new Promise((resolve) => waitingForHost.push(resolve));
  };
  const release = (host: Host) => {
    const next = waitingForHost.shift();
    if (next) next(host);
    else free.push(host);
  };

  const handleBatch = async (messages: Message[]) => {
    const host = await acquire();
    try {
      const event = sqsEvent(messages, options.queueArn);
      const result = await host.invoke(fn, event);
      stats.invocations++;
      stats.records += messages.length;
      stats.batchSizes.push(messages.length);
      options.onInvocation?.(result, messages.length);
      const failures = new Set(
        result.error ? messages.map((m) => m.MessageId!) : ((result.result as { batchItemFailures?: { itemIdentifier: string }[] })?.batchItemFailures ?? []).map((f) => f.itemIdentifier),
      );
      stats.failedRecords += failures.size;
      const done = messages.filter((m) => !failures.has(m.MessageId!));
      if (done.length > 0) {
        stats.deleteCalls++;
        await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
        );
      }
    } finally {
      lastActivity = Date.now();
      release(host);
    }
  };

  const poll = async () => {
    while (running) {
      // A poller only receives when a sandbox can take the batch (Lambda scales concurrency the
      // same way: a batch is never held waiting for a sandbox while its visibility timer runs).
      const host = await acquire();
      release(host);
      if (!running) break;
      try {
        stats.receiveCalls++;
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: Math.min(10, options.batchSize ?? TASK_QUEUE_SETTINGS.batchSize),
            WaitTimeSeconds: options.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) {
          stats.emptyReceives++;
          continue;
        }
        lastActivity = Date.now();
        inFlight++;
        handleBatch(messages)
          .catch(() => undefined)
          .finally(() => {
            inFlight--;
            lastActivity = Date.now();
          });
      } catch {
        if (!running) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const loops = Array.from({ length: Math.max(1, options.pollers ?? 5) }, () => poll());

  return {
    stats: () => ({ ...stats, batchSizes: [...stats.batchSizes] }),
    async idle(quietMs = 300, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (inFlight === 0 && Date.now() - lastActivity >= quietMs) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
    async stop() {
      running = false;
      abort.abort();
      for (const resolve of waitingForHost.splice(0)) resolve(options.hosts[0]!);
      await Promise.allSettled(loops);
      sqs.destroy();
    },
  };
}
