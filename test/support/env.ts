/**
 * Test environment of the handler tests: every function of the synthesized template in its own
 * sandbox (local/functions.ts: the runtime's function table, IAM gates and sandboxes, without the
 * public endpoints), with exactly its template environment, on embedded DynamoDB (dynalite) and SQS
 * (fauxqs) provisioned from the shared resource definitions, and a recording `@connections`
 * endpoint behind the execute-api gate. Another configuration is another template:
 * `startTestEnv({ context: {...} })`, CDK context as `cdk.json` or `-c` would give it.
 *
 * Also: builders of the real event shapes the handlers receive (HTTP API v2.0, WebSocket
 * CONNECT/MESSAGE/DISCONNECT, SQS from messages actually received from the queue, Function URL),
 * `invokeFunction()` (an invocation of a function's sandbox) and `drainTasks()`, which plays the SQS
 * event source mapping.
 */
import { randomUUID } from 'node:crypto';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StreamItem } from '../../lambdas/domain/model.js';
import type { WsEvent } from '../../lambdas/handlers/common/ws-event.js';
import { CONNECTIONS_TABLE, MESSAGES_TABLE, TASK_QUEUE } from '../../lambdas/shared/resources.js';
import { type FunctionName, HTTP_ROUTES, WS_ACTIONS } from '../../lambdas/shared/routes.js';
import { devTokenIssuer, type DevTokenIssuer } from '../../local/authorizers.js';
import { functionBundles } from '../../local/bundles.js';
import {
  type Emulators,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type ProvisionedResources,
  provisionResources,
  startEmulators,
} from '../../local/emulators.js';
import type { FunctionTable } from '../../local/function-table.js';
import { type FunctionPlane, startFunctionPlane } from '../../local/functions.js';
import type { FaultInjector } from '../../local/iam-gate.js';
import { LOCAL_ACCOUNT } from '../../local/lambda.js';
import { silentLogger } from '../../local/log.js';
import { startSsmEmulator } from '../../local/ssm-emulator.js';
import type { LocalResponseStream } from '../../local/streaming-shim.js';
import { loadFunctionTemplate } from '../../local/template.js';
import { RecordingGateway } from './recording-gateway.js';
import type { StreamCapture } from './stream-capture.js';

export const ACCOUNT_ID = LOCAL_ACCOUNT;
/** The SSE function's Function URL in these tests: nothing serves it, the tests invoke the function. */
const FUNCTION_URL = 'https://localsse0001.lambda-url.us-east-1.on.aws/';
/** WS_URL of the SSE relay when a test gives no WebSocket API stand-in (a closed port). */
const NO_WEBSOCKET_API = 'ws://127.0.0.1:9';
const WS_DOMAIN = 'wsapi0001.execute-api.us-east-1.amazonaws.com';
const WS_STAGE = 'dev';

/** Low rate limits over a window far longer than any test: counts cannot reset midway. */
export const LOW_RATE_LIMITS = { rateWindowSeconds: 1_000_000_000, ratePerConnection: 3, ratePerUser: 100 } as const;

export interface TestEnvOptions {
  /** CDK context overrides: the functions run the template synthesized with them. */
  context?: Record<string, unknown>;
  /** Auth as deployed (tokens verified, identities from the authorizers); default off (AUTH_MODE=off). */
  auth?: boolean;
  /** Base URL standing for the WebSocket API (the SSE function's relay connects there). */
  webSocketBase?: string;
}

export interface DrainOptions {
  /**
   * What to do with records the handler reports in `batchItemFailures`:
   * - `throw` (default): fail the test, the failure was not expected;
   * - `collect`: delete them and return them (as if they went to the DLQ);
   * - `redeliver`: make them visible again at once, so the next round receives them again with a
   *   higher ApproximateReceiveCount (SQS retry after the visibility timeout).
   */
  onFailure?: 'throw' | 'collect' | 'redeliver';
  /** Upper bound on receive/process rounds. */
  maxRounds?: number;
}

export interface DrainResult {
  /** Every record handed to the handler, in order. */
  processed: SQSRecord[];
  /** Records the handler reported as failed. */
  failed: SQSRecord[];
  rounds: number;
}

