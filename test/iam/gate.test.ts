/**
 * The IAM gates in front of DynamoDB, SQS, SSM and @connections: a function's call outside its role
 * fails with the SDK's real AccessDeniedException, worded as the service words it; a call inside it
 * goes through and is recorded with the statement that allowed it; callers the gate does not know
 * and requests it cannot map are denied (fail closed).
 */
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsFor } from '../../local/iam-gate.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';

let rt: Runtime;
const clients: Array<{ destroy(): void }> = [];

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true, logger: { info() {}, error() {} } });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await rt?.stop();
});

function as<T extends { destroy(): void }>(client: T): T {
  clients.push(client);
  return client;
}

const sessionArn = (fn: keyof Runtime['functions']) =>
  `arn:aws:sts::000000000000:assumed-role/${rt.functions[fn].roleName}/${rt.functions[fn].functionName}`;

function dynamo(fn: keyof Runtime['functions']) {
  const base = as(new DynamoDBClient({ region: rt.region, endpoint: rt.sandboxEndpoints.AWS_ENDPOINT_URL_DYNAMODB, credentials: credentialsFor(rt.functions[fn]), maxAttempts: 1 }));
  return DynamoDBDocumentClient.from(base);
}

describe('IAM gates', () => {
  it('denies the SSE role a write to a table with the SDK AccessDeniedException, worded as DynamoDB words it', async () => {
    const table = rt.functions.sse.environment.CONNECTIONS_TABLE!;
    const error = await dynamo('sse')
      .send(new PutCommand({ TableName: table, Item: { pk: 'x' } }))
      .then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    expect(error?.name).toBe('AccessDeniedException');
    expect(error?.$metadata?.httpStatusCode).toBe(400);
    expect(error?.message).toBe(
      `User: ${sessionArn('sse')} is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${table} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    expect(rt.iam.decisions()).toContainEqual({ fn: 'sse', action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`, allowed: false });
  });

  it('lets the SSE role read its table, and records the statement that allowed it', async () => {
    const table = rt.functions.sse.environment.MESSAGES_TABLE!;
    const out = await dynamo('sse').send(
      new QueryCommand({ TableName: table, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': 'room#none' } }),
    );
    expect(out.Items).toEqual([]);
    const allowed = rt.iam.decisions().find((d) => d.fn === 'sse' && d.action === 'dynamodb:Query');
    expect(allowed?.allowed).toBe(true);
    expect(allowed?.statement).toMatch(/^SseFnRoleDefaultPolicy\w+#\d+$/);
  });

  it('denies an SQS send outside the role as SQS does (JSON protocol, query-compatible error code)', async () => {
    const sqs = as(new SQSClient({ region: rt.region, endpoint: rt.sandboxEndpoints.AWS_ENDPOINT_URL_SQS, credentials: credentialsFor(rt.functions.sse), maxAttempts: 1 }));
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: rt.functions.http.environment.TASK_QUEUE_URL!, MessageBody: '{}' }))
      .then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('AccessDenied');
    expect(error?.message).toContain(`User: ${sessionArn('sse')} is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:`);
  });

  it('denies @connections to a function without ManageConnections (403, AccessDeniedException)', async () => {
    const endpoint = rt.functions.wsMessage.environment.WS_MANAGEMENT_ENDPOINT!;
    const client = as(new ApiGatewayManagementApiClient({ region: rt.region, endpoint, credentials: credentialsFor(rt.functions.wsConnect), maxAttempts: 1 }));
    const error = await client
      .send(new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.from('{}') }))
      .then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    expect(error?.name).toBe('AccessDeniedException');
    expect(error?.$metadata?.httpStatusCode).toBe(403);
    expect(error?.message).toMatch(/is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:000000000000:localwsapi\/dev\/POST\/@connections\/abc=/);
  });

  it('lets the wsMessage role post (then the connection is simply gone: 410)', async () => {
    const endpoint = rt.functions.wsMessage.environment.WS_MANAGEMENT_ENDPOINT!;
    const client = as(new ApiGatewayManagementApiClient({ region: rt.region, endpoint, credentials: credentialsFor(rt.functions.wsMessage), maxAttempts: 1 }));
    const error = await client.send(new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.from('{}') })).then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('GoneException');
  });

  it('reads the token secret through SSM only with the grant', async () => {
    const name = rt.functions.authorizer.environment.AUTH_SECRET_PARAMETER!;
    const ssm = (fn: keyof Runtime['functions']) =>
      as(new SSMClient({ region: rt.region, endpoint: rt.sandboxEndpoints.AWS_ENDPOINT_URL_SSM, credentials: credentialsFor(rt.functions[fn]), maxAttempts: 1 }));
    const out = await ssm('authorizer').send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    expect(out.Parameter?.Value?.length).toBeGreaterThan(20);
    const error = await ssm('wsDisconnect').send(new GetParameterCommand({ Name: name, WithDecryption: true })).then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('AccessDeniedException');
    expect(error?.message).toContain(`is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter${name}`);
  });

  it('refuses a signature scoped to another region or service, or signed over 15 minutes off, as AWS does', async () => {
    const table = rt.functions.sse.environment.MESSAGES_TABLE!;
    const query = new QueryCommand({ TableName: table, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': 'room#none' } });
    const signedWith = (config: { region?: string; signingName?: string; systemClockOffset?: number }) =>
      DynamoDBDocumentClient.from(
        as(new DynamoDBClient({ region: rt.region, endpoint: rt.sandboxEndpoints.AWS_ENDPOINT_URL_DYNAMODB, credentials: credentialsFor(rt.functions.sse), maxAttempts: 1, ...config })),
      )
        .send(query)
        .then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    const otherRegion = await signedWith({ region: 'eu-west-1' });
    expect(otherRegion?.name).toBe('InvalidSignatureException');
    expect(otherRegion?.message).toContain('Credential should be scoped to a valid region');
    const otherService = await signedWith({ signingName: 'sqs' });
    expect(otherService?.name).toBe('InvalidSignatureException');
    expect(otherService?.message).toContain("Credential should be scoped to correct service: 'dynamodb'");
    const late = await signedWith({ systemClockOffset: -20 * 60 * 1000 });
    expect(late?.name).toBe('InvalidSignatureException');
    expect(late?.message).toContain('Signature expired');
    // The same call, signed as the SDK signs it in the sandbox, goes through.
    expect(await signedWith({})).toBeUndefined();
  });

  it('fails closed: an unknown access key, and a request it cannot map, are denied', async () => {
    const stranger = as(
      new DynamoDBClient({ region: rt.region, endpoint: rt.sandboxEndpoints.AWS_ENDPOINT_URL_DYNAMODB, credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' }, maxAttempts: 1 }),
    );
    const unknown = await stranger.send(new ListTablesCommand({})).then(() => undefined, (e: Error) => e);
    expect(unknown?.name).toBe('AccessDeniedException');
    expect(unknown?.message).toContain("does not know the access key 'AKIASTRANGER'");
    const unmapped = await dynamo('tasks').send(new ListTablesCommand({})).then(() => undefined, (e: Error) => e);
    expect(unmapped?.name).toBe('AccessDeniedException');
    expect(unmapped?.message).toContain('cannot map to an IAM action');
  });
});
