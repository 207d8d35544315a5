/**
 * Which IAM action(s) on which resource ARN(s) an AWS API request needs, read from the request as
 * it goes over the wire (service authorization reference:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/): DynamoDB and SQS (JSON
 * protocol, `X-Amz-Target`), SSM (`AmazonSSM.*`) and the API Gateway `@connections` management API
 * (`execute-api:ManageConnections`). A request that maps to nothing returns undefined: the gate
 * denies it (fail closed).
 */

export type GatedService = 'dynamodb' | 'sqs' | 'ssm' | 'execute-api';

export interface RequiredAction {
  action: string;
  resource: string;
}

export interface MappedRequest {
  /** API operation, e.g. `UpdateItem`, `PostToConnection`. */
  operation: string;
  required: RequiredAction[];
}

export interface ArnScope {
  region: string;
  account: string;
}

export interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function header(req: WireRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function jsonBody(req: WireRequest): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(req.body.toString('utf8') || '{}') as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function target(req: WireRequest, prefix: string): string | undefined {
  const value = header(req, 'x-amz-target');
  return value?.startsWith(`${prefix}.`) ? value.slice(prefix.length + 1) : undefined;
}

const tableArn = (s: ArnScope, table: string, index?: string) =>
  `arn:aws:dynamodb:${s.region}:${s.account}:table/${table}${index ? `/index/${index}` : ''}`;

/** Operations whose IAM action is named after them, on the table (or index) of `TableName`. */
const DYNAMO_SINGLE = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'DescribeTable',
  'UpdateTable',
  'DeleteTable',
  'CreateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
]);

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

function dynamodb(req: WireRequest, s: ArnScope): MappedRequest | undefined {
  const op = target(req, 'DynamoDB_20120810');
  const body = jsonBody(req);
  if (!op || !body) return undefined;
  if (DYNAMO_SINGLE.has(op)) {
    if (typeof body.TableName !== 'string') return undefined;
    const index = typeof body.IndexName === 'string' && (op === 'Query' || op === 'Scan') ? body.IndexName : undefined;
    return { operation: op, required: [{ action: `dynamodb:${op}`, resource: tableArn(s, body.TableName, index) }] };
  }
  if (op === 'BatchGetItem' || op === 'BatchWriteItem') {
    const tables = Object.keys((body.RequestItems as Record<string, unknown>) ?? {});
    if (tables.length === 0) return undefined;
    return { operation: op, required: tables.map((t) => ({ action: `dynamodb:${op}`, resource: tableArn(s, t) })) };
  }
  if (op === 'TransactWriteItems' || op === 'TransactGetItems') {
    const required: RequiredAction[] = [];
    for (const item of (body.TransactItems as Array<Record<string, { TableName?: string }>>) ?? []) {
      for (const [kind, spec] of Object.entries(item)) {
        const action = TRANSACT_ACTIONS[kind];
        if (!action || typeof spec?.TableName !== 'string') return undefined;
        required.push({ action, resource: tableArn(s, spec.TableName) });
      }
    }
    return required.length > 0 ? { operation: op, required } : undefined;
  }
  return undefined;
}

/** Batch operations are authorized as their single-message action. */
const SQS_ACTION: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

function queueArnOfUrl(s: ArnScope, url: string): string | undefined {
  try {
    const parts = new URL(url).pathname.split('/').filter(Boolean);
    if (parts.length < 2) return undefined;
    return `arn:aws:sqs:${s.region}:${parts[parts.length - 2]}:${parts[parts.length - 1]}`;
  } catch {
    return undefined;
  }
}

function sqs(req: WireRequest, s: ArnScope): MappedRequest | undefined {
  const op = target(req, 'AmazonSQS');
  const body = jsonBody(req);
  if (!op || !body) return undefined;
  const action = `sqs:${SQS_ACTION[op] ?? op}`;
  if (op === 'GetQueueUrl' || op === 'CreateQueue') {
    if (typeof body.QueueName !== 'string') return undefined;
    const account = typeof body.QueueOwnerAWSAccountId === 'string' ? body.QueueOwnerAWSAccountId : s.account;
    return { operation: op, required: [{ action, resource: `arn:aws:sqs:${s.region}:${account}:${body.QueueName}` }] };
  }
  if (op === 'ListQueues') return { operation: op, required: [{ action, resource: '*' }] };
  if (typeof body.QueueUrl !== 'string') return undefined;
  const resource = queueArnOfUrl(s, body.QueueUrl);
  return resource ? { operation: op, required: [{ action, resource }] } : undefined;
}

