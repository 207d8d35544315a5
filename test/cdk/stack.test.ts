/**
 * Synthesizes the real app (lib/app.ts: context props, ChatStack, cdk-nag AWS Solutions checks)
 * once, without bundling, and checks the template against the single sources of truth in
 * lambdas/shared.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ENV } from '../../lambdas/auth/authenticator.js';
import { ENV } from '../../lambdas/shared/config.js';
import { LIMITS, TASK_QUEUE_SETTINGS } from '../../lambdas/shared/limits.js';
import { QUEUES, TABLES } from '../../lambdas/shared/resources.js';
import {
  FUNCTIONS,
  type FunctionName,
  HTTP_ROUTES,
  SSE_PATH,
  WS_ROUTE_SELECTION_EXPRESSION,
  WS_ROUTES,
} from '../../lambdas/shared/routes.js';
import { authFromContext, createChatApp, propsFromContext } from '../../lib/app.js';
import { authEnvironment, resolveAuth } from '../../lib/auth.js';
import { ACCESS, type ChatStack, DECLARED } from '../../lib/chat-stack.js';
import { Data } from '../../lib/constructs/data.js';
import { AUTHORIZER_CACHE_TTL } from '../../lib/constructs/http-api.js';
import { LOGGED_ERRORS_METRIC } from '../../lib/constructs/monitoring.js';

const STAGE = 'qa';
const CORS = ['https://chat.example.com', 'http://localhost:3000'];
const SECRET_PARAMETER = '/chat/qa/jwt-secret';
const LOG_RETENTION = 14;
const MESSAGE_RETENTION = 7;
const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON is untyped; tests navigate it freely.
type Json = Record<string, any>;

let outdir: string;
let app: App;
let stack: ChatStack;
let template: Template;
let resources: Record<string, Json>;
let synthError: unknown;

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

function fnId(name: FunctionName): string {
  return logicalId(stack.functions[name].fn);
}

function ofType(type: string): [string, Json][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Policy statements attached to a function's execution role. */
function statementsOf(name: FunctionName): Json[] {
  const roleId = logicalId(stack.functions[name].role);
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
}

/** Actions a function may perform on resources whose JSON mentions `needle` (a logical id). */
function actionsOn(name: FunctionName, needle: string): Set<string> {
  const actions = new Set<string>();
  for (const s of statementsOf(name)) {
    if (JSON.stringify(s.Resource).includes(`"${needle}"`)) for (const a of asArray(s.Action)) actions.add(a);
  }
  return actions;
}


beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'chat-cdk-test-'));
  ({ app, stack } = createChatApp({
    outdir,
    context: {
      'aws:cdk:bundling-stacks': [],
      stage: STAGE,
      corsOrigins: CORS,
      logRetentionDays: LOG_RETENTION,
      messageRetentionDays: MESSAGE_RETENTION,
      alarmEmail: 'ops@example.com',
      authSecretParameterName: SECRET_PARAMETER,
    },
  }));
  try {
    app.synth();
  } catch (error) {
    synthError = error;
    throw error;
  }
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('cdk-nag (AWS Solutions)', () => {
  it('synth does not throw: no unacknowledged nag errors', () => {
    expect(synthError).toBeUndefined();
  });

  it('the validation report has no violations left', () => {
    const reportFile = join(outdir, 'validation-report.json');
    const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : { pluginReports: [] };
    const violations = (report.pluginReports as Json[]).flatMap((p) =>
      (p.violations as Json[]).map((v) => `${p.pluginName} ${v.severity} ${v.ruleName}`),
    );
    expect(violations).toEqual([]);
  });

  it('the AwsSolutions pack, run directly on the stack, reports nothing unacknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('no error annotations on the stack', () => {
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('APIG4 (no authorizer) is acknowledged only on routes meant to be: the public HTTP routes and WebSocket routes after $connect', () => {
    const acknowledged: string[] = [];
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        if (Object.keys(m.data as Json).some((id) => id.includes('AwsSolutions-APIG4'))) acknowledged.push(c.node.path);
      }
    }
    const expected = [
      ...HTTP_ROUTES.filter((r) => r.auth === 'none').map((r) => `ChatStack/HttpApi/Api/${r.method}${r.path.replaceAll('/', '--')}`),
      ...WS_ROUTES.filter((r) => r.routeKey !== '$connect').map((r) => `ChatStack/WebSocketApi/Api/${r.routeKey}-Route`),
      'ChatStack/HttpApi/CatchAllRoute',
    ];
    expect(acknowledged.sort()).toEqual(expected.sort());
  });

  it('control: the same wiring fails synth on an unacknowledged finding', () => {
    const control = new App({ outdir: mkdtempSync(join(tmpdir(), 'chat-cdk-nag-')) });
    const s = new Stack(control, 'Control');
    new sqs.Queue(s, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(control).addPlugins(new AwsSolutionsChecks(control));
    expect(() => control.synth()).toThrow(/AwsSolutions-SQS/);
    rmSync(control.outdir, { recursive: true, force: true });
  });
});

