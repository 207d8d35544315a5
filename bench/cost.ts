/**
 * 4. Cost. An instrumented run: the deployed bundles of ws-message and tasks (with
 * `addClientMiddleware` exported from the same module graph) in host processes that count every
 * AWS request by service and operation, with DynamoDB's consumed capacity, and time every
 * invocation; the task queue's event source mapping is played by this process and its SQS requests
 * are counted too; `@connections` (bench/lib/gateway.ts) meters API Gateway messages in 32 KB
 * units. One `send_text` to rooms of 1, 10, 100 and 1,000 members, turned into dollars per million
 * messages with the public us-east-1 prices (the AWS pricing pages of API Gateway, Lambda, DynamoDB, SQS), beside
 * - the floor: API Gateway message charges alone, 1 inbound frame + 1 route response (the
 *   sender's `message_received`) + (N - 1) PostToConnection, in 32 KB units;
 * - the Scan-per-message design of aws-samples/simple-websockets-chat-app, ported to the same SDK
 *   and run the same way (bench/lib/scan-sample.ts): one Scan of the connections table per message
 *   (eventually consistent, RCUs = table size / 4 KB), unbounded Promise.all of PostToConnection to
 *   every connection including the sender, no route response, 256 MB x86 as in its template.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { FUNCTIONS } from '../lambdas/shared/routes.js';
import { SystemLogLevel } from 'aws-cdk-lib/aws-lambda';
import { SYSTEM_LOG_LEVEL } from '../lib/constructs/chat-function.js';
import { LOCAL_CREDENTIALS } from '../local/emulators.js';
import { startAws } from './lib/aws.js';
import { handlerBundle } from './lib/bundles.js';
import { connectionId, sqsEvent, wsMessageEvent } from './lib/events.js';
import { startGateway } from './lib/gateway.js';
import type { AwsCall } from './lib/host-protocol.js';
import { type InvokeResult, startHost } from './lib/host-client.js';
import { scanSampleBundle } from './lib/scan-sample.js';
import { batchWrite, documentClient, seedRoom } from './lib/seed.js';
import { round } from './lib/stats.js';

/** Public us-east-1 prices (aws.amazon.com/api-gateway/pricing, /lambda/pricing, /dynamodb/pricing, /sqs/pricing), dollars. */
export const PRICES = {
  wsMessagePerMillion: 1.0,
  lambdaRequestsPerMillion: 0.2,
  /** Per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  lambdaX86GbSecond: 0.0000166667,
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  sqsPerMillion: 0.4,
  /** CloudWatch Logs ingestion, per GB. */
  logsPerGb: 0.5,
} as const;

/** Lambda gives a function vCPU in proportion to memory: one full vCPU at 1,769 MB. */
const MB_PER_VCPU = 1769;
/** START/END/REPORT lines Lambda writes per invocation at the default system log level (bytes, approximate). */
const PLATFORM_LOG_BYTES = 300;
/** This service's functions log Lambda's own lines at WARN and above only: none per normal invocation. */
const OUR_PLATFORM_LOG_BYTES = SYSTEM_LOG_LEVEL === SystemLogLevel.WARN ? 0 : PLATFORM_LOG_BYTES;
const platformLogBytes = (fn: string) => (fn in FUNCTIONS ? OUR_PLATFORM_LOG_BYTES : PLATFORM_LOG_BYTES);

export interface CostOptions {
  sizes?: number[];
  /** Measured messages per room size (after one warm-up message). */
  messages?: number;
  latencyMs?: number;
  /** Handler environment overrides (e.g. INLINE_FANOUT_MAX_MEMBERS=0: every fan-out through the queue). */
  handlerEnv?: Record<string, string>;
  /** Also run the Scan-per-message sample. */
  scanSample?: boolean;
}

export interface CostBreakdown {
  /** Per message: requests by "service.operation". */
  requests: Record<string, number>;
  dynamoReadUnits: number;
  dynamoWriteUnits: number;
  /** SQS requests in 64 KB chunks. */
  sqsRequests: number;
  lambdaInvocations: number;
  /** Billed ms per message: max(wall, CPU / vCPU share of the memory), rounded up per invocation. */
  lambdaBilledMs: number;
  lambdaGbSeconds: number;
  lambdaWallMs: number;
  lambdaCpuMs: number;
  apiGatewayMessages: number;
  logBytes: number;
  dollarsPerMillion: {
    apiGateway: number;
    lambda: number;
    dynamo: number;
    sqs: number;
    logs: number;
    total: number;
  };
}

