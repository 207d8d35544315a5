/**
 * Test environment of the handler tests: embedded DynamoDB (dynalite) and SQS (fauxqs) on loopback,
 * provisioned from the shared resource definitions, plus a recording `@connections` endpoint. It
 * points the handlers at them through the very environment variables the stack sets, and gives
 * fresh SDK clients and wiring to every test file.
 *
 * Also: builders of the real event shapes the handlers receive (HTTP API v2.0, WebSocket
 * CONNECT/MESSAGE/DISCONNECT, SQS from messages actually received from the queue, Function URL),
 * a fake Lambda context, and `drainTasks()`, which plays the SQS event source mapping.
 */
import './quiet.js';
import { randomUUID } from 'node:crypto';
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
import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoClient, managementClient, resetClients, sqsClient } from '../../lambdas/adapters/clients.js';
import { resetRoots } from '../../lambdas/roots/wiring.js';
import type { StreamItem } from '../../lambdas/domain/model.js';
import type { WsEvent } from '../../lambdas/handlers/common/ws-event.js';
import { processBatch } from '../../lambdas/handlers/tasks.js';
import { ENV } from '../../lambdas/shared/config.js';
import { CONNECTIONS_TABLE, MESSAGES_TABLE, TASK_QUEUE } from '../../lambdas/shared/resources.js';
import { HTTP_ROUTES, WS_ACTIONS } from '../../lambdas/shared/routes.js';
import {
  type Emulators,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type ProvisionedResources,
  provisionResources,
  startEmulators,
} from '../../local/emulators.js';
import { RecordingGateway } from './recording-gateway.js';

export const SSE_URL = 'https://abcdefghijklmnop.lambda-url.us-east-1.on.aws/api/events';
export const ACCOUNT_ID = '123456789012';
const WS_DOMAIN = 'wsapi0001.execute-api.us-east-1.amazonaws.com';
const WS_STAGE = 'dev';

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
  /** Test-side clients (separate from the handlers' own). */
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Receives up to `max` messages from the task queue as Lambda SQS records. */
  receiveRecords(max?: number, queueUrl?: string): Promise<SQSRecord[]>;
  /** Runs the task handler until the queue is empty; deletes succeeded records. */
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

const ENV_KEYS = [
  ENV.connectionsTable,
  ENV.messagesTable,
  ENV.taskQueueUrl,
  ENV.wsManagementEndpoint,
  ENV.sseUrl,
  ENV.stage,
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_EC2_METADATA_DISABLED',
  'AUTH_MODE',
] as const;

/** Drops the handlers' cached clients (closing their sockets) and wiring. */
function freshWiring(): void {
  resetRoots();
  resetClients();
}

function destroyHandlerClients(endpoint: string): void {
  // Building a client opens no connection, so asking for one just to destroy it is harmless.
  dynamoClient().destroy();
  sqsClient().destroy();
  managementClient(endpoint).destroy();
}

export async function startTestEnv(): Promise<TestEnv> {
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  const emulators = await startEmulators();
  const gateway = await RecordingGateway.start({ stage: WS_STAGE });
  const resources = await provisionResources({
    dynamoEndpoint: emulators.dynamoEndpoint,
    sqsEndpoint: emulators.sqsEndpoint,
    prefix: `test-${process.pid}-`,
  });
  const queueDef = resources.queues[TASK_QUEUE.id]!;
  const tables = { connections: resources.tables[CONNECTIONS_TABLE.id]!, messages: resources.tables[MESSAGES_TABLE.id]! };

  for (const key of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL'] as const) delete process.env[key];
  Object.assign(process.env, resources.env, {
    [ENV.wsManagementEndpoint]: gateway.endpoint,
    [ENV.sseUrl]: SSE_URL,
    [ENV.stage]: WS_STAGE,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    // The handlers refuse every call without AUTH_MODE; these tests opt out explicitly.
    AUTH_MODE: 'off',
  });
  freshWiring();

  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: LOCAL_REGION, endpoint: emulators.dynamoEndpoint, credentials: LOCAL_CREDENTIALS }),
  );
  const sqs = new SQSClient({
    region: LOCAL_REGION,
    endpoint: emulators.sqsEndpoint,
    credentials: LOCAL_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });

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
      eventSourceARN: queueDef.arn,
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

  const drainTasks = async (options: DrainOptions = {}): Promise<DrainResult> => {
    const onFailure = options.onFailure ?? 'throw';
    const maxRounds = options.maxRounds ?? 100;
    const result: DrainResult = { processed: [], failed: [], rounds: 0 };
    while (result.rounds < maxRounds) {
      const records = await receiveRecords(10);
      if (records.length === 0) return result;
      result.rounds++;
      result.processed.push(...records);
      const event: SQSEvent = { Records: records };
      const response: SQSBatchResponse = await processBatch(event, fakeContext({ functionName: 'tasks', timeoutMs: 60_000 }));
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
    ddb,
    sqs,
    receiveRecords,
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
      destroyHandlerClients(gateway.endpoint);
      freshWiring();
      ddb.destroy();
      sqs.destroy();
      await gateway.close();
      await emulators.stop();
      for (const key of ENV_KEYS) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    },
  };
  return env;
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export function fakeContext(options: { functionName?: string; timeoutMs?: number } = {}): Context {
  const name = options.functionName ?? 'chat-test-fn';
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${ACCOUNT_ID}:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `2025/01/01/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
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
    domainName: new URL(SSE_URL).host,
    apiId: new URL(SSE_URL).host.split('.')[0]!,
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
