/** What the API documents say about rooms: the room routes, their wire schemas and the `removed` event. */
import * as z from 'zod/mini';
import { createRoomSchema, memberPathSchema, roomPathSchema, roomsQuerySchema, roomUserSchema } from '../../lambdas/domain/schemas.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { type Example, example } from './checked.js';
import { T1 } from './examples.js';
import type { HttpOperationDoc } from './http.js';
import { describe } from './meta.js';

describe(createRoomSchema.shape.visibility, { description: '`private`: only members (and admins) may connect, join, send, read and stream it' });
describe(createRoomSchema.shape.members, { description: `Users to add besides the caller (the owner), at most ${LIMITS.roomInitialMembersMax}` });
describe(roomUserSchema.shape.user, { description: 'A user id (the `sub` of their token)' });
describe(roomsQuerySchema.shape.cursor, { description: 'The `next_cursor` of the previous page' });
describe(roomsQuerySchema.shape.limit, { description: `Page size, 1–${LIMITS.roomsMaxPage} (default ${LIMITS.roomsDefaultPage})` });

export const roomInfoSchema = describe(
  z.object({
    name: z.string(),
    visibility: z.enum(['public', 'private']),
    owner: describe(z.nullable(z.string()), { description: 'Who manages its members; null for a direct room' }),
    direct: describe(z.boolean(), { description: 'A direct room of two users' }),
    members: z.optional(describe(z.array(z.string()), { description: 'The two users of a direct room' })),
    created_at: z.iso.datetime(),
  }),
  { description: 'A room with a record (rooms without one are public)' },
);

const roomResponseSchema = z.object({ status: z.literal('success'), room: roomInfoSchema });
const roomListSchema = z.object({
  rooms: z.array(roomInfoSchema),
  next_cursor: describe(z.nullable(z.string()), { description: 'Pass as `cursor` for the next page; null on the last page' }),
});
const memberResponseSchema = z.object({ status: z.literal('success'), room: z.string(), user: z.string() });
const removedResponseSchema = z.object({
  status: z.literal('success'),
  room: z.string(),
  user: z.string(),
  connections: describe(z.number(), { description: "How many of the user's connections were in the room and were cut off" }),
});

export const removedEventSchema = z.object({ room: describe(z.string(), { description: 'The room the connection was removed from' }) });

type RoomInfoWire = z.infer<typeof roomInfoSchema>;
const PRIVATE: RoomInfoWire = { name: 'design', visibility: 'private', owner: 'alice', direct: false, created_at: T1 };
const DIRECT: RoomInfoWire = {
  name: 'dm:3f0c4b1e2d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c',
  visibility: 'private',
  owner: null,
  direct: true,
  members: ['alice', 'bob'],
  created_at: T1,
};
const ex = <T extends z.core.$ZodType>(schema: T, what: string, name: string, summary: string, value: z.infer<T>): Example => example(schema, what, name, summary, value as never);

const FORBIDDEN_TEXT = 'Not the owner of the room or an admin (the same answer whether or not the room exists)';

