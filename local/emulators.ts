/**
 * Embedded AWS emulators on loopback (dynalite for DynamoDB, fauxqs for SQS) and provisioning of
 * the tables and queues from lambdas/shared/resources.ts, the same definitions the CDK stack uses.
 * Provisioning goes through the real AWS SDK, so it also works against LocalStack or AWS.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
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
  const sqs = buildApp({ logger: false, ...(await pathStyleQueueUrls(host)) });
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

/**
 * fauxqs names queues `http://sqs.<region>.<host>:<port>/<account>/<name>`. With host 127.0.0.1
 * that URL does not parse (WHATWG URL reads a numeric last label as IPv4), so the SDK's SQS client,
 * which tries the QueueUrl's host as its endpoint, warns with a stack trace on every call; with the
 * default host (`localhost`) it sends requests to `sqs.us-east-1.localhost`, which does not resolve.
 * Its store uses the request's own Host instead when its `host` is empty, which gives path-style
 * URLs (`http://127.0.0.1:<port>/000000000000/<name>`) on the client's endpoint, as LocalStack and
 * ElasticMQ hand out. fauxqs does not export its store classes, so they are loaded from its dist
 * folder (fauxqs is pinned to an exact version); if that ever fails, the `host` option is the fallback.
 */
async function pathStyleQueueUrls(host: string): Promise<Parameters<typeof buildApp>[0]> {
  try {
    const require = createRequire(import.meta.url);
    const dir = (require.resolve.paths('fauxqs') ?? [])
      .map((base) => path.join(base, 'fauxqs', 'dist'))
      .find((candidate) => existsSync(path.join(candidate, 'sqs', 'sqsStore.js')));
    if (!dir) throw new Error('fauxqs dist folder not found');
    const load = (file: string) => import(pathToFileURL(path.join(dir, file)).href);
    const [{ SqsStore }, { SnsStore }, { S3Store }] = await Promise.all([
      load('sqs/sqsStore.js'),
      load('sns/snsStore.js'),
      load('s3/s3Store.js'),
    ]);
    const sqsStore = new SqsStore();
    sqsStore.host = '';
    return { stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() } };
  } catch {
    return { host };
  }
}

export interface ResourceEndpoints {
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  region?: string;
  /** Prefix for physical names, so several runs can share one LocalStack. */
  prefix?: string;
  /** Overrides of TASK_QUEUE_SETTINGS (tests use a short visibility timeout and few receives). */
  queueSettings?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number };
  /** Explicit credentials; default: the static local ones when an endpoint is given, else the SDK's chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Enable DynamoDB TTL on the tables (LocalStack and AWS; dynalite has no TTL). */
  enableTtl?: boolean;
}

function isQueueExists(error: unknown): boolean {
  const name = (error as Error).name;
  return name === 'QueueNameExists' || name === 'QueueAlreadyExists';
}

export interface ProvisionedResources {
  tables: Record<string, string>;
  queues: Record<string, { url: string; dlqUrl: string; arn: string }>;
  /** Environment variables the handlers read, keyed by the names in resources.ts. */
  env: Record<string, string>;
  /** What could not be set up but does not stop a local run (e.g. TTL on an endpoint without it). */
  warnings: string[];
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
  const credentials = endpoints.credentials ?? (endpoints.dynamoEndpoint || endpoints.sqsEndpoint ? LOCAL_CREDENTIALS : undefined);
  const ddb = new DynamoDBClient({ region, endpoint: endpoints.dynamoEndpoint, credentials });
  const sqs = new SQSClient({ region, endpoint: endpoints.sqsEndpoint, credentials });
  const result: ProvisionedResources = { tables: {}, queues: {}, env: {}, warnings: [] };
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
      if (endpoints.enableTtl) {
        try {
          await ddb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true } }));
        } catch (error) {
          // Already enabled (ValidationException), or an endpoint without TTL: it only bounds
          // retention, so provisioning goes on and says so.
          if ((error as Error).name !== 'ValidationException') {
            result.warnings.push(`TTL not enabled on ${name}: ${(error as Error).name}: ${(error as Error).message}`);
          }
        }
      }
      result.tables[def.id] = name;
      result.env[def.envVar] = name;
    }
    const visibility = endpoints.queueSettings?.visibilityTimeoutSeconds ?? TASK_QUEUE_SETTINGS.visibilityTimeoutSeconds;
    const maxReceiveCount = endpoints.queueSettings?.maxReceiveCount ?? TASK_QUEUE_SETTINGS.maxReceiveCount;
    /** CreateQueue, or the existing queue with its attributes brought up to date (LocalStack reuse). */
    const ensureQueue = async (name: string, attributes: Record<string, string>) => {
      let url: string;
      try {
        url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
      } catch (error) {
        if (!isQueueExists(error)) throw error;
        url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
      }
      // CreateQueue keeps the attributes of a queue that already exists: set them explicitly.
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
      return { url, arn: attrs.Attributes?.QueueArn ?? '' };
    };
    for (const def of QUEUES) {
      const dlq = await ensureQueue(`${prefix}${def.id}-dlq`, {
        MessageRetentionPeriod: String(TASK_QUEUE_SETTINGS.dlqRetentionDays * 86_400),
      });
      const queue = await ensureQueue(prefix + def.id, {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
      });
      result.queues[def.id] = { url: queue.url, dlqUrl: dlq.url, arn: queue.arn };
      result.env[def.envVar] = queue.url;
    }
  } finally {
    ddb.destroy();
    sqs.destroy();
  }
  return result;
}