describe('HTTP API', () => {
  it('has exactly the routes of HTTP_ROUTES plus $default (JSON 404/405), all integrated with the http function', () => {
    const apiId = logicalId(stack.httpApi.api);
    const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.ApiId.Ref === apiId);
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(
      [...HTTP_ROUTES.map((r) => `${r.method} ${r.path}`), '$default'].sort(),
    );
    for (const [, route] of routes) {
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
      const integration = resources[integrationId]!;
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [fnId('http'), 'Arn'] },
      });
    }
  });

  it('allows the configured CORS origins', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: CORS }),
    });
  });

  it('has a $default stage with throttling and JSON access logs', () => {
    const stage = ofType('AWS::ApiGatewayV2::Stage').find(([, s]) => s.Properties.StageName === '$default')![1];
    expect(stage.Properties.AutoDeploy).toBe(true);
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: expect.any(Number),
      ThrottlingBurstLimit: expect.any(Number),
    });
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format.requestId).toBe('$context.requestId');
    expect(stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0]).toBe(logicalId(stack.httpApi.accessLogs));
  });
});

describe('WebSocket API', () => {
  it('selects routes on the body action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: WS_ROUTE_SELECTION_EXPRESSION,
    });
  });

  it('has one route per WS_ROUTES key, integrated with the function named in the table', () => {
    const apiId = logicalId(stack.webSocketApi.api);
    const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.ApiId.Ref === apiId);
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(WS_ROUTES.map((r) => r.routeKey).sort());
    for (const { routeKey, fn } of WS_ROUTES) {
      const [routeId, route] = routes.find(([, r]) => r.Properties.RouteKey === routeKey)!;
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
      expect(resources[integrationId]!.Properties.IntegrationType, routeKey).toBe('AWS_PROXY');
      expect(JSON.stringify(resources[integrationId]!.Properties.IntegrationUri), routeKey).toContain(`"${fnId(fn)}"`);
      // $default and the action routes return the handler's reply frame as the route response.
      const responses = ofType('AWS::ApiGatewayV2::RouteResponse').filter(([, r]) => r.Properties.RouteId.Ref === routeId);
      const expectResponse = routeKey !== '$connect' && routeKey !== '$disconnect';
      expect(responses.length, routeKey).toBe(expectResponse ? 1 : 0);
      if (expectResponse) expect(responses[0]![1].Properties.RouteResponseKey).toBe('$default');
    }
  });

  it('has a stage named after the deployment stage, with throttling and JSON access logs', () => {
    const stage = ofType('AWS::ApiGatewayV2::Stage').find(([, s]) => s.Properties.StageName === STAGE)![1];
    expect(stage.Properties).toMatchObject({
      AutoDeploy: true,
      ApiId: { Ref: logicalId(stack.webSocketApi.api) },
      DefaultRouteSettings: { ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) },
    });
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', connectionId: '$context.connectionId' });
  });

  it("leaves the account's API Gateway CloudWatch role alone by default", () => {
    expect(propsFromContext(new App()).manageApiGatewayAccountRole).toBe(false);
    expect(ofType('AWS::ApiGateway::Account')).toEqual([]);
    const roles = ofType('AWS::IAM::Role').map(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument));
    expect(roles.filter((doc) => doc.includes('apigateway.amazonaws.com'))).toEqual([]);
  });

  it('sets the account CloudWatch role when asked, retained with the role', () => {
    const { stack: s } = appWith({ manageApiGatewayAccountRole: 'true' });
    const res = Template.fromStack(s).toJSON().Resources as Record<string, Json>;
    const accounts = Object.values(res).filter((r) => r.Type === 'AWS::ApiGateway::Account');
    expect(accounts).toHaveLength(1);
    expect(accounts[0]!.DeletionPolicy).toBe('Retain');
    const roleId = accounts[0]!.Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
    expect(res[roleId]!.DeletionPolicy).toBe('Retain');
  });
});