export interface TestEnv {
  emulators: Emulators;
  gateway: RecordingGateway;
  resources: ProvisionedResources;
  tables: { connections: string; messages: string };
  queue: { url: string; dlqUrl: string; arn: string };
  /** The resolved function table the sandboxes run (environment, role, timeout). */
  functions: FunctionTable;
  /** With auth on: signs tokens the functions accept. */
  tokens?: DevTokenIssuer;
  /** Test-side clients on the emulators and the recording gateway (not the functions' own). */
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  management: ApiGatewayManagementApiClient;
  /** Invokes a function's sandbox with an event, as Lambda does; resolves to its (JSON) result. */
  invoke(fn: FunctionName, event: unknown): Promise<unknown>;
  /** A RESPONSE_STREAM invocation of the SSE function: its bytes go to `stream`. */
  invokeStreaming(fn: FunctionName, event: unknown, stream: StreamCapture): Promise<void>;
  /** Shortens a function's timeout (what happens at its deadline); returns the restore. */
  setFunctionTimeout(fn: FunctionName, ms: number): () => void;
  /** Faults answered at the IAM gates as real HTTP errors (undefined clears them). */
  injectFaults(injector: FaultInjector | undefined): void;
  /** Receives up to `max` messages from the task queue as Lambda SQS records. */
  receiveRecords(max?: number, queueUrl?: string): Promise<SQSRecord[]>;
  /** Invokes the tasks function with these records (one batch); resolves to its batch response. */
  processRecords(records: SQSRecord[]): Promise<SQSBatchResponse>;
  /** Runs the task function until the queue is empty; deletes succeeded records. */
  drainTasks(options?: DrainOptions): Promise<DrainResult>;
  /** Sends a raw message body to the task queue (malformed-task tests). */
  sendRaw(body: string): Promise<string>;
  /** Makes a received record visible again (SQS redelivery). */
  release(record: SQSRecord): Promise<void>;
  deleteRecords(records: SQSRecord[]): Promise<void>;
  /** Empties both tables, the queues and the gateway's recordings. */
  resetData(): Promise<void>;
  /** Items of a stream (`room#<room>` or `global`), oldest first. */
  streamItems(stream: string): Promise<StreamItem[]>;
  /** Stored messages/broadcasts/events in every stream (task ledger entries excluded). */
  allStoredItems(): Promise<Record<string, unknown>[]>;
  connectionItem(connectionId: string): Promise<Record<string, unknown> | undefined>;
  /** Moves a connection's `connectedAt` back in time (a connection open for a while). */
  ageConnection(connectionId: string, ageMs: number): Promise<void>;
  /** Connection ids of a room, read through the byRoom index. */
  roomMembers(room: string): Promise<string[]>;
  allConnections(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/** The environments started and not stopped yet; the helpers of invoke.ts use the latest. */
const started: TestEnv[] = [];

export function currentEnv(): TestEnv {
  const env = started.at(-1);
  if (!env) throw new Error('No test environment: call startTestEnv() in beforeAll');
  return env;
}

/** Invokes a function of the current test environment. */
export function invokeFunction(fn: FunctionName, event: unknown): Promise<unknown> {
  return currentEnv().invoke(fn, event);
}

export async function startTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn();
    cleanups.length = 0;
  };
  let plane: FunctionPlane;
  let gateway: RecordingGateway;
  let emulators: Emulators;
  let resources: ProvisionedResources;
  const tokens = options.auth ? devTokenIssuer() : undefined;
  try {
    const [template, bundles, emu] = await Promise.all([loadFunctionTemplate(options.context), functionBundles(), startEmulators()]);
    emulators = emu;
    cleanups.push(() => emu.stop());
    resources = await provisionResources({
      dynamoEndpoint: emulators.dynamoEndpoint,
      sqsEndpoint: emulators.sqsEndpoint,
      prefix: `test-${process.pid}-`,
    });
    const ssm = await startSsmEmulator({ region: LOCAL_REGION, account: LOCAL_ACCOUNT, logger: silentLogger });
    cleanups.push(() => ssm.stop());
    gateway = await RecordingGateway.start({ stage: template.resources.webSocketStage });
    const gw = gateway;
    cleanups.push(() => gw.close());
    plane = await startFunctionPlane({
      template,
      bundles,
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT,
      resources,
      dynamoEndpoint: emulators.dynamoEndpoint,
      sqsEndpoint: emulators.sqsEndpoint,
      ssm,
      managementBase: new URL(gateway.endpoint).origin,
      wsBase: options.webSocketBase ?? NO_WEBSOCKET_API,
      functionUrl: FUNCTION_URL,
      resourcePrefix: `test-${process.pid}-`,
      authSecret: tokens?.secret,
      quiet: !process.env.TEST_LOG_LEVEL,
      logLevel: process.env.TEST_LOG_LEVEL,
      logger: silentLogger,
    });
    const p = plane;
    cleanups.push(() => p.stop());
  } catch (error) {
    await cleanup();
    throw error;
  }
  const queueDef = resources.queues[TASK_QUEUE.id]!;
  const tables = { connections: resources.tables[CONNECTIONS_TABLE.id]!, messages: resources.tables[MESSAGES_TABLE.id]! };
  const eventSourceArn = Object.values(plane.functions).flatMap((fn) => fn.eventSources)[0]?.eventSourceArn ?? queueDef.arn;

  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: LOCAL_REGION, endpoint: emulators.dynamoEndpoint, credentials: LOCAL_CREDENTIALS }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const sqs = new SQSClient({
    region: LOCAL_REGION,
    endpoint: emulators.sqsEndpoint,
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  // One attempt, as the functions' client makes (the fan-out retries with its own backoff).
  const management = new ApiGatewayManagementApiClient({ region: LOCAL_REGION, endpoint: gateway.endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });

  const toRecord = (m: Message): SQSRecord => {
    const attrs = m.Attributes ?? {};
    const messageAttributes: SQSRecord['messageAttributes'] = {};
    for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        dataType: value.DataType ?? 'String',
        stringValue: value.StringValue,
        binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      };
    }
    return {
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: {
        ...attrs,
        ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
        SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
        SenderId: attrs.SenderId ?? ACCOUNT_ID,
        ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes,
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: eventSourceArn,
      awsRegion: LOCAL_REGION,
    };
  };

  const receiveRecords = async (max = 10, queueUrl = queueDef.url): Promise<SQSRecord[]> => {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return (out.Messages ?? []).map(toRecord);
  };

  const deleteRecords = async (records: SQSRecord[]) => {
    for (let i = 0; i < records.length; i += 10) {
      const batch = records.slice(i, i + 10);
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueDef.url,
          Entries: batch.map((r, n) => ({ Id: String(n), ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (out.Failed && out.Failed.length > 0) throw new Error(`DeleteMessageBatch failed: ${JSON.stringify(out.Failed)}`);
    }
  };

  const release = async (record: SQSRecord) => {
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: queueDef.url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }),
    );
  };

  const processRecords = async (records: SQSRecord[]): Promise<SQSBatchResponse> => {
    const event: SQSEvent = { Records: records };
    return (await plane.sandboxes.tasks.invoke(event)) as SQSBatchResponse;
  };

  const drainTasks = async (options: DrainOptions = {}): Promise<DrainResult> => {
    const onFailure = options.onFailure ?? 'throw';
    const maxRounds = options.maxRounds ?? 100;
    const result: DrainResult = { processed: [], failed: [], rounds: 0 };
    while (result.rounds < maxRounds) {
      const records = await receiveRecords(10);
      if (records.length === 0) return result;
      result.rounds++;
      result.processed.push(...records);
      const response = await processRecords(records);
      const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const failed = records.filter((r) => failedIds.has(r.messageId));
      await deleteRecords(records.filter((r) => !failedIds.has(r.messageId)));
      if (failed.length === 0) continue;
      result.failed.push(...failed);
      if (onFailure === 'throw') {
        await deleteRecords(failed);
        throw new Error(`Tasks failed unexpectedly: ${failed.map((r) => r.body.slice(0, 300)).join('\n')}`);
      }
      if (onFailure === 'collect') await deleteRecords(failed);
      else for (const record of failed) await release(record);
    }
    throw new Error(`drainTasks: the queue was not empty after ${maxRounds} rounds`);
  };

  const scanAll = async (table: string) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  };

  const clearTable = async (table: string, keys: string[]) => {
    const items = await scanAll(table);
    for (let i = 0; i < items.length; i += 25) {
      const chunk = items.slice(i, i + 25);
      await ddb.send(
        new BatchWriteCommand({
          RequestItems: {
            [table]: chunk.map((item) => ({ DeleteRequest: { Key: Object.fromEntries(keys.map((k) => [k, item[k]])) } })),
          },
        }),
      );
    }
  };

  const env: TestEnv = {
    emulators,
    gateway,
    resources,
    tables,
    queue: queueDef,
    functions: plane.functions,
    ...(tokens ? { tokens } : {}),
    ddb,
    sqs,
    management,
    invoke: (fn, event) => plane.sandboxes[fn].invoke(event),
    // The sandbox writes the metadata and bytes to the capture as to the Function URL's stream.
    invokeStreaming: (fn, event, stream) => plane.sandboxes[fn].invokeStreaming(event, stream as unknown as LocalResponseStream),
    setFunctionTimeout: (fn, ms) => plane.setFunctionTimeout(fn, ms),
    injectFaults: (injector) => plane.injectFaults(injector),
    receiveRecords,
    processRecords,
    drainTasks,
    release,
    deleteRecords,
    async sendRaw(body: string) {
      const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueDef.url, MessageBody: body }));
      return out.MessageId!;
    },
    async resetData() {
      await clearTable(tables.connections, ['pk']);
      await clearTable(tables.messages, ['stream', 'id']);
      await sqs.send(new PurgeQueueCommand({ QueueUrl: queueDef.url }));
      await sqs.send(new PurgeQueueCommand({ QueueUrl: queueDef.dlqUrl }));
      gateway.reset();
    },
    async streamItems(stream: string) {
      const out = await ddb.send(
        new QueryCommand({
          TableName: tables.messages,
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'stream' },
          ExpressionAttributeValues: { ':s': stream },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((row) => row.body as StreamItem);
    },
    async allStoredItems() {
      return (await scanAll(tables.messages)).filter((row) => !String(row.stream).startsWith('task#'));
    },
    async connectionItem(connectionId: string) {
      const out = await ddb.send(new GetCommand({ TableName: tables.connections, Key: { pk: connectionId }, ConsistentRead: true }));
      return out.Item;
    },
    async ageConnection(connectionId: string, ageMs: number) {
      await ddb.send(
        new UpdateCommand({
          TableName: tables.connections,
          Key: { pk: connectionId },
          UpdateExpression: 'SET connectedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': new Date(Date.now() - ageMs).toISOString() },
        }),
      );
    },
    async roomMembers(room: string) {
      const out = await ddb.send(
        new QueryCommand({
          TableName: tables.connections,
          IndexName: 'byRoom',
          KeyConditionExpression: 'room = :r',
          ExpressionAttributeValues: { ':r': room },
        }),
      );
      return (out.Items ?? []).map((row) => row.pk as string).sort();
    },
    allConnections: () => scanAll(tables.connections),
    async stop() {
      const at = started.indexOf(env);
      if (at !== -1) started.splice(at, 1);
      ddb.destroy();
      sqs.destroy();
      management.destroy();
      await cleanup();
    },
  };
  started.push(env);
  return env;
}