export interface CostRow {
  members: number;
  design: string;
  perMessage: CostBreakdown;
  /** Floor: API Gateway message charges alone. */
  floorPerMillion: number;
  ratioToFloor: number;
}

export interface CostResult {
  prices: typeof PRICES;
  floorDefinition: string;
  rows: CostRow[];
  notes: string[];
}

const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);
const units32k = (bytes: number) => Math.max(1, Math.ceil(bytes / (32 * 1024)));

interface Tally {
  calls: AwsCall[];
  invocations: Array<{ fn: string; memoryMb: number; arch: 'arm64' | 'x86'; wallMs: number; cpuMs: number; logBytes: number }>;
  esmSqsRequests: Record<string, number>;
  apiGatewayMessages: number;
}

function emptyTally(): Tally {
  return { calls: [], invocations: [], esmSqsRequests: {}, apiGatewayMessages: 0 };
}

function breakdown(t: Tally, messages: number): CostBreakdown {
  const requests: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  let sqsChunks = 0;
  for (const c of t.calls) {
    const key = `${c.service}.${c.operation}`;
    requests[key] = (requests[key] ?? 0) + 1;
    if (c.service === 'DynamoDB') {
      const units = c.capacity ?? 1;
      if (READ_OPS.has(c.operation)) reads += units;
      else writes += units;
    }
    if (c.service === 'SQS') sqsChunks += Math.max(1, Math.ceil(c.bytes / (64 * 1024)));
  }
  for (const [op, n] of Object.entries(t.esmSqsRequests)) {
    requests[`SQS.${op} (event source)`] = (requests[`SQS.${op} (event source)`] ?? 0) + n;
    sqsChunks += n;
  }
  let billedMs = 0;
  let gbSeconds = 0;
  let lambdaDollars = 0;
  let wall = 0;
  let cpu = 0;
  let logBytes = 0;
  for (const inv of t.invocations) {
    const share = Math.min(1, inv.memoryMb / MB_PER_VCPU);
    const billed = Math.ceil(Math.max(inv.wallMs, inv.cpuMs / share));
    const gbs = (billed / 1000) * (inv.memoryMb / 1024);
    billedMs += billed;
    gbSeconds += gbs;
    wall += inv.wallMs;
    cpu += inv.cpuMs;
    logBytes += inv.logBytes + platformLogBytes(inv.fn);
    lambdaDollars += gbs * (inv.arch === 'arm64' ? PRICES.lambdaArmGbSecond : PRICES.lambdaX86GbSecond) + PRICES.lambdaRequestsPerMillion / 1e6;
  }
  const per = (x: number) => x / messages;
  const million = 1e6 / messages;
  const d = {
    apiGateway: t.apiGatewayMessages * PRICES.wsMessagePerMillion * (1 / messages),
    lambda: lambdaDollars * million,
    dynamo: ((reads * PRICES.dynamoReadPerMillion) / 1e6 + (writes * PRICES.dynamoWritePerMillion) / 1e6) * million,
    sqs: ((sqsChunks * PRICES.sqsPerMillion) / 1e6) * million,
    logs: ((logBytes / 1024 ** 3) * PRICES.logsPerGb) * million,
    total: 0,
  };
  d.total = d.apiGateway + d.lambda + d.dynamo + d.sqs + d.logs;
  const r = (x: number) => round(x, 4);
  return {
    requests: Object.fromEntries(Object.entries(requests).map(([k, v]) => [k, r(per(v))])),
    dynamoReadUnits: r(per(reads)),
    dynamoWriteUnits: r(per(writes)),
    sqsRequests: r(per(sqsChunks)),
    lambdaInvocations: r(per(t.invocations.length)),
    lambdaBilledMs: r(per(billedMs)),
    lambdaGbSeconds: round(per(gbSeconds), 6),
    lambdaWallMs: r(per(wall)),
    lambdaCpuMs: r(per(cpu)),
    apiGatewayMessages: r(per(t.apiGatewayMessages)),
    logBytes: round(per(logBytes), 0),
    dollarsPerMillion: {
      apiGateway: r(d.apiGateway),
      lambda: r(d.lambda),
      dynamo: r(d.dynamo),
      sqs: r(d.sqs),
      logs: r(d.logs),
      total: r(d.total),
    },
  };
}