describe('DynamoDB tables', () => {
  it.each(TABLES.map((t) => [t.id, t] as const))('%s matches resources.ts', (id, def) => {
    const table = resources[logicalId(stack.data.tables[id as keyof typeof stack.data.tables])]!;
    expect(table.DeletionPolicy).toBe('Retain');
    const p = table.Properties;
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.KeySchema).toEqual([
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
    ]);
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: def.ttlAttribute, Enabled: true });
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toEqual({ SSEEnabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    const indexes = (p.GlobalSecondaryIndexes ?? []) as Json[];
    expect(indexes.map((i) => i.IndexName)).toEqual(def.indexes.map((i) => i.indexName));
    for (const index of def.indexes) {
      const gsi = indexes.find((i) => i.IndexName === index.indexName)!;
      expect(gsi.KeySchema).toEqual([
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      expect(gsi.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: index.nonKeyAttributes });
    }
    for (const attr of p.AttributeDefinitions as Json[]) {
      const keys = [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
      expect(keys.find((k) => k?.name === attr.AttributeName)?.type).toBe(attr.AttributeType);
    }
  });

  it('can be destroyed with the stack when asked (throwaway stages)', () => {
    const s = new Stack(new App(), 'DataOnly');
    new Data(s, 'Data', { removalPolicy: RemovalPolicy.DESTROY });
    const tables = Object.values(Template.fromStack(s).findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(TABLES.length);
    for (const t of tables) {
      expect(t.DeletionPolicy).toBe('Delete');
      expect(t.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });
});

describe('SQS task queues', () => {
  it.each(QUEUES.map((q) => [q.id] as const))('%s has a DLQ, redrive and settings from limits.ts', (id) => {
    const q = stack.queues.queues[id as keyof typeof stack.queues.queues];
    const queue = resources[logicalId(q.queue)]!.Properties;
    const dlq = resources[logicalId(q.deadLetterQueue)]!.Properties;
    expect(queue).toMatchObject({
      VisibilityTimeout: TASK_QUEUE_SETTINGS.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(q.deadLetterQueue), 'Arn'] },
        maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
      },
    });
    expect(dlq).toMatchObject({
      MessageRetentionPeriod: TASK_QUEUE_SETTINGS.dlqRetentionDays * 86_400,
      SqsManagedSseEnabled: true,
    });
  });

  it('denies non-TLS access on every queue and DLQ (enforceSSL)', () => {
    const queueIds = stack.queues.all.flatMap((q) => [logicalId(q.queue), logicalId(q.deadLetterQueue)]);
    for (const queueId of queueIds) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('feeds the tasks function with partial batch failures', () => {
    const q = stack.queues.all[0]!;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(q.queue), 'Arn'] },
      FunctionName: { Ref: fnId('tasks') },
      BatchSize: TASK_QUEUE_SETTINGS.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('Lambda functions', () => {
  it('creates one function per FUNCTIONS entry', () => {
    expect(ofType('AWS::Lambda::Function')).toHaveLength(FUNCTION_NAMES.length);
  });

  it.each(FUNCTION_NAMES)('%s: nodejs24.x, arm64, handler, memory/timeout, own log group', (name) => {
    const p = resources[fnId(name)]!.Properties;
    expect(p.Runtime).toBe('nodejs24.x');
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Handler).toBe('index.handler');
    expect(p.MemorySize).toBe(FUNCTIONS[name].memoryMb);
    expect(p.Timeout).toBe(FUNCTIONS[name].timeoutSeconds);
    const logGroupId = p.LoggingConfig.LogGroup.Ref;
    expect(logGroupId).toBe(logicalId(stack.functions[name].logGroup));
    expect(resources[logGroupId]!.Properties.RetentionInDays).toBe(LOG_RETENTION);
    // JSON logs, and no START/END/REPORT line per invocation (Lambda's own lines at WARN and above).
    expect(p.LoggingConfig).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'WARN' });
    expect(p.LoggingConfig.ApplicationLogLevel).toBeUndefined();
  });

  it('only the SSE function has reserved concurrency (the most streams open at once); sseReservedConcurrency=0 removes it', () => {
    for (const name of FUNCTION_NAMES) {
      const reserved = resources[fnId(name)]!.Properties.ReservedConcurrentExecutions;
      expect(reserved, name).toBe(name === 'sse' ? LIMITS.sseReservedConcurrency : undefined);
    }
    const { stack: unreserved } = createChatApp({ context: { 'aws:cdk:bundling-stacks': [], sseReservedConcurrency: '0' } });
    const fns = Template.fromStack(unreserved).findResources('AWS::Lambda::Function');
    expect(Object.values(fns).filter((r) => r.Properties.ReservedConcurrentExecutions !== undefined)).toEqual([]);
    expect(() => createChatApp({ context: { 'aws:cdk:bundling-stacks': [], sseReservedConcurrency: '-1' } })).toThrow(/sseReservedConcurrency/);
  });

  it.each(FUNCTION_NAMES)('%s: environment from ENV', (name) => {
    const vars = resources[fnId(name)]!.Properties.Environment.Variables as Json;
    expect(vars[ENV.stage]).toBe(STAGE);
    expect(vars[ENV.corsOrigins]).toBe(CORS.join(','));
    expect(vars[ENV.retentionDays]).toBe(String(MESSAGE_RETENTION));
    for (const def of TABLES) {
      expect(vars[def.envVar]).toEqual({ Ref: logicalId(stack.data.tables[def.id]) });
    }
    expect(vars[ENV.taskQueueUrl]).toEqual({ Ref: logicalId(stack.queues.all[0]!.queue) });
    if (ACCESS[name].manageConnections) {
      expect(vars[ENV.wsManagementEndpoint]).toEqual({
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: logicalId(stack.webSocketApi.api) },
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            `/${STAGE}`,
          ],
        ],
      });
    } else {
      expect(vars[ENV.wsManagementEndpoint]).toBeUndefined();
    }
    if (name === 'http') {
      expect(vars[ENV.sseUrl]).toEqual({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.sse.functionUrl), 'FunctionUrl'] }, SSE_PATH.slice(1)]],
      });
    } else {
      expect(vars[ENV.sseUrl]).toBeUndefined();
    }
  });

  it('log groups of functions and APIs all have the configured retention', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBe(FUNCTION_NAMES.length + 2);
    for (const [, g] of groups) expect(g.Properties.RetentionInDays).toBe(LOG_RETENTION);
  });
});

