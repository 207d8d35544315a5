/**
 * AWS SDK clients, built once per cold start on first use (never at module load, so importing a
 * handler makes no network call and reads no config). `AWS_ENDPOINT_URL` (read by the SDK itself)
 * points DynamoDB and SQS at LocalStack or the embedded emulators.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Pluggable } from '@smithy/types';
import { LIMITS } from '../shared/limits.js';

/** A middleware plugin for any client (input and output types differ per client). */
export type ClientPlugin = Pluggable<object, object>;

/** Middleware every client gets (request counting, fault injection in tests); set before first use. */
const extraMiddleware: ClientPlugin[] = [];
export function addClientMiddleware(plugin: ClientPlugin): void {
  extraMiddleware.push(plugin);
}

let dynamo: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
const management = new Map<string, ApiGatewayManagementApiClient>();

const withPlugins = <T extends { middlewareStack: { use(p: never): void } }>(client: T): T => {
  for (const plugin of extraMiddleware) client.middlewareStack.use(plugin as never);
  return client;
};

export function dynamoClient(): DynamoDBDocumentClient {
  // No `cacheMiddleware` here: the document client refuses it.
  dynamo ??= DynamoDBDocumentClient.from(withPlugins(new DynamoDBClient({ maxAttempts: 4 })), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

/**
 * `cacheMiddleware`: the middleware stack is resolved once per command type instead of on every
 * call (plugins are added at construction, before the first call), which saves CPU on every
 * request; a fan-out spends most of its CPU in the SDK (bench/).
 */
export function sqsClient(): SQSClient {
  sqs ??= withPlugins(new SQSClient({ maxAttempts: 4, cacheMiddleware: true }));
  return sqs;
}

/**
 * Middleware a post does not need, removed from the management client (a fan-out's CPU is mostly
 * the SDK's per-request work, bench/post-cpu.ts): the user-agent headers (rebuilt and escaped on
 * every request; API Gateway ignores them), recursion detection (it forwards the Lambda trace id so
 * that Lambda can stop SQS/SNS loops; a post to a WebSocket client cannot start one) and the
 * logger middleware (no logger is configured).
 */
const UNUSED_ON_POSTS = ['getUserAgentMiddleware', 'recursionDetectionMiddleware', 'loggerMiddleware'];

/** One client per management endpoint (the stage's https callback URL). */
export function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  let client = management.get(endpoint);
  if (!client) {
    // Throttling is retried by the fan-out with its own backoff, so the SDK makes one attempt.
    // Keep-alive sockets, as many as the fan-out keeps posts in flight: the SDK's default agent
    // allows 50, which would queue the rest of a fan-out's posts behind them.
    const agent = { keepAlive: true, maxSockets: LIMITS.fanoutConcurrency };
    client = withPlugins(
      new ApiGatewayManagementApiClient({
        endpoint,
        maxAttempts: 1,
        cacheMiddleware: true,
        requestHandler: { httpAgent: agent, httpsAgent: agent },
      }),
    );
    for (const name of UNUSED_ON_POSTS) client.middlewareStack.remove(name);
    management.set(endpoint, client);
  }
  return client;
}

/** Forgets cached clients (tests that change endpoints between runs). */
export function resetClients(): void {
  dynamo = undefined;
  sqs = undefined;
  management.clear();
}