function queryParameters(url: URL): Record<string, string> | undefined {
  if ([...url.searchParams.keys()].length === 0) return undefined;
  // HTTP APIs join repeated query parameters with a comma.
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) params[key] = key in params ? `${params[key]},${value}` : value;
  return params;
}

function requestTime(now: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(now.getUTCDate())}/${months[now.getUTCMonth()]}/${now.getUTCFullYear()}:${pad(now.getUTCHours())}:${pad(
    now.getUTCMinutes(),
  )}:${pad(now.getUTCSeconds())} +0000`;
}

export interface HttpEventInit {
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the body base64-encoded with isBase64Encoded (as API Gateway does for binary types). */
  base64?: boolean;
}

interface V2EventOptions {
  domainName: string;
  apiId: string;
  routeKey: string;
  stage: string;
}

function v2Event(method: string, target: string, init: HttpEventInit, options: V2EventOptions): APIGatewayProxyEventV2 {
  const url = new URL(target, `https://${options.domainName}`);
  const now = new Date();
  const rawBody = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const headers: Record<string, string> = {
    accept: '*/*',
    host: options.domainName,
    'user-agent': 'vitest/handler-tests',
    'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    'x-forwarded-for': '127.0.0.1',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    ...(rawBody !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(rawBody)) } : {}),
  };
  for (const [key, value] of Object.entries(init.headers ?? {})) headers[key.toLowerCase()] = value;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: options.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: options.apiId,
      domainName: options.domainName,
      domainPrefix: options.domainName.split('.')[0]!,
      http: {
        method: method.toUpperCase(),
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent']!,
      },
      requestId: randomUUID(),
      routeKey: options.routeKey,
      stage: options.stage,
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  const query = queryParameters(url);
  if (query) event.queryStringParameters = query;
  if (rawBody !== undefined) {
    event.body = init.base64 ? Buffer.from(rawBody, 'utf8').toString('base64') : rawBody;
    event.isBase64Encoded = init.base64 === true;
  }
  return event;
}