describe('SSE Function URL', () => {
  it('streams the sse function, public, with CORS', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      TargetFunctionArn: { 'Fn::GetAtt': [fnId('sse'), 'Arn'] },
      InvokeMode: 'RESPONSE_STREAM',
      AuthType: 'NONE',
      Cors: Match.objectLike({ AllowOrigins: CORS, AllowMethods: ['GET'] }),
    });
  });
});

describe('IAM least privilege', () => {
  it.each(FUNCTION_NAMES)('%s: table access is what its composition root declares', (name) => {
    for (const def of TABLES) {
      const actions = actionsOn(name, logicalId(stack.data.tables[def.id]));
      const declared = DECLARED[name].permissions.filter((p) => p.resource.startsWith(`table/${def.id}`)).flatMap((p) => p.actions);
      expect([...actions].sort(), `${name} ${def.id}`).toEqual([...new Set(declared)].sort());
      expect(actions.has('dynamodb:Scan'), `${name} ${def.id} Scan`).toBe(false);
    }
  });

  it.each(FUNCTION_NAMES)('%s: queue send and @connections only where ACCESS says', (name) => {
    const queueId = logicalId(stack.queues.all[0]!.queue);
    expect(actionsOn(name, queueId).has('sqs:SendMessage')).toBe(ACCESS[name].sendTasks === true);
    const manage = statementsOf(name).some((s) => asArray(s.Action).includes('execute-api:ManageConnections'));
    expect(manage).toBe(ACCESS[name].manageConnections === true);
  });

  it('sse writes nothing but its own logs and its stream leases (Put/Delete on the messages table)', () => {
    const statements = statementsOf('sse');
    const actions = statements.flatMap((s) => asArray<string>(s.Action)).filter((a) => !a.startsWith('logs:'));
    expect(actions.filter((a) => /Update|Write|Send|ManageConnections/.test(a))).toEqual([]);
    // Its one batch is the membership check of a private room (a read).
    expect(actions.filter((a) => /Batch/.test(a))).toEqual(['dynamodb:BatchGetItem']);
    const writes = statements.filter((s) => asArray<string>(s.Action).some((a) => /^dynamodb:(Put|Delete)/.test(a)));
    expect(writes.map((s) => JSON.stringify(s.Resource))).toEqual([JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.data.tables.Messages), 'Arn'] })]);
    // Reads its table, the HS256 secret parameter to verify tokens, and signs attachment downloads.
    expect(actions.every((a) => a.startsWith('dynamodb:') || a.startsWith('ssm:Get') || a.startsWith('ssm:Describe') || a === 's3:GetObject')).toBe(true);
  });

  it('ManageConnections is scoped to the WebSocket API stage', () => {
    const s = statementsOf('wsMessage').find((x) => asArray(x.Action).includes('execute-api:ManageConnections'))!;
    const joined = JSON.stringify(s.Resource);
    expect(joined).toContain(`"${logicalId(stack.webSocketApi.api)}"`);
    expect(joined).toContain(`/${STAGE}/*/@connections/*`);
  });

  it('no function policy has a wildcard action or a bare * resource; index access is explicit', () => {
    for (const name of FUNCTION_NAMES) {
      for (const s of statementsOf(name)) {
        for (const a of asArray<string>(s.Action)) expect(a, name).not.toMatch(/\*/);
        for (const r of asArray(s.Resource)) expect(r, name).not.toBe('*');
        expect(JSON.stringify(s.Resource), name).not.toContain('/index/*');
      }
    }
  });

  it('no function uses the AWSLambdaBasicExecutionRole managed policy', () => {
    for (const name of FUNCTION_NAMES) {
      const role = resources[logicalId(stack.functions[name].role)]!;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('monitoring', () => {
  it('alarms on DLQ depth, function errors/throttles, logged errors, HTTP 5xx and WS execution errors', () => {
    const topicId = logicalId(stack.monitoring.topic);
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Threshold).toBe(0);
      expect(a.ComparisonOperator).toBe('GreaterThanThreshold');
    }
    const has = (metric: string, dims: Json[]) =>
      alarms.some((a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(JSON.stringify(dims[0])));
    for (const q of stack.queues.all) {
      expect(
        has('ApproximateNumberOfMessagesVisible', [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(q.deadLetterQueue), 'QueueName'] } },
        ]),
      ).toBe(true);
    }
    for (const name of FUNCTION_NAMES) {
      const dim = { Name: 'FunctionName', Value: { Ref: fnId(name) } };
      expect(has('Errors', [dim]), `${name} Errors`).toBe(true);
      expect(has('Throttles', [dim]), `${name} Throttles`).toBe(true);
    }
    expect(has('5xx', [{ Name: 'ApiId', Value: { Ref: logicalId(stack.httpApi.api) } }])).toBe(true);
    expect(has('ExecutionError', [{ Name: 'ApiId', Value: { Ref: logicalId(stack.webSocketApi.api) } }])).toBe(true);
    expect(alarms.filter((a) => a.MetricName === LOGGED_ERRORS_METRIC.metricName)).toHaveLength(1);
    expect(alarms).toHaveLength(QUEUES.length + FUNCTION_NAMES.length * 2 + 3);
  });

  it('client mistakes do not page: no alarm on WebSocket IntegrationError or ClientError, or on 4xx', () => {
    // A $connect answered 4xx (refused origin or room) counts as an IntegrationError; a bad token
    // is a deny (403), not an authorizer error.
    const metrics = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.MetricName);
    for (const clientMetric of ['IntegrationError', 'ClientError', '4xx', '4XXError']) expect(metrics).not.toContain(clientMetric);
  });

  it('every function log group feeds the logged-errors metric with its ERROR lines', () => {
    const filters = ofType('AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    expect(filters.map((f) => f.LogGroupName.Ref).sort()).toEqual(FUNCTION_NAMES.map((n) => logicalId(stack.functions[n].logGroup)).sort());
    for (const f of filters) {
      expect(f.FilterPattern).toBe('{ $.level = "ERROR" }');
      expect(f.MetricTransformations).toEqual([
        { MetricNamespace: LOGGED_ERRORS_METRIC.namespace, MetricName: LOGGED_ERRORS_METRIC.metricName, MetricValue: '1' },
      ]);
    }
    // Function.logGroup returned the functions' own groups: no LogRetention custom resource.
    expect(Object.values(resources).filter((r) => r.Type === 'Custom::LogRetention')).toEqual([]);
  });

  it('the alarm topic enforces TLS, lets CloudWatch publish and mails the configured address', () => {
    const topicId = logicalId(stack.monitoring.topic);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
  });
});

