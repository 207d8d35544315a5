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
  dynamo ??= DynamoDBDocumentClient.from(withPlugins(without(UNUSED_EVERYWHERE, new DynamoDBClient({ maxAttempts: 4 }))), {
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
  sqs ??= withPlugins(without(UNUSED_EVERYWHERE, new SQSClient({ maxAttempts: 4, cacheMiddleware: true })));
  return sqs;
}

/**
 * Middleware no request of ours needs, removed from the DynamoDB and SQS clients (the message path's
 * CPU is mostly the SDK's per-request work, bench/): the user-agent headers, rebuilt and escaped on
 * every request for AWS's own statistics, and the logger middleware (no logger is configured).
 * Recursion detection stays on SQS: it forwards the Lambda trace id that lets Lambda stop an
 * SQS → Lambda → SQS loop.
 */
const UNUSED_EVERYWHERE = ['getUserAgentMiddleware', 'loggerMiddleware'];

/**
 * The management client (a fan-out's posts) also drops recursion detection: a post to a WebSocket
 * client cannot start a loop (bench/post-cpu.ts measures what the three cost).
 */
const UNUSED_ON_POSTS = [...UNUSED_EVERYWHERE, 'recursionDetectionMiddleware'];

const without = <T extends { middlewareStack: { remove(name: string): boolean } }>(names: readonly string[], client: T): T => {
  for (const name of names) client.middlewareStack.remove(name);
  return client;
};

/** One client per management endpoint (the stage's https callback URL). */
export function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  let client = management.get(endpoint);
  if (!client) {
    // Throttling is retried by the fan-out with its own backoff, so the SDK makes one attempt.
    // Keep-alive sockets, as many as the fan-out keeps posts in flight: the SDK's default agent
    // allows 50, which would queue the rest of a fan-out's posts behind them.
    const agent = { keepAlive: true, maxSockets: LIMITS.fanoutConcurrency };
    client = withPlugins(
      without(
        UNUSED_ON_POSTS,
        new ApiGatewayManagementApiClient({
          endpoint,
          maxAttempts: 1,
          cacheMiddleware: true,
          requestHandler: { httpAgent: agent, httpsAgent: agent },
        }),
      ),
    );
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
