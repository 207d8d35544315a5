/**
 * Who may do what: the least-privilege grants of each function. The stack turns them into IAM
 * statements and environment variables (lib/chat-stack.ts), and the bundler leaves out the AWS SDK
 * clients a function has no permission to use (lib/bundling.ts).
 */
import type { FunctionName } from '../lambdas/shared/routes.js';
import type { TableAccess, TableId } from './constructs/data.js';

/**
 * How a function deals with the caller's identity:
 * - 'identity': reads the identity the authorizer attached (or the connection record holds), so
 *   it needs AUTH_MODE=jwt (with auth off, every caller is the anonymous admin and `sender` is
 *   taken as sent);
 * - 'verify': also verifies tokens itself, so it needs the key source and, for an HS256 secret,
 *   read access to its SSM parameter.
 */
export type AuthAccess = 'identity' | 'verify';

export interface FunctionAccess {
  tables: Partial<Record<TableId, TableAccess>>;
  /** May send to the task queue. */
  sendTasks?: boolean;
  /** May post to, get and delete WebSocket connections (@connections). */
  manageConnections?: boolean;
  auth?: AuthAccess;
}

export const ACCESS: Record<FunctionName, FunctionAccess> = {
  http: { tables: { Messages: 'readWrite', Connections: 'read' }, sendTasks: true, auth: 'identity' },
  wsConnect: { tables: { Connections: 'write' }, sendTasks: true, auth: 'identity' },
  wsDisconnect: { tables: { Connections: 'write' } },
  wsMessage: {
    tables: { Connections: 'readWrite', Messages: 'readWrite' },
    sendTasks: true,
    manageConnections: true,
    auth: 'identity',
  },
  tasks: { tables: { Connections: 'readWrite', Messages: 'readWrite' }, sendTasks: true, manageConnections: true },
  // The Function URL cannot run an authorizer: the handler verifies the token before streaming.
  sse: { tables: { Messages: 'read' }, auth: 'verify' },
  authorizer: { tables: {}, auth: 'verify' },
};