/** An HTTP API (payload format 2.0) event, `$default` stage. */
export function httpEvent(method: string, target: string, init: HttpEventInit = {}): APIGatewayProxyEventV2 {
  const path = new URL(target, 'https://x').pathname;
  const route = HTTP_ROUTES.find((r) => r.path === path && r.method === method.toUpperCase());
  return v2Event(method, target, init, {
    domainName: 'httpapi001.execute-api.us-east-1.amazonaws.com',
    apiId: 'httpapi001',
    routeKey: route ? `${route.method} ${route.path}` : '$default',
    stage: '$default',
  });
}

/** A Lambda Function URL event (also payload format 2.0; route key `$default`). */
export function functionUrlEvent(method: string, target: string, init: HttpEventInit = {}): APIGatewayProxyEventV2 {
  return v2Event(method, target, init, {
    domainName: new URL(FUNCTION_URL).host,
    apiId: new URL(FUNCTION_URL).host.split('.')[0]!,
    routeKey: '$default',
    stage: '$default',
  });
}

type WsEventShape = WsEvent & Record<string, unknown>;
type WsRequestContext = WsEvent['requestContext'] & Record<string, unknown>;

function wsRequestContext(connectionId: string, routeKey: string, eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT') {
  const now = new Date();
  return {
    routeKey,
    eventType,
    extendedRequestId: randomUUID(),
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: WS_STAGE,
    connectedAt: now.getTime(),
    requestTimeEpoch: now.getTime(),
    identity: { sourceIp: '127.0.0.1', userAgent: 'vitest/handler-tests' },
    requestId: randomUUID(),
    domainName: WS_DOMAIN,
    connectionId,
    apiId: WS_DOMAIN.split('.')[0]!,
  };
}

