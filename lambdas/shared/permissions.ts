/**
 * IAM permissions as the code declares them: each adapter lists the actions each of its methods
 * calls, per resource, and each function's composition root (lambdas/roots) declares the methods it
 * wires. The stack grants exactly the union (lib/grants.ts), so a grant cannot drift from the code.
 */
import type { CONNECTIONS_TABLE, MEDIA_BUCKET, MESSAGES_TABLE, ROOMS_TABLE, TASK_QUEUE } from './resources.js';

type TableId = typeof CONNECTIONS_TABLE.id | typeof MESSAGES_TABLE.id | typeof ROOMS_TABLE.id;

/**
 * A resource of the stack, by name: a table, one of its indexes, a queue, the WebSocket API's
 * `@connections` management API, or the token-signing secret parameter.
 */
export type Resource =
  | `table/${TableId}`
  | `table/${TableId}/index/${string}`
  | `queue/${typeof TASK_QUEUE.id}`
  | 'websocket/@connections'
  | 'parameter/auth-secret'
  | `bucket/${typeof MEDIA_BUCKET.id}/${'uploads' | 'media'}/*`;

export type IamAction = `${'dynamodb' | 'sqs' | 'execute-api' | 'ssm' | 's3'}:${string}`;

export interface Permission {
  resource: Resource;
  actions: readonly IamAction[];
}

/** The IAM actions each method (or property) of a port's implementation calls. */
export type MethodPermissions<T> = { readonly [K in keyof T]-?: readonly Permission[] };

/** One entry per resource, actions sorted and unique: the form grants and tests compare. */
export function mergePermissions(permissions: readonly Permission[]): Permission[] {
  const byResource = new Map<Resource, Set<IamAction>>();
  for (const p of permissions) {
    const set = byResource.get(p.resource) ?? new Set<IamAction>();
    for (const a of p.actions) set.add(a);
    byResource.set(p.resource, set);
  }
  return [...byResource]
    .filter(([, actions]) => actions.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([resource, actions]) => ({ resource, actions: [...actions].sort() }));
}

/** The `@connections` management API: post, and delete a connection (one IAM action for both). */
export const MANAGE_CONNECTIONS: readonly Permission[] = [
  { resource: 'websocket/@connections', actions: ['execute-api:ManageConnections'] },
];

/** Token verifiers read the HS256 secret (when the stack uses one) with GetParameter. */
export const READ_AUTH_SECRET: readonly Permission[] = [{ resource: 'parameter/auth-secret', actions: ['ssm:GetParameter'] }];
