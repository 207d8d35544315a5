/**
 * 2. Fan-out design. One message to a room of N connections through the real path: a fan-out task
 * on the task queue (SQS, fauxqs), the event source mapping handing batches to parallel sandboxes
 * (host processes running the deployed tasks bundle), and `@connections` through the real SDK
 * client against an endpoint that answers after a latency and throttles at the account rate
 * (bench/lib/gateway.ts, in a process of its own). Connection records are written to dynalite with
 * BatchWriteItem. Reports the time from enqueueing the task to the last delivery, its ratio to the
 * limit N / rate, and checks: every connection exactly once, and no connection that saw a 429
 * left without the message.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '../local/emulators.js';
import { startAws } from './lib/aws.js';
import { handlerBundle } from './lib/bundles.js';
import { startEsm } from './lib/esm.js';
import { startGatewayProcess } from './lib/gateway-process.js';
import { type Host, startHost } from './lib/host-client.js';
import { documentClient, seedRoom } from './lib/seed.js';
import { round, sleep } from './lib/stats.js';

export interface FanoutOptions {
  sizes?: number[];
  latencyMs?: number;
  ratePerSecond?: number;
  burst?: number;
  /** Concurrent task invocations (sandboxes). */
  sandboxes?: number;
  pollers?: number;
  timeoutMs?: number;
  /** Handler environment overrides (e.g. to measure another design in the same run). */
  handlerEnv?: Record<string, string>;
}

export interface FanoutRun {
  n: number;
  /** Enqueue → last delivery. */
  ms: number;
  /** N / rate. */
  limitMs: number;
  ratio: number;
  firstDeliveryMs: number;
  delivered: number;
  lost: number;
  duplicates: number;
  throttled429: number;
  throttledNeverDelivered: number;
  invocations: number;
  records: number;
  failedRecords: number;
  /** CPU time of the sandboxes (all invocations), ms per delivery. */
  cpuMsPerDelivery: number;
  /** Deliveries per 100 ms from the first one. */
  timeline: number[];
  ok: boolean;
}

export interface FanoutResult {
  latencyMs: number;
  ratePerSecond: number;
  burst: number;
  sandboxes: number;
  pollers: number;
  cores: number;
  runs: FanoutRun[];
}

const EVENT = {
  event: 'message',
  data: {
    id: '01JBENCHFANOUT00000000000000',
    type: 'text',
    content: 'Hello everyone, this is one message to the whole room.',
    sender: 'bench',
    room: 'fan',
    timestamp: new Date(0).toISOString(),
  },
};

export async function measureFanout(options: FanoutOptions = {}): Promise<FanoutResult> {
  const { availableParallelism } = await import('node:os');
  const sizes = options.sizes ?? [100, 1000, 10_000];
  const latencyMs = options.latencyMs ?? 20;
  const rate = options.ratePerSecond ?? 10_000;
  const burst = options.burst ?? rate / 10;
  const sandboxes = options.sandboxes ?? 4;
  const pollers = options.pollers ?? 5;

  const aws = await startAws({ prefix: 'fan-', visibilityTimeoutSeconds: 60 });
  const gateway = await startGatewayProcess({ latencyMs, ratePerSecond: rate, burst });
  const ddb = documentClient(aws.emulators.dynamoEndpoint);
  const sqs = new SQSClient({ endpoint: aws.emulators.sqsEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const bundle = await handlerBundle('tasks');
  const hosts: Host[] = [];
  const runs: FanoutRun[] = [];
  let cpuMs = 0;
  try {
    const env = aws.handlerEnv({ WS_MANAGEMENT_ENDPOINT: gateway.url, ...options.handlerEnv });
    const profile = (i: number) => (process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/sandbox-${i}`] : []);
    hosts.push(...(await Promise.all(Array.from({ length: sandboxes }, (_, i) => startHost({ modules: { tasks: bundle }, env, memory: { tasks: 512 }, execArgv: profile(i) })))));
    const esm = startEsm({
      sqsEndpoint: aws.emulators.sqsEndpoint,
      queueUrl: aws.queueUrl,
      queueArn: aws.queueArn,
      hosts,
      pollers,
      onInvocation: (result) => {
        cpuMs += result.cpuMs;
      },
    });
    const enqueue = (room: string, key: string) =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl: aws.queueUrl,
          MessageBody: JSON.stringify({ kind: 'fanout', key, audience: { type: 'room', room }, event: { ...EVENT, data: { ...EVENT.data, room } } }),
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'fanout' } },
        }),
      );
    try {
      for (const n of sizes) await seedRoom(ddb, aws.connectionsTable, `fan-${n}`, n);
      // Warm every sandbox (Lambda keeps warm sandboxes around a busy function).
      await seedRoom(ddb, aws.connectionsTable, 'fan-warm', 300);
      await Promise.all(Array.from({ length: sandboxes * 2 }, (_, i) => enqueue('fan-warm', `warm-${i}`)));
      await esm.idle(300, 60_000);

      for (const n of sizes) {
        await gateway.reset();
        const before = esm.stats();
        cpuMs = 0;
        const t0 = performance.timeOrigin + performance.now();
        await enqueue(`fan-${n}`, `bench-${n}-${Date.now()}`);
        const deadline = Date.now() + (options.timeoutMs ?? 60_000);
        let stats = await gateway.stats();
        while (stats.delivered < n && Date.now() < deadline) {
          await sleep(25);
          stats = await gateway.stats();
        }
        await esm.idle(300, 30_000);
        stats = await gateway.stats();
        const after = esm.stats();
        const ms = (stats.lastDeliveryAt ?? Number.NaN) - t0;
        const limitMs = (n / rate) * 1000;
        const run: FanoutRun = {
          n,
          ms: round(ms, 0),
          limitMs: round(limitMs, 0),
          ratio: round(ms / limitMs, 2),
          firstDeliveryMs: round((stats.firstDeliveryAt ?? Number.NaN) - t0, 0),
          delivered: stats.delivered,
          lost: n - stats.delivered,
          duplicates: stats.duplicates,
          throttled429: stats.statuses['429'] ?? 0,
          throttledNeverDelivered: stats.throttledNeverDelivered,
          invocations: after.invocations - before.invocations,
          records: after.records - before.records,
          failedRecords: after.failedRecords - before.failedRecords,
          cpuMsPerDelivery: round(cpuMs / Math.max(1, stats.delivered), 3),
          timeline: stats.timeline,
          ok: stats.delivered === n && stats.duplicates === 0 && stats.throttledNeverDelivered === 0,
        };
        runs.push(run);
      }
    } finally {
      await esm.stop();
    }
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    sqs.destroy();
    ddb.destroy();
    await gateway.stop();
    await aws.stop();
  }
  return { latencyMs, ratePerSecond: rate, burst, sandboxes, pollers, cores: availableParallelism(), runs };
}
