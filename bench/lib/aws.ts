/** Embedded DynamoDB and SQS for the bench, and the environment a handler process gets for them. */
import { ENV } from '../../lambdas/shared/config.js';
import { CONNECTIONS_TABLE, MESSAGES_TABLE, TASK_QUEUE } from '../../lambdas/shared/resources.js';
import { type Emulators, LOCAL_CREDENTIALS, type ProvisionedResources, provisionResources, startEmulators } from '../../local/emulators.js';

export interface BenchAws {
  emulators: Emulators;
  resources: ProvisionedResources;
  connectionsTable: string;
  messagesTable: string;
  queueUrl: string;
  queueArn: string;
  /** The environment of a handler process (what the stack sets, pointed at the emulators). */
  handlerEnv(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export async function startAws(options: { prefix?: string; visibilityTimeoutSeconds?: number } = {}): Promise<BenchAws> {
  const emulators = await startEmulators({ host: '127.0.0.1' });
  const resources = await provisionResources({
    dynamoEndpoint: emulators.dynamoEndpoint,
    sqsEndpoint: emulators.sqsEndpoint,
    prefix: options.prefix ?? 'bench-',
    queueSettings: { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds },
  });
  const queue = resources.queues[TASK_QUEUE.id]!;
  return {
    emulators,
    resources,
    connectionsTable: resources.tables[CONNECTIONS_TABLE.id]!,
    messagesTable: resources.tables[MESSAGES_TABLE.id]!,
    queueUrl: queue.url,
    queueArn: queue.arn,
    handlerEnv(extra = {}) {
      return {
        ...resources.env,
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
        AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        [ENV.stage]: 'bench',
        AUTH_MODE: 'off',
        // The bench sends faster than a person: the rate limiter still runs, it just never says no.
        RATE_PER_CONNECTION: '1000000',
        RATE_PER_USER: '1000000',
        ...extra,
      };
    },
    stop: () => emulators.stop(),
  };
}
