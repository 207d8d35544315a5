/**
 * The deployed function table, read from the synthesized CloudFormation template: for each function
 * of FUNCTIONS its handler, environment, timeout, memory, reserved concurrency, role policies and
 * SQS event source mappings, exactly as `cdk deploy` would create them; and what API Gateway enforces
 * in front of them (stage throttling, the authorizer's result cache).
 *
 * The CDK app (lib/app.ts) is synthesized in this process with bundling skipped and the context of
 * cdk.json (the deployed defaults), plus optional overrides (a test that needs another
 * configuration synthesizes another template). Template logical ids are mapped to the stack's
 * constructs through the stack object (`stack.getLogicalId`), never by parsing ids.
 *
 * In-process synthesis takes seconds, so the result is cached on disk (`.local-data/`, git-ignored)
 * under a hash of everything that determines it: lib/, lambdas/shared/, cdk.json, package.json,
 * this file, the list of handler entry files, and the context overrides.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A CloudFormation value: a literal or an intrinsic function object. */
export type CfnValue = unknown;

export interface TemplateEventSource {
  logicalId: string;
  eventSourceArn: CfnValue;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  maximumConcurrency?: number;
  reportBatchItemFailures: boolean;
}

export interface TemplateFunction {
  name: FunctionName;
  logicalId: string;
  roleLogicalId: string;
  logGroupLogicalId: string;
  handler: string;
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  reservedConcurrency?: number;
  environment: Record<string, CfnValue>;
  /** Every AWS::IAM::Policy attached to the function's role (PolicyName → document). */
  policies: Array<{ logicalId: string; document: { Statement: Array<Record<string, CfnValue>> } }>;
  eventSources: TemplateEventSource[];
}

/** Logical ids of the resources the functions refer to, found through the stack's constructs. */
export interface TemplateResources {
  /** TableId (resources.ts) → logical id. */
  tables: Record<string, string>;
  /** QueueId → logical ids of the queue and its DLQ. */
  queues: Record<string, { queue: string; deadLetterQueue: string }>;
  webSocketApi: string;
  webSocketStage: string;
  functionUrl: string;
  stackName: string;
  /** BucketId (resources.ts) → logical id. */
  buckets?: Record<string, string>;
}

/** A stage's default route throttling (DefaultRouteSettings): a token bucket of burstLimit, refilled at rateLimit a second. */
export interface StageThrottle {
  rateLimit: number;
  burstLimit: number;
}

/** What API Gateway itself enforces in front of the functions, as the template configures it. */
export interface GatewaySettings {
  http: {
    /** The `$default` stage's throttling; absent when the template sets none. */
    throttle?: StageThrottle;
    /** The Lambda authorizer's AuthorizerResultTtlInSeconds (0: no caching). */
    authorizerCacheTtlSeconds: number;
  };
  webSocket: { throttle?: StageThrottle };
}

export interface FunctionTemplate {
  key: string;
  context: Record<string, unknown>;
  functions: Record<FunctionName, TemplateFunction>;
  resources: TemplateResources;
  gateways: GatewaySettings;
}

/** DefaultRouteSettings of an AWS::ApiGatewayV2::Stage, when it throttles. */
function stageThrottle(stage: { Properties?: Record<string, unknown> } | undefined): StageThrottle | undefined {
  const settings = stage?.Properties?.DefaultRouteSettings as { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number } | undefined;
  if (settings?.ThrottlingRateLimit === undefined || settings.ThrottlingBurstLimit === undefined) return undefined;
  return { rateLimit: settings.ThrottlingRateLimit, burstLimit: settings.ThrottlingBurstLimit };
}

/** Files whose content decides the template. */
function templateInputs(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|json)$/.test(entry)) files.push(full);
    }
  };
  walk(path.join(PROJECT_ROOT, 'lib'));
  walk(path.join(PROJECT_ROOT, 'lambdas', 'shared'));
  // This file too: what it extracts is part of the cached table.
  files.push(path.join(PROJECT_ROOT, 'cdk.json'), path.join(PROJECT_ROOT, 'package.json'), fileURLToPath(import.meta.url));
  return files;
}

