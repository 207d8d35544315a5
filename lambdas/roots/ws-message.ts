/**
 * Composition root of the WebSocket message function: every client action, the Socket.IO CONNECT
 * answer, inline fan-out of small rooms, and resume replays posted to the caller.
 */
import { ApiGatewayConnectionGateway, GATEWAY_PERMISSIONS } from '../adapters/apigw-gateway.js';
import { dynamoClient, managementClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { loadConfig } from '../shared/config.js';
import { buildMessagePath, type MessagePathHooks, messagePathUses } from './message-path.js';
import { buildRoomAccess, roomAccessUses } from './rooms.js';
import { declareRoot, uses } from './wiring.js';

const connections = uses(CONNECTION_STORE_PERMISSIONS, ['get', 'setRoom', 'remove']);
const gateway = uses(GATEWAY_PERMISSIONS, ['post', 'disconnect']);

export const wsMessageDeclaration = declareRoot([...messagePathUses, connections, gateway, ...roomAccessUses], 'identity');

export function buildWsMessageRoot(hooks: MessagePathHooks = {}) {
  const config = loadConfig();
  return {
    gateway: gateway.narrow(new ApiGatewayConnectionGateway(managementClient(config.wsManagementEndpoint))),
    connections: connections.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable)),
    ...buildMessagePath(config, hooks),
    roomAccess: buildRoomAccess(config),
  };
}
