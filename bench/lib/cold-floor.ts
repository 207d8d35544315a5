/**
 * The SDK-clients floor of a function's cold start: a handler that imports and constructs the AWS
 * SDK clients the function's bundle holds and, on its first invocation, makes ONE call per client
 * to the same endpoints (the function's environment), so that the SDK's own first-call costs
 * (credentials, endpoint rules, signing, sockets) are in the floor too. A call's AWS error (a
 * missing item, a gone connection) still went over the wire: it is caught, not a failure.
 */
import { AUTH_ENV } from '../../lambdas/auth/settings.js';
import { ENV } from '../../lambdas/shared/config.js';
import { CONNECTIONS_TABLE, MEDIA_BUCKET, TASK_QUEUE } from '../../lambdas/shared/resources.js';

export interface ClientSpec {
  label: string;
  /** Import lines, the construction expression and the first call (`c` is the client). */
  imports: string;
  construct: string;
  call: string;
}

const env = (name: string) => `process.env[${JSON.stringify(name)}]`;

/** Which SDK clients a bundle holds, from its esbuild inputs. */
export function clientsOf(inputs: string[]): ClientSpec[] {
  const has = (fragment: string) => inputs.some((i) => i.includes(fragment));
  const specs: ClientSpec[] = [];
  if (has('node_modules/@aws-sdk/client-dynamodb/')) {
    const doc = has('node_modules/@aws-sdk/lib-dynamodb/');
    const key = CONNECTIONS_TABLE.partitionKey.name;
    specs.push({
      label: doc ? 'DynamoDB (document client)' : 'DynamoDB',
      imports: doc
        ? "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';"
        : "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';",
      construct: doc ? 'DynamoDBDocumentClient.from(new DynamoDBClient({}))' : 'new DynamoDBClient({})',
      call: doc
        ? `c.send(new GetCommand({ TableName: ${env(CONNECTIONS_TABLE.envVar)}, Key: { ${key}: 'floor' } }))`
        : `c.send(new GetItemCommand({ TableName: ${env(CONNECTIONS_TABLE.envVar)}, Key: { ${key}: { S: 'floor' } } }))`,
    });
  }
  if (has('node_modules/@aws-sdk/client-sqs/')) {
    specs.push({
      label: 'SQS',
      imports: "import { SQSClient, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';",
      construct: 'new SQSClient({})',
      call: `c.send(new GetQueueAttributesCommand({ QueueUrl: ${env(TASK_QUEUE.envVar)}, AttributeNames: ['ApproximateNumberOfMessages'] }))`,
    });
  }
  if (has('node_modules/@aws-sdk/client-apigatewaymanagementapi/')) {
    specs.push({
      label: '@connections',
      imports: "import { ApiGatewayManagementApiClient, GetConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';",
      construct: `new ApiGatewayManagementApiClient({ endpoint: ${env(ENV.wsManagementEndpoint)} ?? 'https://example.execute-api.us-east-1.amazonaws.com/prod' })`,
      call: "c.send(new GetConnectionCommand({ ConnectionId: 'floor=' }))",
    });
  }
  if (has('node_modules/@aws-sdk/client-ssm/')) {
    specs.push({
      label: 'SSM (GetParameter)',
      imports: "import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';",
      construct: 'new SSMClient({})',
      call: `c.send(new GetParameterCommand({ Name: ${env(AUTH_ENV.secretParameter)} ?? '/floor', WithDecryption: true }))`,
    });
  }
  if (has('node_modules/@aws-sdk/client-s3/')) {
    specs.push({
      label: 'S3',
      imports: "import { S3Client, HeadObjectCommand } from '@aws-sdk/client-s3';",
      construct: 'new S3Client({})',
      call: `c.send(new HeadObjectCommand({ Bucket: ${env(MEDIA_BUCKET.envVar)} ?? 'floor', Key: 'floor' }))`,
    });
  }
  return specs;
}

/** The floor handler's source (bundled with the function's own esbuild options). */
export function floorSource(specs: ClientSpec[]): string {
  return [
    ...specs.map((s) => s.imports),
    `const clients = [${specs.map((s) => s.construct).join(', ')}];`,
    `const calls = [${specs.map((s, i) => `() => { const c = clients[${i}]; return ${s.call}; }`).join(', ')}];`,
    'let first = true;',
    'export const handler = async () => {',
    '  if (first) {',
    '    first = false;',
    '    for (const call of calls) await call().catch(() => undefined);',
    '  }',
    '  return { statusCode: 200, body: String(clients.length) };',
    '};',
    '',
  ].join('\n');
}
