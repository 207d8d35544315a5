/**
 * Every function's declared IAM permissions and auth use, from its composition root: what the
 * stack grants (lib/grants.ts), and what a check of recorded SDK calls can compare against.
 */
import type { FunctionName } from '../shared/routes.js';
import { authorizerDeclaration } from './authorizer.js';
import { httpDeclaration } from './http.js';
import { sseDeclaration } from './sse.js';
import { tasksDeclaration } from './tasks.js';
import type { RootDeclaration } from './wiring.js';
import { wsConnectDeclaration } from './ws-connect.js';
import { wsDisconnectDeclaration } from './ws-disconnect.js';
import { wsMessageDeclaration } from './ws-message.js';

export type { RootDeclaration } from './wiring.js';

export const DECLARED: Record<FunctionName, RootDeclaration> = {
  http: httpDeclaration,
  wsConnect: wsConnectDeclaration,
  wsDisconnect: wsDisconnectDeclaration,
  wsMessage: wsMessageDeclaration,
  tasks: tasksDeclaration,
  sse: sseDeclaration,
  authorizer: authorizerDeclaration,
};
