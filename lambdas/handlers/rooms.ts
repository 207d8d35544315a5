/**
 * The room routes of the REST function: zod at the edge, the room service, the result mapped to
 * JSON. Kept apart from http.ts, which spreads these into its operation table.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Identity } from '../domain/model.js';
import { roomInfo, type RoomService } from '../domain/rooms.js';
import { createRoomSchema, memberPathSchema, roomPathSchema, roomsQuerySchema, roomUserSchema } from '../domain/schemas.js';
import { parseWith } from '../domain/validation.js';
import { type HttpResult, json } from './common/http-response.js';

type RoomOperation = 'createRoom' | 'listRooms' | 'openDirect' | 'addMember' | 'removeMember';
type Operation = (event: APIGatewayProxyEventV2, params: Record<string, string>) => Promise<HttpResult>;

export function roomOperations(
  identityOf: (event: APIGatewayProxyEventV2) => Identity,
  readJsonBody: (event: APIGatewayProxyEventV2) => unknown,
  rooms: () => RoomService,
): Record<RoomOperation, Operation> {
  return {
    async createRoom(event) {
      const identity = identityOf(event);
      const input = parseWith(createRoomSchema, readJsonBody(event), 'room');
      const record = await rooms().create(identity, input);
      return json(201, { status: 'success', room: roomInfo(record) });
    },

    async listRooms(event) {
      const identity = identityOf(event);
      const query = parseWith(roomsQuerySchema, event.queryStringParameters ?? {}, 'query');
      const page = await rooms().list(identity, query.cursor, query.limit);
      return json(200, { rooms: page.rooms.map(roomInfo), next_cursor: page.cursor ?? null });
    },

    async openDirect(event) {
      const identity = identityOf(event);
      const input = parseWith(roomUserSchema, readJsonBody(event), 'direct room');
      const { record, created } = await rooms().openDirect(identity, input.user);
      return json(created ? 201 : 200, { status: 'success', room: roomInfo(record) });
    },

    async addMember(event, params) {
      const identity = identityOf(event);
      const { room } = parseWith(roomPathSchema, params, 'path');
      const input = parseWith(roomUserSchema, readJsonBody(event), 'member');
      await rooms().addMember(identity, room, input.user);
      return json(201, { status: 'success', room, user: input.user });
    },

    async removeMember(event, params) {
      const identity = identityOf(event);
      const { room, user } = parseWith(memberPathSchema, params, 'path');
      const { connections } = await rooms().removeMember(identity, room, user);
      return json(200, { status: 'success', room, user, connections });
    },
  };
}