/** `$connect` event: query string as API Gateway passes it, optional authorizer context. */
export function wsConnectEvent(
  connectionId: string,
  options: { query?: Record<string, string>; authorizer?: Record<string, unknown> } = {},
): WsEventShape {
  const headers = {
    Host: WS_DOMAIN,
    'Sec-WebSocket-Key': Buffer.from(randomUUID()).toString('base64').slice(0, 24),
    'Sec-WebSocket-Version': '13',
    'X-Forwarded-For': '127.0.0.1',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
  };
  const query = options.query && Object.keys(options.query).length > 0 ? options.query : undefined;
  const requestContext: WsRequestContext = wsRequestContext(connectionId, '$connect', 'CONNECT');
  if (options.authorizer) requestContext.authorizer = options.authorizer;
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    ...(query
      ? {
          queryStringParameters: query,
          multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
        }
      : {}),
    requestContext,
    isBase64Encoded: false,
  };
}

/**
 * A MESSAGE event: route selection on `$request.body.action` as API Gateway does it (an action
 * with a route of its own, else `$default`). A string body is sent as is (invalid frames).
 */
export function wsMessageEvent(connectionId: string, body: unknown): WsEventShape {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  let routeKey = '$default';
  try {
    const action = (JSON.parse(raw) as { action?: unknown }).action;
    if (typeof action === 'string' && (WS_ACTIONS as readonly string[]).includes(action)) routeKey = action;
  } catch {
    // Not JSON: API Gateway routes it to $default.
  }
  const requestContext: WsRequestContext = { ...wsRequestContext(connectionId, routeKey, 'MESSAGE'), messageId: randomUUID().slice(0, 12) };
  return {
    requestContext,
    body: raw,
    isBase64Encoded: false,
  };
}

export function wsDisconnectEvent(connectionId: string): WsEventShape {
  const headers = { Host: WS_DOMAIN, 'x-api-key': '', 'x-restapi': '' };
  const requestContext: WsRequestContext = {
    ...wsRequestContext(connectionId, '$disconnect', 'DISCONNECT'),
    disconnectStatusCode: 1001,
    disconnectReason: 'Going away',
  };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    requestContext,
    isBase64Encoded: false,
  };
}

/** A connection id shaped like API Gateway's (base64-ish, often ending in `=`). */
export function connectionId(tag = ''): string {
  const random = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64').slice(0, 14);
  return `${tag}${random.replace(/[+/]/g, 'x')}=`;
}
