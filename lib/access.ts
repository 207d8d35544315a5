/**
 * Who may do what, derived from the code: each function's composition root declares the IAM
 * actions of the adapter methods it wires (lambdas/roots, DECLARED), and `grantDeclared` turns
 * exactly those into policy statements, one per resource. There is no second list to keep in step.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { DECLARED } from '../lambdas/roots/declarations.js';
import type { AuthUse } from '../lambdas/roots/wiring.js';
import type { Permission, Resource } from '../lambdas/shared/permissions.js';
import type { FunctionName } from '../lambdas/shared/routes.js';
import type { Data, TableAccess, TableId } from './constructs/data.js';
import type { MediaBucket } from './constructs/media-bucket.js';

export { DECLARED };

/** A summary of DECLARED per function, for the stack's environment and for readers. */
export interface FunctionAccess {
  tables: Partial<Record<TableId, TableAccess>>;
  /** May send to the task queue. */
  sendTasks?: boolean;
  /** May post to and delete WebSocket connections (@connections). */
  manageConnections?: boolean;
  /** Reads or writes attachments (MEDIA_BUCKET). */
  media?: boolean;
  auth?: AuthUse;
}

const READS = new Set(['dynamodb:GetItem', 'dynamodb:Query']);

function summarize(permissions: readonly Permission[], auth: AuthUse | undefined): FunctionAccess {
  const access: FunctionAccess = { tables: {} };
  for (const { resource, actions } of permissions) {
    const table = resource.match(/^table\/([^/]+)/)?.[1] as TableId | undefined;
    if (table) {
      const reads = actions.some((a) => READS.has(a));
      const writes = actions.some((a) => !READS.has(a));
      const before = access.tables[table];
      const canRead = reads || before === 'read' || before === 'readWrite';
      const canWrite = writes || before === 'write' || before === 'readWrite';
      access.tables[table] = canRead && canWrite ? 'readWrite' : canRead ? 'read' : 'write';
    }
    if (resource.startsWith('queue/')) access.sendTasks = true;
    if (resource === 'websocket/@connections') access.manageConnections = true;
    if (resource.startsWith('bucket/')) access.media = true;
  }
  if (auth) access.auth = auth;
  return access;
}

export const ACCESS = Object.fromEntries(
  Object.entries(DECLARED).map(([name, d]) => [name, summarize(d.permissions, d.auth)]),
) as Record<FunctionName, FunctionAccess>;

/** The stack's resources a declared permission can name. */
export interface GrantTargets {
  data: Data;
  taskQueue: sqs.IQueue;
  /** Grants execute-api:ManageConnections on the stage's `@connections/*`. */
  grantManageConnections(fn: lambda.IFunction): void;
  /** The HS256 secret parameter, when tokens are verified with one (else nothing to grant). */
  authSecret?: { parameter: ssm.IParameter; key?: kms.IKey };
  /** The attachments bucket. */
  media?: MediaBucket;
}

/** Grants a function exactly its declared permissions: one statement per resource. */
export function grantDeclared(name: FunctionName, fn: lambda.IFunction, targets: GrantTargets): void {
  for (const { resource, actions } of DECLARED[name].permissions) {
    if (resource === 'websocket/@connections') {
      targets.grantManageConnections(fn);
      continue;
    }
    if (resource === 'parameter/auth-secret') {
      const secret = targets.authSecret;
      if (!secret) continue;
      iam.Grant.addToPrincipal({ grantee: fn, actions: [...actions], resourceArns: [secret.parameter.parameterArn] });
      // SecureString decryption: the default aws/ssm key needs no grant, a customer-managed one does.
      secret.key?.grantDecrypt(fn);
      continue;
    }
    if (resource.startsWith('bucket/')) {
      if (!targets.media) throw new Error(`${name} declares ${resource} but the stack has no media bucket`);
      targets.media.grant(fn, resource.split('/')[2] as 'uploads' | 'media', [...actions]);
      continue;
    }
    iam.Grant.addToPrincipal({ grantee: fn, actions: [...actions], resourceArns: [arnOf(resource, targets)] });
  }
}

function arnOf(resource: Resource, targets: GrantTargets): string {
  if (resource.startsWith('queue/')) return targets.taskQueue.queueArn;
  const [, table, , index] = resource.split('/') as [string, TableId, string?, string?];
  return index === undefined ? targets.data.tableArn(table) : targets.data.indexArn(table, index);
}
