/**
 * Embedded AWS emulators on loopback (dynalite for DynamoDB, fauxqs for SQS) and provisioning of
 * the tables and queues from lambdas/shared/resources.ts, the same definitions the CDK stack uses.
 * Provisioning goes through the real AWS SDK, so it also works against LocalStack or AWS.
 */
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import { TASK_QUEUE_SETTINGS } from '../lambdas/shared/limits.js';
import { QUEUES, TABLES, type TableDefinition } from '../lambdas/shared/resources.js';

export interface EmulatorOptions {
  host?: string;
  /** Keep DynamoDB data on disk in this folder between runs (in memory when absent). */
  dataDir?: string;
}

export interface Emulators {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
}

/** Static credentials for the emulators: they accept any, but the SDK insists on some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const host = options.host ?? '127.0.0.1';
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dataDir ? { path: options.dataDir } : {}) });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(0, host, () => resolve());
  });
  const sqs = buildApp({ logger: false, host });
  await sqs.listen({ port: 0, host });
  const dynamoPort = (dynamo.address() as AddressInfo).port;
  const sqsPort = (sqs.server.address() as AddressInfo).port;
  return {
    dynamoEndpoint: `http://${host}:${dynamoPort}`,
    sqsEndpoint: `http://${host}:${sqsPort}`,
    async stop() {
      await Promise.all([
        new Promise<void>((resolve) => dynamo.close(() => resolve())),
        sqs.close().then(() => undefined),
      ]);
    },
  };
}

export interface ResourceEndpoints {
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  region?: string;
  /** Prefix for physical names, so several runs can share one LocalStack. */
  prefix?: string;
}

export interface ProvisionedResources {
  tables: Record<string, string>;
  queues: Record<string, { url: string; dlqUrl: string; arn: string }>;
  /** Environment variables the handlers read, keyed by the names in resources.ts. */
  env: Record<string, string>;
}

function tableInput(def: TableDefinition, name: string): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>();
  const add = (key?: { name: string; type: 'S' | 'N' }) => key && attributes.set(key.name, key.type);
  add(def.partitionKey);
  add(def.sortKey);
  for (const index of def.indexes) {
    add(index.partitionKey);
    add(index.sortKey);
  }
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  const input: CreateTableCommandInput = {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(def.partitionKey, def.sortKey),
  };
  if (def.indexes.length > 0) {
    input.GlobalSecondaryIndexes = def.indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: index.nonKeyAttributes },
    }));
  }
  return input;
}

/** Creates every table and queue (idempotent: existing ones are reused). */
export async function provisionResources(endpoints: ResourceEndpoints): Promise<ProvisionedResources> {
  const region = endpoints.region ?? LOCAL_REGION;
  const prefix = endpoints.prefix ?? 'chat-';
  const credentials = endpoints.dynamoEndpoint || endpoints.sqsEndpoint ? LOCAL_CREDENTIALS : undefined;
  const ddb = new DynamoDBClient({ region, endpoint: endpoints.dynamoEndpoint, credentials });
  const sqs = new SQSClient({ region, endpoint: endpoints.sqsEndpoint, credentials });
  const result: ProvisionedResources = { tables: {}, queues: {}, env: {} };
  try {
    for (const def of TABLES) {
      const name = prefix + def.id;
      try {
        await ddb.send(new CreateTableCommand(tableInput(def, name)));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
      for (let i = 0; i < 100; i++) {
        const out = await ddb.send(new DescribeTableCommand({ TableName: name }));
        if (out.Table?.TableStatus === 'ACTIVE') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      result.tables[def.id] = name;
      result.env[def.envVar] = name;
    }
    for (const def of QUEUES) {
      const dlqName = `${prefix}${def.id}-dlq`;
      const dlq = await sqs.send(
        new CreateQueueCommand({
          QueueName: dlqName,
          Attributes: { MessageRetentionPeriod: String(TASK_QUEUE_SETTINGS.dlqRetentionDays * 86_400) },
        }),
      );
      const dlqAttrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }));
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: prefix + def.id,
          Attributes: {
            VisibilityTimeout: String(TASK_QUEUE_SETTINGS.visibilityTimeoutSeconds),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqAttrs.Attributes?.QueueArn,
              maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
            }),
          },
        }),
      );
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }));
      result.queues[def.id] = { url: queue.QueueUrl!, dlqUrl: dlq.QueueUrl!, arn: attrs.Attributes?.QueueArn ?? '' };
      result.env[def.envVar] = queue.QueueUrl!;
    }
  } finally {
    ddb.destroy();
    sqs.destroy();
  }
  return result;
}
