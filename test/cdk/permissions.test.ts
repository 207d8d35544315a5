/**
 * Grants cannot drift from the code: each function's role policies in the synthesized template
 * hold exactly the permissions its composition root declares (DECLARED, lambdas/roots), in both
 * directions: nothing granted that no wired adapter method calls, nothing declared that is not
 * granted. Also checks that the declarations themselves follow the roots: a root's narrowed ports
 * expose exactly the declared methods (what a recorded-calls check can compare against later).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_STORE_PERMISSIONS } from '../../lambdas/adapters/dynamo-connection-store.js';
import { uses } from '../../lambdas/roots/wiring.js';
import type { ConnectionStore } from '../../lambdas/domain/ports.js';
import { mergePermissions } from '../../lambdas/shared/permissions.js';
import { TASK_QUEUE } from '../../lambdas/shared/resources.js';
import { FUNCTIONS, type FunctionName } from '../../lambdas/shared/routes.js';
import { createChatApp } from '../../lib/app.js';
import { DECLARED } from '../../lib/access.js';
import type { ChatStack } from '../../lib/chat-stack.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON is untyped.
type Json = Record<string, any>;

const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
let outdir: string;
let stack: ChatStack;
let resources: Record<string, Json>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'chat-grants-'));
  ({ stack } = createChatApp({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], stage: 'qa', authSecretParameterName: '/chat/qa/jwt-secret' },
  }));
  resources = Template.fromStack(stack).toJSON().Resources;
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: IConstruct) => Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * What the SQS event source mapping needs on its queue, granted by CDK to the consumer's role: the
 * Lambda service polls with these, the function's code never calls them.
 */
const EVENT_SOURCE_ACTIONS = ['ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes', 'GetQueueUrl', 'ReceiveMessage'].map(
  (a) => `sqs:${a}`,
);

/** `<action> on <resource JSON>` pairs of a function's role, its own log group left out. */
function rawGranted(name: FunctionName): string[] {
  const roleId = logicalId(stack.functions[name].role);
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
  return statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => asArray<string>(s.Action).flatMap((a) => asArray(s.Resource).map((r) => `${a} on ${JSON.stringify(r)}`)))
    .filter((pair) => !pair.startsWith('logs:'))
    .sort();
}

/** What the function's code may call: the role minus the event source mapping's grants. */
function granted(name: FunctionName): string[] {
  const consumer = FUNCTIONS[name].entry === TASK_QUEUE.consumer;
  return rawGranted(name).filter((pair) => !(consumer && EVENT_SOURCE_ACTIONS.includes(pair.split(' ')[0]!)));
}

/** The same pairs from the declaration, each resource resolved to the ARN the stack uses for it. */
function declared(name: FunctionName): string[] {
  const arn = (resource: string): unknown => {
    if (resource === 'queue/Tasks') return stack.resolve(stack.queues.all[0]!.queue.queueArn);
    if (resource === 'parameter/auth-secret') return stack.resolve(stack.authSecret!.parameterArn);
    if (resource === 'websocket/@connections') return 'MANAGE';
    if (resource.startsWith('bucket/Media/')) return stack.resolve(stack.media.objectsArn(resource.split('/')[2] as 'uploads' | 'media'));
    const [, table, , index] = resource.split('/') as [string, 'Connections' | 'Messages', string?, string?];
    return stack.resolve(index ? stack.data.indexArn(table, index) : stack.data.tableArn(table));
  };
  return DECLARED[name].permissions
    .flatMap((p) => p.actions.map((a) => `${a} on ${JSON.stringify(arn(p.resource))}`))
    .sort();
}

describe('role policies are exactly the declared permissions', () => {
  it.each(FUNCTION_NAMES)('%s', (name) => {
    const manage = granted(name).filter((p) => p.startsWith('execute-api:ManageConnections on '));
    // @connections: the one action, on this API's stage and nothing wider (checked in the stack test).
    for (const p of manage) expect(p).toContain(`"${logicalId(stack.webSocketApi.api)}"`);
    const normalized = granted(name).map((p) => (p.startsWith('execute-api:ManageConnections on ') ? 'execute-api:ManageConnections on "MANAGE"' : p));
    expect([...new Set(normalized)].sort()).toEqual(declared(name));
  });

  it('the REST function counts its rate limit, delivers inline and cuts removed members off: UpdateItem, DeleteItem (stale), BatchGetItem and the byRoom index there; presence reads byRoomUser', () => {
    const connections = DECLARED.http.permissions.filter((p) => p.resource.startsWith('table/Connections'));
    expect(connections).toEqual([
      { resource: 'table/Connections', actions: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'] },
      { resource: 'table/Connections/index/byRoom', actions: ['dynamodb:Query'] },
      { resource: 'table/Connections/index/byRoomUser', actions: ['dynamodb:Query'] },
    ]);
  });

  it('the event source grants are on the consumer only, and only on its queue', () => {
    const queueArn = JSON.stringify(stack.resolve(stack.queues.all[0]!.queue.queueArn));
    for (const name of FUNCTION_NAMES) {
      const polling = rawGranted(name).filter((p) => EVENT_SOURCE_ACTIONS.includes(p.split(' ')[0]!));
      const consumer = FUNCTIONS[name].entry === TASK_QUEUE.consumer;
      expect(polling, name).toEqual(consumer ? EVENT_SOURCE_ACTIONS.map((a) => `${a} on ${queueArn}`).sort() : []);
    }
  });

  it('no function is granted Scan, batch or transaction actions, or DescribeTable, beyond the room batches', () => {
    // Batches only where one request replaces several: the membership check (room record and
    // member item in one BatchGetItem), a room's members written together, and the records of a
    // room's connections read together when a member is removed.
    const ROOM_BATCHES = new Set([
      'dynamodb:BatchGetItem table/Rooms',
      'dynamodb:BatchWriteItem table/Rooms',
      'dynamodb:BatchGetItem table/Connections',
    ]);
    for (const name of FUNCTION_NAMES) {
      const batches = DECLARED[name].permissions.flatMap((p) => p.actions.filter((a) => /Batch/.test(a)).map((a) => `${a} ${p.resource}`));
      expect(batches.filter((b) => !ROOM_BATCHES.has(b)), name).toEqual([]);
      expect(granted(name).filter((p) => /Scan|Transact|DescribeTable/.test(p)), name).toEqual([]);
    }
  });
});

describe('declarations follow the roots', () => {
  it('a narrowed port exposes exactly the declared methods and their permissions', () => {
    const calls: string[] = [];
    const fake = new Proxy({} as ConnectionStore, {
      get: (_target, key) => (key === 'shardCount' ? 16 : (...args: unknown[]) => calls.push(`${String(key)}:${args.length}`)),
    });
    const use = uses(CONNECTION_STORE_PERMISSIONS, ['put', 'listRoom']);
    const narrowed = use.narrow(fake) as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(Object.keys(narrowed).sort()).toEqual(['listRoom', 'put']);
    narrowed.put!('x', 1);
    expect(calls).toEqual(['put:2']);
    expect(mergePermissions(use.permissions)).toEqual([
      { resource: 'table/Connections', actions: ['dynamodb:PutItem'] },
      { resource: 'table/Connections/index/byRoom', actions: ['dynamodb:Query'] },
    ]);
  });

  it('every declaration is merged: one entry per resource, sorted actions', () => {
    for (const name of FUNCTION_NAMES) expect(DECLARED[name].permissions, name).toEqual(mergePermissions(DECLARED[name].permissions));
  });
});
