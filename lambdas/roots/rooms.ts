/**
 * Room wiring shared by the composition roots: the membership check every room-naming function
 * wires (one BatchGetItem on Rooms), and the room service of the REST function (create, list,
 * members, and the cut-off of a removed member's connections).
 */
import { ApiGatewayConnectionGateway, GATEWAY_PERMISSIONS } from '../adapters/apigw-gateway.js';
import { dynamoClient, managementClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { DynamoRoomConnections, DynamoRoomStore, ROOM_CONNECTIONS_PERMISSIONS, ROOM_STORE_PERMISSIONS } from '../adapters/dynamo-rooms.js';
import { DynamoStreamStore, STREAM_STORE_PERMISSIONS } from '../adapters/dynamo-stream-store.js';
import { ADMIN_ROLE } from '../auth/settings.js';
import { systemClock } from '../domain/ports.js';
import type { RoomAccess } from '../domain/room-access.js';
import { MemberRoomAccess, RoomService } from '../domain/rooms.js';
import { cutOff } from '../domain/rooms-cutoff.js';
import type { AppConfig } from '../shared/config.js';
import { uses } from './wiring.js';

const lookup = uses(ROOM_STORE_PERMISSIONS, ['lookup']);

/** What a function that checks room access declares. */
export const roomAccessUses = [lookup];

export function buildRoomAccess(config: AppConfig): RoomAccess {
  return new MemberRoomAccess(lookup.narrow(new DynamoRoomStore(dynamoClient(), config.roomsTable)), ADMIN_ROLE);
}

const store = uses(ROOM_STORE_PERMISSIONS, ['lookup', 'get', 'create', 'addMembers', 'removeMember', 'listMemberRooms', 'listPublicRooms']);
const history = uses(STREAM_STORE_PERMISSIONS, ['pageBefore']);
const members = uses(CONNECTION_STORE_PERMISSIONS, ['listRoom']);
const records = uses(ROOM_CONNECTIONS_PERMISSIONS, ['getMany', 'leaveRoom']);
const post = uses(GATEWAY_PERMISSIONS, ['post']);

/** What the REST function declares for the room routes. */
export const roomServiceUses = [store, history, members, records, post];

/** `afterCutOff`: told about a user whose connections left a room (presence schedules their check). */
export function buildRoomService(config: AppConfig, afterCutOff?: (room: string, userId: string) => Promise<void>): RoomService {
  const connections = members.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable));
  const cutOffDeps = {
    connections,
    records: records.narrow(new DynamoRoomConnections(dynamoClient(), config.connectionsTable)),
    gateway: post.narrow(new ApiGatewayConnectionGateway(managementClient(config.wsManagementEndpoint))),
  };
  return new RoomService({
    store: store.narrow(new DynamoRoomStore(dynamoClient(), config.roomsTable)),
    history: history.narrow(new DynamoStreamStore(dynamoClient(), config.messagesTable)),
    connections,
    clock: systemClock,
    adminRole: ADMIN_ROLE,
    cutOff: async (room, userId) => {
      const count = await cutOff(cutOffDeps, room, userId);
      if (count > 0) await afterCutOff?.(room, userId);
      return count;
    },
  });
}