export const ROOM_HTTP_DOCS: Record<'createRoom' | 'listRooms' | 'openDirect' | 'addMember' | 'removeMember', HttpOperationDoc> = {
  createRoom: {
    summary: 'Create a room',
    description:
      'Creates a room owned by the caller. `409 conflict` when it exists, is a configured room (`general`) or is already in use (it has history or connections): rooms that exist today stay public.',
    tag: 'rooms',
    body: {
      schema: createRoomSchema,
      examples: [ex(createRoomSchema, 'POST /api/rooms', 'private', 'A private room with one more member', { name: 'design', visibility: 'private', members: ['bob'] })],
    },
    answers: [
      {
        status: 201,
        description: 'Created',
        schema: roomResponseSchema,
        examples: [ex(roomResponseSchema, 'POST /api/rooms', 'private', 'A private room', { status: 'success', room: PRIVATE })],
      },
    ],
    errors: ['invalid_json', 'validation_error', 'payload_too_large', 'conflict'],
    errorMessages: { conflict: 'Room "design" already exists' },
  },
  listRooms: {
    summary: 'List the rooms the caller may see',
    description: 'The private rooms the caller belongs to, then the public rooms with a record, each by name; paged by `next_cursor`.',
    tag: 'rooms',
    query: {
      schema: roomsQuerySchema,
      examples: [ex(roomsQuerySchema, 'GET /api/rooms', 'page', 'Twenty rooms', { limit: 20 })],
    },
    answers: [
      {
        status: 200,
        description: 'One page of rooms',
        schema: roomListSchema,
        examples: [ex(roomListSchema, 'GET /api/rooms', 'page', 'The last page', { rooms: [DIRECT, PRIVATE], next_cursor: null })],
      },
    ],
    errors: ['validation_error'],
  },
  openDirect: {
    summary: 'Open the direct room of two users',
    description: 'The one private room of the caller and `user`: the same room whoever asks first (`201` when this call created it, `200` after). Naming yourself is `400`.',
    tag: 'rooms',
    body: { schema: roomUserSchema, examples: [ex(roomUserSchema, 'POST /api/rooms/direct', 'bob', 'With bob', { user: 'bob' })] },
    answers: [
      {
        status: 201,
        description: 'Created by this call',
        schema: roomResponseSchema,
        examples: [ex(roomResponseSchema, 'POST /api/rooms/direct', 'created', 'alice and bob', { status: 'success', room: DIRECT })],
      },
      {
        status: 200,
        description: 'It existed',
        schema: roomResponseSchema,
        examples: [ex(roomResponseSchema, 'POST /api/rooms/direct 200', 'existing', 'alice and bob', { status: 'success', room: DIRECT })],
      },
    ],
    errors: ['invalid_json', 'validation_error', 'payload_too_large'],
  },
  addMember: {
    summary: 'Add a member',
    description: 'Owners and admins only.',
    tag: 'rooms',
    path: { schema: roomPathSchema, example: { room: 'design' } },
    body: { schema: roomUserSchema, examples: [ex(roomUserSchema, 'POST /api/rooms/{room}/members', 'carol', 'Add carol', { user: 'carol' })] },
    answers: [
      {
        status: 201,
        description: 'A member (again)',
        schema: memberResponseSchema,
        examples: [ex(memberResponseSchema, 'POST /api/rooms/{room}/members', 'carol', 'carol added', { status: 'success', room: 'design', user: 'carol' })],
      },
    ],
    errors: ['invalid_json', 'validation_error', 'payload_too_large', 'forbidden'],
    errorMessages: { forbidden: FORBIDDEN_TEXT },
  },
  removeMember: {
    summary: 'Remove a member',
    description:
      "Owners and admins only. The user's connections in the room stop receiving it at once and get the WebSocket event `removed {\"room\"}`; their SSE streams of the room end with an event `removed`.",
    tag: 'rooms',
    path: { schema: memberPathSchema, example: { room: 'design', user: 'bob' } },
    answers: [
      {
        status: 200,
        description: 'Removed',
        schema: removedResponseSchema,
        examples: [
          ex(removedResponseSchema, 'DELETE /api/rooms/{room}/members/{user}', 'bob', 'bob removed, one tab cut off', {
            status: 'success',
            room: 'design',
            user: 'bob',
            connections: 1,
          }),
        ],
      },
    ],
    errors: ['validation_error', 'forbidden'],
    errorMessages: { forbidden: FORBIDDEN_TEXT },
  },
};

export const REMOVED_EVENT_DOC = {
  summary: 'Removed from a room',
  description: 'The connection was removed from a private room by its owner or an admin: it no longer receives the room (as after `leave`).',
  data: removedEventSchema,
  dataName: 'Removed',
  examples: [{ name: 'design', summary: 'Removed from design', data: { room: 'design' } }],
};
