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
  dynamo ??= DynamoDBDocumentClient.from(withPlugins(new DynamoDBClient({ maxAttempts: 4 })), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

export function sqsClient(): SQSClient {
  sqs ??= withPlugins(new SQSClient({ maxAttempts: 4 }));
  return sqs;
}

/** One client per management endpoint (the stage's https callback URL). */
export function managementClient(endpoint: string): ApiGatewayManagementApiClient {
  let client = management.get(endpoint);
  if (!client) {
    // Throttling is retried by the fan-out with its own backoff, so the SDK makes one attempt.
    client = withPlugins(new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 1 }));
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