export function templateKey(overrides: Record<string, unknown> = {}): string {
  const hash = createHash('sha256');
  for (const file of templateInputs()) {
    hash.update(path.relative(PROJECT_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  // The handler entries exist or not (ChatFunction checks them); their contents do not matter.
  hash.update(readdirSync(path.join(PROJECT_ROOT, 'lambdas', 'handlers')).sort().join(','));
  hash.update(JSON.stringify(overrides));
  return hash.digest('hex').slice(0, 20);
}

export function cdkContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return { ...(cdkJson.context ?? {}), ...overrides, 'aws:cdk:bundling-stacks': [] };
}

export function cacheDir(): string {
  return process.env.CHAT_TEMPLATE_CACHE ?? path.join(PROJECT_ROOT, '.local-data', 'templates');
}

/**
 * The function table of the template for these context overrides: from the disk cache, else
 * synthesized in this process (and cached).
 */
export async function loadFunctionTemplate(overrides: Record<string, unknown> = {}): Promise<FunctionTemplate> {
  const key = templateKey(overrides);
  const file = path.join(cacheDir(), `${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as FunctionTemplate;
  const table = await synthesizeFunctionTemplate(key, overrides);
  mkdirSync(cacheDir(), { recursive: true });
  // Written then renamed: a parallel test worker never reads half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(table));
  renameSync(tmp, file);
  return table;
}

async function synthesizeFunctionTemplate(key: string, overrides: Record<string, unknown>): Promise<FunctionTemplate> {
  // Loaded only on a cache miss: aws-cdk-lib alone takes a second or two to import.
  const [{ createChatApp }, { CfnElement }] = await Promise.all([import('../lib/app.js'), import('aws-cdk-lib')]);
  const context = cdkContext(overrides);
  const { app, stack } = createChatApp({ context });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
  const logicalId = (construct: { node: { defaultChild?: unknown } }): string => {
    const child = construct.node.defaultChild;
    if (!(child instanceof CfnElement)) throw new Error('construct without a CloudFormation resource');
    return stack.getLogicalId(child);
  };
  const resources = template.Resources;
  const functions = {} as Record<FunctionName, TemplateFunction>;
  for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
    const construct = stack.functions[name];
    const fnId = logicalId(construct.fn);
    const roleId = logicalId(construct.role);
    const props = resources[fnId]?.Properties ?? {};
    const policies = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && ((r.Properties?.Roles as unknown[]) ?? []).some((role) => (role as { Ref?: string }).Ref === roleId))
      .map(([id, r]) => ({ logicalId: id, document: r.Properties!.PolicyDocument as TemplateFunction['policies'][number]['document'] }));
    const eventSources = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping' && (r.Properties?.FunctionName as { Ref?: string })?.Ref === fnId)
      .map(([id, r]) => {
        const p = r.Properties!;
        return {
          logicalId: id,
          eventSourceArn: p.EventSourceArn,
          batchSize: (p.BatchSize as number | undefined) ?? 10,
          maxBatchingWindowSeconds: (p.MaximumBatchingWindowInSeconds as number | undefined) ?? 0,
          maximumConcurrency: (p.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency,
          reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
        };
      });
    functions[name] = {
      name,
      logicalId: fnId,
      roleLogicalId: roleId,
      logGroupLogicalId: logicalId(construct.logGroup),
      handler: String(props.Handler),
      runtime: String(props.Runtime),
      timeoutSeconds: (props.Timeout as number | undefined) ?? 3,
      memoryMb: (props.MemorySize as number | undefined) ?? 128,
      reservedConcurrency: props.ReservedConcurrentExecutions as number | undefined,
      environment: ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, CfnValue>,
      policies,
      eventSources,
    };
  }
  const tables: Record<string, string> = {};
  for (const [id, table] of Object.entries(stack.data.tables)) tables[id] = logicalId(table);
  const httpApiId = logicalId(stack.httpApi.api);
  const httpAuthorizer = Object.values(resources).find(
    (r) => r.Type === 'AWS::ApiGatewayV2::Authorizer' && (r.Properties?.ApiId as { Ref?: string } | undefined)?.Ref === httpApiId,
  );
  const gateways: GatewaySettings = {
    http: {
      throttle: stageThrottle(resources[logicalId(stack.httpApi.stage)]),
      authorizerCacheTtlSeconds: (httpAuthorizer?.Properties?.AuthorizerResultTtlInSeconds as number | undefined) ?? 0,
    },
    webSocket: { throttle: stageThrottle(resources[logicalId(stack.webSocketApi.stage)]) },
  };
  const queues: TemplateResources['queues'] = {};
  for (const { definition, queue, deadLetterQueue } of stack.queues.all) {
    queues[definition.id] = { queue: logicalId(queue), deadLetterQueue: logicalId(deadLetterQueue) };
  }
  return {
    key,
    context,
    functions,
    resources: {
      tables,
      queues,
      webSocketApi: logicalId(stack.webSocketApi.api),
      webSocketStage: stack.webSocketApi.stage.stageName,
      functionUrl: logicalId(stack.sse.functionUrl),
      stackName: stack.stackName,
      buckets: { Media: logicalId(stack.media.bucket) },
    },
    gateways,
  };
}
