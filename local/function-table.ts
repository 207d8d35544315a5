/**
 * The template's function table resolved against the LOCAL resources: every CloudFormation
 * intrinsic (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, pseudo parameters) in a function's
 * environment, role policies and event source mappings is evaluated with the local table names,
 * queue URLs/ARNs, WebSocket API id and stage, and Function URL. URLs of AWS endpoints the
 * template builds (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`,
 * `wss://...`) are then replaced by the local endpoints that stand for them. A reference the
 * runtime cannot resolve fails loudly: nothing is guessed.
 */
import type { FunctionName } from '../lambdas/shared/routes.js';
import type { CfnValue, FunctionTemplate, TemplateEventSource } from './template.js';

export interface LocalResources {
  region: string;
  account: string;
  tables: Record<string, { name: string; arn: string }>;
  queues: Record<string, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
  webSocket: {
    apiId: string;
    /** Local base URL standing for `https://{apiId}.execute-api.{region}.amazonaws.com` (the @connections gate). */
    managementBase: string;
    /** Local base URL standing for `wss://{apiId}.execute-api.{region}.amazonaws.com`. */
    wsBase: string;
  };
  /** Local Function URL (with its trailing slash, as AWS gives it). */
  functionUrl: string;
  functionName(fn: FunctionName): string;
  /** BucketId → local bucket name (without one, a name of its own that no emulator serves). */
  buckets?: Record<string, string>;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, unknown>;
}

export interface ResolvedEventSource extends Omit<TemplateEventSource, 'eventSourceArn'> {
  eventSourceArn: string;
  queueUrl: string;
}

export interface ResolvedFunction {
  name: FunctionName;
  functionName: string;
  roleName: string;
  roleArn: string;
  handler: string;
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  reservedConcurrency?: number;
  environment: Record<string, string>;
  policies: Array<{ name: string; statements: PolicyStatement[] }>;
  eventSources: ResolvedEventSource[];
}

export type FunctionTable = Record<FunctionName, ResolvedFunction>;

class Resolver {
  private readonly refs = new Map<string, string>();
  private readonly attrs = new Map<string, string>();
  private readonly urls: Array<[string, string]>;

  constructor(template: FunctionTemplate, local: LocalResources) {
    const r = template.resources;
    const pseudo: Record<string, string> = {
      'AWS::Region': local.region,
      'AWS::AccountId': local.account,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': r.stackName,
      'AWS::NoValue': '',
    };
    for (const [name, value] of Object.entries(pseudo)) this.refs.set(name, value);
    for (const [id, logicalId] of Object.entries(r.tables)) {
      const table = local.tables[id];
      if (!table) throw new Error(`No local table for ${id}`);
      this.refs.set(logicalId, table.name);
      this.attrs.set(`${logicalId}.Arn`, table.arn);
    }
    for (const [id, ids] of Object.entries(r.queues)) {
      const queue = local.queues[id];
      if (!queue) throw new Error(`No local queue for ${id}`);
      this.refs.set(ids.queue, queue.url);
      this.attrs.set(`${ids.queue}.Arn`, queue.arn);
      this.attrs.set(`${ids.queue}.QueueUrl`, queue.url);
      this.refs.set(ids.deadLetterQueue, queue.dlqUrl);
      this.attrs.set(`${ids.deadLetterQueue}.Arn`, queue.dlqArn);
    }
    for (const [id, logicalId] of Object.entries(r.buckets ?? {})) {
      const name = local.buckets?.[id] ?? `local-${id.toLowerCase()}`;
      this.refs.set(logicalId, name);
      this.attrs.set(`${logicalId}.Arn`, `arn:aws:s3:::${name}`);
    }
    this.refs.set(r.webSocketApi, local.webSocket.apiId);
    this.attrs.set(`${r.functionUrl}.FunctionUrl`, local.functionUrl);
    for (const fn of Object.values(template.functions)) {
      const functionName = local.functionName(fn.name);
      this.refs.set(fn.logicalId, functionName);
      this.attrs.set(`${fn.logicalId}.Arn`, `arn:aws:lambda:${local.region}:${local.account}:function:${functionName}`);
      this.refs.set(fn.roleLogicalId, roleName(fn.roleLogicalId));
      this.attrs.set(`${fn.roleLogicalId}.Arn`, roleArn(local.account, fn.roleLogicalId));
      this.refs.set(fn.logGroupLogicalId, `/aws/lambda/${functionName}`);
      this.attrs.set(`${fn.logGroupLogicalId}.Arn`, `arn:aws:logs:${local.region}:${local.account}:log-group:/aws/lambda/${functionName}:*`);
    }
    const host = `${local.webSocket.apiId}.execute-api.${local.region}.amazonaws.com`;
    this.urls = [
      [`https://${host}`, local.webSocket.managementBase],
      [`wss://${host}`, local.webSocket.wsBase],
    ];
  }