describe('outputs', () => {
  it('exposes HttpApiUrl, WebSocketUrl (wss) and SseUrl', () => {
    const outputs = template.toJSON().Outputs as Json;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['HttpApiUrl', 'WebSocketUrl', 'SseUrl']));
    expect(outputs.WebSocketUrl.Value['Fn::Join'][1][0]).toBe('wss://');
    expect(outputs.WebSocketUrl.Value['Fn::Join'][1].at(-1)).toBe(`/${STAGE}`);
    expect(outputs.HttpApiUrl.Value['Fn::Join'][1][0]).toBe('https://');
    expect(outputs.SseUrl.Value['Fn::Join'][1].at(-1)).toBe(SSE_PATH.slice(1));
    expect(stack.httpApiUrl).toEqual(expect.any(String));
    expect(stack.webSocketUrl).toEqual(expect.any(String));
    expect(stack.sseUrl).toEqual(expect.any(String));
  });
});

describe('context', () => {
  it('defaults, comma-separated lists and removal policy', () => {
    const props = propsFromContext(new App({ context: { corsOrigins: 'https://a.example, https://b.example' } }));
    expect(props.stage).toBe('dev');
    expect(props.stackName).toBe('chat-dev');
    expect(props.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(props.dataRemovalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(propsFromContext(new App({ context: { destroyData: 'true' } })).dataRemovalPolicy).toBe(RemovalPolicy.DESTROY);
  });

  it('rejects a log retention CloudWatch does not offer', () => {
    expect(() => propsFromContext(new App({ context: { logRetentionDays: 31 } }))).toThrow(/logRetentionDays/);
  });
});

/** Environment variables of a function in a template's resources. */
function envOf(res: Record<string, Json>, id: string): Json {
  return res[id]!.Properties.Environment?.Variables ?? {};
}

/** Functions whose ACCESS entry says they read (or verify) identities. */
const IDENTITY_FUNCTIONS = FUNCTION_NAMES.filter((n) => ACCESS[n].auth !== undefined);
const VERIFIERS = FUNCTION_NAMES.filter((n) => ACCESS[n].auth === 'verify');
const PUBLIC_HTTP_ROUTES = ['GET /api/health', 'GET /api/events'];

function routesOf(api: IConstruct): [string, Json][] {
  const apiId = logicalId(api);
  return ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.ApiId.Ref === apiId);
}

describe('authentication', () => {
  it('the route table marks exactly the health check and the SSE redirect public', () => {
    expect(HTTP_ROUTES.filter((r) => r.auth === 'none').map((r) => `${r.method} ${r.path}`)).toEqual(PUBLIC_HTTP_ROUTES);
    expect(IDENTITY_FUNCTIONS.sort()).toEqual(['authorizer', 'http', 'sse', 'wsConnect', 'wsMessage']);
  });

  it('$connect has the Lambda REQUEST authorizer reading the token from the query string', () => {
    const [, connect] = routesOf(stack.webSocketApi.api).find(([, r]) => r.Properties.RouteKey === '$connect')!;
    expect(connect.Properties.AuthorizationType).toBe('CUSTOM');
    const authorizer = resources[connect.Properties.AuthorizerId.Ref]!;
    expect(authorizer.Type).toBe('AWS::ApiGatewayV2::Authorizer');
    expect(authorizer.Properties).toMatchObject({
      ApiId: { Ref: logicalId(stack.webSocketApi.api) },
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(`"${fnId('authorizer')}"`);
  });

  it('the other WebSocket routes have no authorizer (WebSocket APIs authorize $connect only)', () => {
    for (const [, route] of routesOf(stack.webSocketApi.api).filter(([, r]) => r.Properties.RouteKey !== '$connect')) {
      expect(route.Properties.AuthorizationType ?? 'NONE', route.Properties.RouteKey).toBe('NONE');
      expect(route.Properties.AuthorizerId, route.Properties.RouteKey).toBeUndefined();
    }
  });

  it('every HTTP route except the two public ones has the Lambda authorizer (simple responses, bearer header, cached)', () => {
    const routes = routesOf(stack.httpApi.api);
    expect(routes).toHaveLength(HTTP_ROUTES.length + 1);
    const authorizerIds = new Set<string>();
    for (const [, route] of routes) {
      const key = route.Properties.RouteKey as string;
      if (PUBLIC_HTTP_ROUTES.includes(key) || key === '$default') {
        expect(route.Properties.AuthorizationType, key).toBe('NONE');
        expect(route.Properties.AuthorizerId, key).toBeUndefined();
        continue;
      }
      expect(route.Properties.AuthorizationType, key).toBe('CUSTOM');
      authorizerIds.add(route.Properties.AuthorizerId.Ref);
    }
    expect(authorizerIds.size).toBe(1);
    const authorizer = resources[[...authorizerIds][0]!]!;
    expect(authorizer.Properties).toMatchObject({
      ApiId: { Ref: logicalId(stack.httpApi.api) },
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: AUTHORIZER_CACHE_TTL.toSeconds(),
    });
    expect(AUTHORIZER_CACHE_TTL.toSeconds()).toBe(300);
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(`"${fnId('authorizer')}"`);
  });

  it('API Gateway may invoke the authorizer through these two authorizers only', () => {
    const permissions = ofType('AWS::Lambda::Permission')
      .map(([, p]) => p.Properties)
      .filter((p) => JSON.stringify(p.FunctionName).includes(`"${fnId('authorizer')}"`));
    expect(permissions).toHaveLength(2);
    for (const p of permissions) {
      expect(p.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(p.SourceArn)).toContain('/authorizers/');
    }
  });

  it('a Function URL is AuthType NONE only on a function that verifies tokens itself (AUTH_MODE=jwt, key source)', () => {
    const urls = ofType('AWS::Lambda::Url');
    expect(urls.length).toBeGreaterThan(0);
    for (const [, url] of urls) {
      if (url.Properties.AuthType !== 'NONE') continue;
      const targetId = url.Properties.TargetFunctionArn['Fn::GetAtt'][0];
      const env = envOf(resources, targetId);
      expect(env[AUTH_ENV.mode], targetId).toBe('jwt');
      expect(env[AUTH_ENV.secretParameter] ?? env[AUTH_ENV.jwksUrl], targetId).toBeDefined();
    }
    expect(envOf(resources, fnId('sse'))[AUTH_ENV.mode]).toBe('jwt');
  });

  it.each(FUNCTION_NAMES)('%s: AUTH_* environment follows ACCESS', (name) => {
    const env = envOf(resources, fnId(name));
    if (ACCESS[name].auth) {
      expect(env[AUTH_ENV.mode]).toBe('jwt');
      expect(env[AUTH_ENV.secretParameter]).toBe(SECRET_PARAMETER);
      expect(env[AUTH_ENV.jwksUrl]).toBeUndefined();
    } else {
      expect(Object.keys(env).filter((k) => k.startsWith('AUTH_'))).toEqual([]);
    }
  });

  it('no function environment holds AUTH_SECRET (the literal secret is local-only)', () => {
    for (const [id] of ofType('AWS::Lambda::Function')) {
      expect(Object.keys(envOf(resources, id)), id).not.toContain(AUTH_ENV.secret);
    }
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"AUTH_SECRET"/);
  });

  it('the deployed stack never sets AUTH_MODE=off: every identity function gets jwt, whatever the key source', () => {
    const variants = [
      {},
      { authSecretParameterName: '', authJwksUrl: 'https://issuer.example.com/jwks.json', authIssuer: 'https://issuer.example.com' },
      { authSecretParameterName: '', authCognitoUserPoolId: 'eu-west-1_AbC123', authCognitoClientId: 'client-1' },
    ];
    const templates = [template.toJSON(), ...variants.map((v) => Template.fromStack(appWith(v).stack).toJSON())];
    for (const t of templates) {
      const fns = Object.entries(t.Resources as Record<string, Json>).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
      expect(fns).toHaveLength(FUNCTION_NAMES.length);
      for (const [id, fn] of fns) {
        const mode = fn.Properties.Environment?.Variables?.[AUTH_ENV.mode];
        expect([undefined, 'jwt'], id).toContain(mode);
      }
      expect(JSON.stringify(t)).not.toMatch(/"AUTH_MODE":\s*"off"/);
    }
    for (const name of IDENTITY_FUNCTIONS) expect(envOf(resources, fnId(name))[AUTH_ENV.mode], name).toBe('jwt');
  });

  it('the stack has no way to ask for AUTH_MODE=off: the environment builder only knows jwt', () => {
    const all = [
      resolveAuth({ secretParameterName: '/chat/x/jwt' }),
      resolveAuth({ jwksUrl: 'https://i.example.com/jwks', issuer: 'https://i.example.com' }),
      resolveAuth({ cognitoUserPoolId: 'eu-west-1_A1', cognitoClientId: 'c' }),
    ];
    for (const auth of all) expect(authEnvironment(auth)[AUTH_ENV.mode]).toBe('jwt');
  });

  it('the HS256 secret: only the token verifiers may read it, on exactly that parameter; no KMS grant for aws/ssm', () => {
    const parameterArn = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:parameter${SECRET_PARAMETER}`],
      ],
    };
    for (const name of FUNCTION_NAMES) {
      const ssm = statementsOf(name).filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('ssm:')));
      const kms = statementsOf(name).filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('kms:')));
      expect(kms, name).toEqual([]);
      if (!VERIFIERS.includes(name)) {
        expect(ssm, name).toEqual([]);
        continue;
      }
      expect(ssm, name).toHaveLength(1);
      expect(ssm[0]!.Resource, name).toEqual(parameterArn);
      expect(asArray(ssm[0]!.Action), name).toContain('ssm:GetParameter');
      expect(asArray<string>(ssm[0]!.Action).filter((a) => /Put|Delete|Label|Tag/.test(a)), name).toEqual([]);
    }
  });

  it('the dev token route is local-only: no /api/dev/token in the route table or the template', () => {
    expect(HTTP_ROUTES.some((r) => r.path.includes('/dev/'))).toBe(false);
    const keys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey as string);
    expect(keys.filter((k) => k.includes('/api/dev/'))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('/api/dev/token');
  });
});

/** Builds the app from context (no bundling); throws where the stack rejects its props. */
function appWith(context: Record<string, unknown>) {
  return createChatApp({ context: { 'aws:cdk:bundling-stacks': [], authSecretParameterName: '/chat/t/jwt', ...context } });
}

describe('auth configuration', () => {
  it('cognito=true: the stack creates the pool and client; identity functions accept its access tokens', () => {
    const { stack: s } = appWith({ cognito: 'true', authSecretParameterName: '' });
    const t = Template.fromStack(s).toJSON();
    const res = t.Resources as Record<string, Json>;
    const [poolId] = Object.entries(res).find(([, r]) => r.Type === 'AWS::Cognito::UserPool')!;
    const [clientId] = Object.entries(res).find(([, r]) => r.Type === 'AWS::Cognito::UserPoolClient')!;
    for (const name of FUNCTION_NAMES) {
      if (!ACCESS[name].auth) continue;
      expect(envOf(res, logicalId(s.functions[name].fn)), name).toMatchObject({
        [AUTH_ENV.mode]: 'jwt',
        [AUTH_ENV.cognitoUserPoolId]: { Ref: poolId },
        [AUTH_ENV.audience]: { Ref: clientId },
        [AUTH_ENV.tokenUse]: 'access',
      });
    }
    expect(JSON.stringify(res)).not.toContain('ssm:');
    expect(Object.keys(t.Outputs)).toEqual(expect.arrayContaining(['UserPoolId', 'UserPoolClientId']));
    expect(new AwsSolutionsChecks().validateScope(s).violations).toEqual([]);
  });

  it('needs a key source, and names the context keys in the error', () => {
    expect(() => resolveAuth(undefined)).toThrow(/no token key source.*cognito=true.*authCognitoUserPoolId.*authJwksUrl.*authSecretParameterName/s);
  });

  it('defaults to the HS256 secret parameter of the stage; any other choice replaces the default', () => {
    expect(authFromContext(new App(), 'qa').secretParameterName).toBe('/chat/qa/jwt-secret');
    expect(authFromContext(new App({ context: { authSecretParameterName: '' } }), 'dev').secretParameterName).toBe('/chat/dev/jwt-secret');
    const jwks = { authJwksUrl: 'https://issuer.example.com/jwks.json', authIssuer: 'https://issuer.example.com' };
    expect(authFromContext(new App({ context: jwks }), 'dev')).toMatchObject({ jwksUrl: jwks.authJwksUrl, secretParameterName: undefined });
    expect(authFromContext(new App({ context: { cognito: 'true' } }), 'dev')).toMatchObject({ createUserPool: true, secretParameterName: undefined });
    expect(authFromContext(new App({ context: { cognito: true } }), 'dev').secretParameterName).toBeUndefined();
  });

  it('refuses two key sources', () => {
    expect(() => appWith({ authJwksUrl: 'https://issuer.example.com/.well-known/jwks.json', authIssuer: 'https://issuer.example.com' })).toThrow(
      /authJwksUrl and authSecretParameterName are configured; exactly one key source/,
    );
    expect(() => appWith({ authCognitoUserPoolId: 'eu-west-1_abc', authCognitoClientId: 'c' })).toThrow(/exactly one key source/);
    expect(() => resolveAuth({ createUserPool: true, secretParameterName: '/x' })).toThrow(/cognito=true and authSecretParameterName/);
  });

  it('an existing Cognito user pool: pool id and app client in the environment, no SSM access anywhere', () => {
    const pool = { authSecretParameterName: '', authCognitoUserPoolId: 'eu-west-1_AbC123', authCognitoClientId: 'client-1' };
    expect(() => appWith({ ...pool, authCognitoClientId: '' })).toThrow(/authCognitoClientId' is required/);
    expect(() => appWith({ ...pool, authCognitoUserPoolId: 'not a pool' })).toThrow(/not a Cognito user pool id/);
    const { stack: s } = appWith(pool);
    const res = Template.fromStack(s).toJSON().Resources as Record<string, Json>;
    for (const name of FUNCTION_NAMES) {
      const env = envOf(res, logicalId(s.functions[name].fn));
      if (!ACCESS[name].auth) continue;
      expect(env).toEqual(
        expect.objectContaining({
          [AUTH_ENV.mode]: 'jwt',
          [AUTH_ENV.cognitoUserPoolId]: 'eu-west-1_AbC123',
          [AUTH_ENV.audience]: 'client-1',
          [AUTH_ENV.tokenUse]: 'access',
        }),
      );
      expect(Object.keys(env).filter((k) => k.startsWith('AUTH_')).sort()).toEqual(
        [AUTH_ENV.mode, AUTH_ENV.cognitoUserPoolId, AUTH_ENV.audience, AUTH_ENV.tokenUse].sort(),
      );
    }
    expect(JSON.stringify(res)).not.toContain('ssm:');
  });

  it('needs an issuer with a JWKS URL, an https JWKS URL, and a parameter name (not an ARN)', () => {
    const jwks = { authSecretParameterName: '', authJwksUrl: 'https://issuer.example.com/jwks.json' };
    expect(() => appWith(jwks)).toThrow(/authIssuer' is required/);
    expect(() => appWith({ ...jwks, authJwksUrl: 'http://issuer.example.com/jwks.json', authIssuer: 'x' })).toThrow(/https/);
    expect(() => appWith({ authSecretParameterName: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x' })).toThrow(/not its ARN/);
  });

  it('JWKS (Cognito/OIDC): issuer, audience and JWKS URL in the environment, no SSM access anywhere', () => {
    const jwksUrl = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json';
    const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc';
    const { stack: s } = appWith({ authSecretParameterName: '', authJwksUrl: jwksUrl, authIssuer: issuer, authAudience: 'client-1' });
    const res = Template.fromStack(s).toJSON().Resources as Record<string, Json>;
    for (const name of FUNCTION_NAMES) {
      const env = envOf(res, logicalId(s.functions[name].fn));
      if (!ACCESS[name].auth) continue;
      expect(env).toMatchObject({
        [AUTH_ENV.mode]: 'jwt',
        [AUTH_ENV.jwksUrl]: jwksUrl,
        [AUTH_ENV.issuer]: issuer,
        [AUTH_ENV.audience]: 'client-1',
      });
      expect(env[AUTH_ENV.secretParameter]).toBeUndefined();
    }
    expect(JSON.stringify(res)).not.toContain('ssm:');
  });

  it('a customer-managed key of the secret parameter is granted kms:Decrypt to the verifiers only', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { stack: s } = appWith({ authSecretKmsKeyArn: keyArn });
    const res = Template.fromStack(s).toJSON().Resources as Record<string, Json>;
    for (const name of FUNCTION_NAMES) {
      const roleId = logicalId(s.functions[name].role);
      const statements = Object.values(res)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
      const decrypt = statements.filter((st) => asArray<string>(st.Action).includes('kms:Decrypt'));
      expect(decrypt.map((st) => st.Resource), name).toEqual(VERIFIERS.includes(name) ? [keyArn] : []);
    }
  });
});

describe('CORS', () => {
  it('the same origins reach the HTTP API, the Function URL and CORS_ORIGINS ($connect Origin check)', () => {
    const http = ofType('AWS::ApiGatewayV2::Api').find(([, a]) => a.Properties.ProtocolType === 'HTTP')![1];
    const [, url] = ofType('AWS::Lambda::Url')[0]!;
    expect(http.Properties.CorsConfiguration.AllowOrigins).toEqual(CORS);
    expect(url.Properties.Cors.AllowOrigins).toEqual(CORS);
    expect(envOf(resources, fnId('wsConnect'))[ENV.corsOrigins]).toBe(CORS.join(','));
  });

  it.each([
    ['stage prod', { stage: 'prod' }],
    ['stage production', { stage: 'production' }],
    ['production: true', { stage: 'live', production: true }],
    ['production: "true" (-c)', { stage: 'live', production: 'true' }],
  ])('a production stage refuses a * origin (%s)', (_label, context) => {
    expect(() => appWith({ ...context, corsOrigins: ['https://chat.example.com', '*'] })).toThrow(/'\*' is not allowed in the production stage/);
  });

  it('a non-production stage may use *; production: false cannot make a prod stage accept it', () => {
    expect(() => appWith({ stage: 'dev', corsOrigins: ['*'] })).not.toThrow();
    expect(() => appWith({ stage: 'prod', production: false, corsOrigins: ['*'] })).toThrow(/not allowed/);
  });

  it('origins must be scheme://host[:port] (they are compared with the Origin header as is)', () => {
    expect(() => appWith({ corsOrigins: ['https://chat.example.com/'] })).toThrow(/no path or trailing slash/);
    expect(() => appWith({ corsOrigins: ['chat.example.com'] })).toThrow(/scheme:\/\/host/);
    expect(() => appWith({ corsOrigins: ['http://localhost:3000'] })).not.toThrow();
  });
});