function ssm(req: WireRequest, s: ArnScope): MappedRequest | undefined {
  const op = target(req, 'AmazonSSM');
  const body = jsonBody(req);
  if (!op || !body) return undefined;
  const arn = (name: string) => `arn:aws:ssm:${s.region}:${s.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  if (op === 'GetParameter' && typeof body.Name === 'string') {
    return { operation: op, required: [{ action: 'ssm:GetParameter', resource: arn(body.Name) }] };
  }
  if (op === 'GetParameters' && Array.isArray(body.Names) && body.Names.length > 0) {
    return { operation: op, required: body.Names.map((n) => ({ action: 'ssm:GetParameters', resource: arn(String(n)) })) };
  }
  return undefined;
}

const CONNECTION_OPERATIONS: Record<string, string> = {
  POST: 'PostToConnection',
  GET: 'GetConnection',
  DELETE: 'DeleteConnection',
};

/** `/{stage}/@connections/{id}` → `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/@connections/{id}`. */
function executeApi(req: WireRequest, s: ArnScope, apiId: string): MappedRequest | undefined {
  const match = /^\/([^/]+)\/@connections\/([^/?]+)$/.exec(req.path.split('?')[0]!);
  const operation = CONNECTION_OPERATIONS[req.method];
  if (!match || !operation) return undefined;
  const [, stage, encoded] = match;
  let id: string;
  try {
    id = decodeURIComponent(encoded!);
  } catch {
    return undefined;
  }
  return {
    operation,
    required: [{ action: 'execute-api:ManageConnections', resource: `arn:aws:execute-api:${s.region}:${s.account}:${apiId}/${stage}/${req.method}/@connections/${id}` }],
  };
}

export function mapRequest(service: GatedService, req: WireRequest, scope: ArnScope, apiId = ''): MappedRequest | undefined {
  switch (service) {
    case 'dynamodb':
      return dynamodb(req, scope);
    case 'sqs':
      return sqs(req, scope);
    case 'ssm':
      return ssm(req, scope);
    case 'execute-api':
      return executeApi(req, scope, apiId);
  }
}

/** SigV4 accepts a request whose `x-amz-date` is within 15 minutes of the server's clock. */
const SIGNATURE_SKEW_MS = 15 * 60 * 1000;

/**
 * What AWS checks of a SigV4 request before its signature: a credential scope naming the region
 * and the service of the endpoint, dated the day of `x-amz-date`, which is within 15 minutes of now.
 * The error message AWS answers with, or undefined when the scope is right. (The signature itself is
 * not recomputed here: see local/README.md.)
 */
export function credentialScopeError(req: WireRequest, scope: { region: string; service: string }, now: number): string | undefined {
  const credential = /Credential=[^/,\s]+\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(header(req, 'authorization') ?? '');
  if (!credential) return 'Authorization header requires a Credential of the form <key>/<date>/<region>/<service>/aws4_request.';
  const [, day, region, service] = credential;
  if (region !== scope.region) return `Credential should be scoped to a valid region, not '${region}'. `;
  if (service !== scope.service) return `Credential should be scoped to correct service: '${scope.service}'. `;
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(header(req, 'x-amz-date') ?? '');
  if (!stamp) return 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.';
  if (`${stamp[1]}${stamp[2]}${stamp[3]}` !== day) return 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.';
  const signedAt = Date.UTC(+stamp[1]!, +stamp[2]! - 1, +stamp[3]!, +stamp[4]!, +stamp[5]!, +stamp[6]!);
  if (Math.abs(signedAt - now) > SIGNATURE_SKEW_MS) return `Signature expired: ${stamp[0]} is not within 15 minutes of the server time.`;
  return undefined;
}

/** The access key id of a SigV4 `Authorization` header (`Credential=AKID/date/region/service/aws4_request`). */
export function accessKeyOf(req: WireRequest): string | undefined {
  const auth = header(req, 'authorization');
  return auth ? /Credential=([^/,\s]+)\//.exec(auth)?.[1] : undefined;
}