  resolve(value: CfnValue, where: string): unknown {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, where));
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      switch (fn) {
        case 'Ref':
          return this.lookup(this.refs, String(arg), where);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
          return this.lookup(this.attrs, `${id}.${attr}`, where);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, CfnValue[]];
          return (this.resolve(parts, where) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, CfnValue];
          return (this.resolve(list, where) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [sep, source] = arg as [string, CfnValue];
          return String(this.resolve(source, where)).split(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, CfnValue>]) : [String(arg), {}];
          return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
            if (name in vars) return String(this.resolve(vars[name], where));
            if (name.includes('.')) return this.lookup(this.attrs, name, where);
            return this.lookup(this.refs, name, where);
          });
        }
        default:
          if (fn.startsWith('Fn::') || fn === 'Condition') throw new Error(`${where}: unsupported intrinsic ${fn}`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, where)]));
  }

  /** An AWS endpoint URL the template builds, as the local endpoint that stands for it. */
  localUrl(value: string): string {
    for (const [aws, local] of this.urls) if (value.startsWith(aws)) return local + value.slice(aws.length);
    return value;
  }

  private lookup(map: Map<string, string>, key: string, where: string): string {
    const value = map.get(key);
    if (value === undefined) throw new Error(`${where}: the local runtime cannot resolve ${key}`);
    return value;
  }
}

export function roleName(roleLogicalId: string): string {
  return roleLogicalId;
}

export function roleArn(account: string, roleLogicalId: string): string {
  return `arn:aws:iam::${account}:role/${roleName(roleLogicalId)}`;
}

export function resolveFunctionTable(template: FunctionTemplate, local: LocalResources): FunctionTable {
  const resolver = new Resolver(template, local);
  const table = {} as FunctionTable;
  for (const fn of Object.values(template.functions)) {
    const where = `${fn.name} (${fn.logicalId})`;
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(fn.environment)) {
      environment[name] = resolver.localUrl(String(resolver.resolve(value, `${where} env ${name}`)));
    }
    const policies = fn.policies.map((p) => ({
      name: p.logicalId,
      statements: resolver.resolve(p.document.Statement, `${where} policy ${p.logicalId}`) as PolicyStatement[],
    }));
    const eventSources = fn.eventSources.map((source) => {
      const arn = String(resolver.resolve(source.eventSourceArn, `${where} event source`));
      const queue = Object.values(local.queues).find((q) => q.arn === arn);
      if (!queue) throw new Error(`${where}: event source ${arn} is not a local queue`);
      return { ...source, eventSourceArn: arn, queueUrl: queue.url };
    });
    table[fn.name] = {
      name: fn.name,
      functionName: local.functionName(fn.name),
      roleName: roleName(fn.roleLogicalId),
      roleArn: roleArn(local.account, fn.roleLogicalId),
      handler: fn.handler,
      runtime: fn.runtime,
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      reservedConcurrency: fn.reservedConcurrency,
      environment,
      policies,
      eventSources,
    };
  }
  return table;
}
