/**
 * Composition root of the WebSocket message function: every client action, the Socket.IO CONNECT
 * answer, inline fan-out of small rooms, and resume replays posted to the caller.
 */
import { ApiGatewayConnectionGateway, GATEWAY_PERMISSIONS } from '../adapters/apigw-gateway.js';
import { dynamoClient, managementClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { openRooms } from '../domain/room-access.js';
import { loadConfig } from '../shared/config.js';
import { buildMessagePath, type MessagePathHooks, messagePathUses } from './message-path.js';
import { buildRoomAccess, roomAccessUses } from './rooms.js';
import { buildPresence, buildTyping, presenceEnter, presenceRead, typingGate } from './presence.js';
import { declareRoot, uses } from './wiring.js';

const connections = uses(CONNECTION_STORE_PERMISSIONS, ['get', 'setRoom', 'remove']);
const gateway = uses(GATEWAY_PERMISSIONS, ['post', 'disconnect']);

export const wsMessageDeclaration = declareRoot([...messagePathUses, connections, gateway, ...roomAccessUses, presenceEnter, presenceRead, typingGate], 'identity');

export function buildWsMessageRoot(hooks: MessagePathHooks = {}) {
  const config = loadConfig();
  const path = buildMessagePath(config, hooks);
  // The actions check the room of presence and typing themselves (ws-actions.ts: assertRoom, no
  // read for the connection's own room), so the services do not check it again.
  const wiring = { config, queue: path.queue, publish: path.publish, access: openRooms };
  const presence = buildPresence(wiring);
  return {
    gateway: gateway.narrow(new ApiGatewayConnectionGateway(managementClient(config.wsManagementEndpoint))),
    connections: connections.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable)),
    ...path,
    roomAccess: buildRoomAccess(config),
    presence,
    typing: buildTyping(wiring, presence),
  };
}