export async function measureCost(options: CostOptions = {}): Promise<CostResult> {
  const sizes = options.sizes ?? [1, 10, 100, 1000];
  const messages = options.messages ?? 5;
  const aws = await startAws({ prefix: 'cost-' });
  const gateway = await startGateway({ latencyMs: options.latencyMs ?? 20 });
  const ddb = documentClient(aws.emulators.dynamoEndpoint);
  const sqs = new SQSClient({ endpoint: aws.emulators.sqsEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const [wsMessageBundle, tasksBundle] = await Promise.all([handlerBundle('wsMessage', { instrument: true }), handlerBundle('tasks', { instrument: true })]);
  const env = aws.handlerEnv({ WS_MANAGEMENT_ENDPOINT: gateway.url, ...options.handlerEnv });
  const host = await startHost({
    modules: { wsMessage: wsMessageBundle, tasks: tasksBundle },
    env,
    count: true,
    memory: { wsMessage: FUNCTIONS.wsMessage.memoryMb, tasks: FUNCTIONS.tasks.memoryMb },
    execArgv: process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/cost`] : [],
  });
  const rows: CostRow[] = [];
  const record = (t: Tally, fn: string, result: InvokeResult, memoryMb: number, arch: 'arm64' | 'x86') => {
    t.calls.push(...result.calls);
    t.invocations.push({ fn, memoryMb, arch, wallMs: result.wallMs, cpuMs: result.cpuMs, logBytes: result.logBytes });
  };

  /** The event source mapping: receive, invoke tasks, delete, until the queue stays empty. */
  const drain = async (t: Tally) => {
    let empty = 0;
    while (empty < 2) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
      const msgs: Message[] = out.Messages ?? [];
      if (msgs.length === 0) {
        empty++;
        await new Promise((r) => setTimeout(r, 30));
        continue;
      }
      empty = 0;
      t.esmSqsRequests.ReceiveMessage = (t.esmSqsRequests.ReceiveMessage ?? 0) + 1;
      const result = await host.invoke('tasks', sqsEvent(msgs, aws.queueArn));
      record(t, 'tasks', result, FUNCTIONS.tasks.memoryMb, 'arm64');
      const failed = new Set(((result.result as { batchItemFailures?: { itemIdentifier: string }[] })?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const done = msgs.filter((m) => !failed.has(m.MessageId!));
      if (done.length > 0) {
        t.esmSqsRequests.DeleteMessageBatch = (t.esmSqsRequests.DeleteMessageBatch ?? 0) + 1;
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: aws.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
    }
  };

  try {
    for (const n of sizes) {
      const room = `cost-${n}`;
      const members = await seedRoom(ddb, aws.connectionsTable, room, n);
      const sender = members[0]!;
      const floorPerMessage = (bytes: number) => 1 + 1 + (n - 1) * units32k(bytes);
      const t = emptyTally();
      for (let i = 0; i <= messages; i++) {
        const measured = i > 0;
        const tally = measured ? t : emptyTally();
        gateway.reset();
        const result = await host.invoke('wsMessage', wsMessageEvent(sender, 'send_text', { text: `cost message ${i} to a room of ${n}`, sender: 'bench' }));
        if (result.error) throw new Error(`ws-message failed: ${result.error}`);
        record(tally, 'wsMessage', result, FUNCTIONS.wsMessage.memoryMb, 'arm64');
        await drain(tally);
        const posted = gateway.stats();
        // 1 inbound frame + the route response + the PostToConnection messages, in 32 KB units.
        const reply = (result.result as { body?: string })?.body;
        tally.apiGatewayMessages += 1 + (reply ? units32k(Buffer.byteLength(reply)) : 0) + posted.deliveredUnits;
        if (posted.delivered !== n - 1) throw new Error(`cost run: ${posted.delivered} of ${n - 1} members got the message`);
      }
      const perMessage = breakdown(t, messages);
      const floor = floorPerMessage(200);
      rows.push({ members: n, design: 'this service', perMessage, floorPerMillion: floor, ratioToFloor: round(perMessage.dollarsPerMillion.total / floor, 3) });
    }
    if (options.scanSample !== false) rows.push(...(await scanSampleRows(aws, gateway, sizes, messages)));
  } finally {
    await host.stop();
    sqs.destroy();
    ddb.destroy();
    await gateway.stop();
    await aws.stop();
  }

  return {
    prices: PRICES,
    floorDefinition:
      'API Gateway message charges alone, per chat message to a room of N: 1 inbound frame + 1 route response (message_received to the sender) + (N - 1) PostToConnection, each in 32 KB units at $1.00 per million',
    rows,
    notes: [
      `Lambda billed duration per invocation = ceil(max(wall ms, CPU ms / vCPU share)), vCPU share = memory / ${MB_PER_VCPU} MB (Lambda allots CPU in proportion to memory); memory from FUNCTIONS, arm64 price`,
      'DynamoDB units are the consumed capacity DynamoDB (dynalite) reports for each request (ReturnConsumedCapacity TOTAL)',
      `SQS: every request in 64 KB chunks, including the event source mapping's ReceiveMessage and DeleteMessageBatch (its empty polls are a fixed cost per hour, not per message); CloudWatch Logs: handler output at $0.50/GB, plus ~${PLATFORM_LOG_BYTES} B of platform lines per invocation for the Scan design (this service's functions log Lambda's lines at WARN and above only)`,
      '@connections answers after the configured latency (20 ms by default), which the handlers wait for: it is part of the billed duration',
    ],
  };
}

async function scanSampleRows(aws: Awaited<ReturnType<typeof startAws>>, gateway: Awaited<ReturnType<typeof startGateway>>, sizes: number[], messages: number): Promise<CostRow[]> {
  const client = new DynamoDBClient({ endpoint: aws.emulators.dynamoEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const ddb = documentClient(aws.emulators.dynamoEndpoint);
  const rows: CostRow[] = [];
  try {
    for (const n of sizes) {
      const table = `sample-connections-${n}`;
      await client.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
        }),
      );
      const ids = Array.from({ length: n }, () => connectionId());
      await batchWrite(ddb, table, ids.map((connectionId) => ({ connectionId })));
      const host = await startHost({
        modules: { sendmessage: await scanSampleBundle() },
        env: { ...aws.handlerEnv(), TABLE_NAME: table },
        count: true,
        memory: { sendmessage: 256 },
      });
      try {
        const t = emptyTally();
        for (let i = 0; i <= messages; i++) {
          const tally = i > 0 ? t : emptyTally();
          gateway.reset();
          const endpoint = new URL(gateway.url);
          const event = {
            requestContext: { domainName: endpoint.host, stage: endpoint.pathname.slice(1), connectionId: ids[0], routeKey: 'sendmessage' },
            body: JSON.stringify({ action: 'sendmessage', data: `cost message ${i} to a room of ${n}` }),
          };
          const result = await host.invoke('sendmessage', event);
          tally.calls.push(...result.calls);
          tally.invocations.push({ fn: 'sendmessage', memoryMb: 256, arch: 'x86', wallMs: result.wallMs, cpuMs: result.cpuMs, logBytes: result.logBytes });
          // 1 inbound frame + a post to every connection (the sender included); no route response.
          tally.apiGatewayMessages += 1 + gateway.stats().deliveredUnits;
        }
        const perMessage = breakdown(t, messages);
        const floor = 1 + 1 + (n - 1);
        rows.push({ members: n, design: 'Scan per message (aws-samples)', perMessage, floorPerMillion: floor, ratioToFloor: round(perMessage.dollarsPerMillion.total / floor, 3) });
      } finally {
        await host.stop();
      }
    }
  } finally {
    client.destroy();
    ddb.destroy();
  }
  return rows;
}
