/**
 * Rooms on the Rooms table (lambdas/shared/resources.ts): per room a `meta` item and one
 * `member#<user>` item per member. Member items of private rooms carry `member` (the sparse
 * byMember index: "my rooms") and a copy of the room's fields; the meta item of a public room
 * carries `listing` (the sparse publicRooms index). Also the two connection-record operations a
 * member's removal needs (RoomConnections), on the Connections table.
 */
import { indexEquals, queryUpTo } from './dynamo-query.js';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, WireProtocol } from '../domain/model.js';
import type { RoomConnections } from '../domain/rooms-cutoff.js';
import type { RoomPage, RoomRecord, RoomStore } from '../domain/rooms.js';
import { backoffDelay, sleep } from '../domain/retry.js';
import type { MethodPermissions } from '../shared/permissions.js';

const META = 'meta';
const memberKey = (user: string) => `member#${user}`;
const PUBLIC_LISTING = 'public';
/** BatchGetItem/BatchWriteItem may leave keys unprocessed under throttling: retried this often. */
const BATCH_RETRIES = 5;

export const ROOM_STORE_PERMISSIONS: MethodPermissions<RoomStore> = {
  lookup: [{ resource: 'table/Rooms', actions: ['dynamodb:BatchGetItem'] }],
  get: [{ resource: 'table/Rooms', actions: ['dynamodb:GetItem'] }],
  create: [{ resource: 'table/Rooms', actions: ['dynamodb:PutItem'] }],
  addMembers: [{ resource: 'table/Rooms', actions: ['dynamodb:BatchWriteItem'] }],
  removeMember: [{ resource: 'table/Rooms', actions: ['dynamodb:DeleteItem'] }],
  listMemberRooms: [{ resource: 'table/Rooms/index/byMember', actions: ['dynamodb:Query'] }],
  listPublicRooms: [{ resource: 'table/Rooms/index/publicRooms', actions: ['dynamodb:Query'] }],
};

export const ROOM_CONNECTIONS_PERMISSIONS: MethodPermissions<RoomConnections> = {
  getMany: [{ resource: 'table/Connections', actions: ['dynamodb:BatchGetItem'] }],
  leaveRoom: [{ resource: 'table/Connections', actions: ['dynamodb:UpdateItem'] }],
};

function toRecord(row: Record<string, unknown>): RoomRecord {
  const record: RoomRecord = {
    name: row.room as string,
    visibility: row.visibility === 'public' ? 'public' : 'private',
    owner: typeof row.owner === 'string' ? row.owner : null,
    direct: row.direct === true,
    createdAt: row.createdAt as string,
  };
  if (Array.isArray(row.members)) record.members = row.members as string[];
  return record;
}

/** The room's fields as items store them (`owner` left out for direct rooms: no null in keys or GSIs). */
function fields(record: RoomRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { room: record.name, visibility: record.visibility, direct: record.direct, createdAt: record.createdAt };
  if (record.owner !== null) out.owner = record.owner;
  if (record.members) out.members = record.members;
  return out;
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';

/**
 * BatchGetItem of one table, retrying unprocessed keys. `consistent` for access decisions: a member
 * removed a moment ago must not pass on a stale read.
 */
async function batchGet(client: DynamoDBDocumentClient, table: string, keys: Record<string, unknown>[], consistent = false): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    let pending = keys.slice(start, start + 100);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > BATCH_RETRIES) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed on ${table}`);
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, 50, 1000));
      const out = await client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: consistent } } }));
      rows.push(...(out.Responses?.[table] ?? []));
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return rows;
}

export class DynamoRoomStore implements RoomStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async lookup(room: string, userId: string): Promise<{ record?: RoomRecord; member: boolean }> {
    const rows = await batchGet(this.client, this.table, [
      { room, sk: META },
      { room, sk: memberKey(userId) },
    ], true);
    const meta = rows.find((row) => row.sk === META);
    const member = rows.some((row) => row.sk === memberKey(userId));
    return meta ? { record: toRecord(meta), member } : { member };
  }

  async get(room: string): Promise<RoomRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.table, Key: { room, sk: META }, ConsistentRead: true }));
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async create(record: RoomRecord): Promise<boolean> {
    const item: Record<string, unknown> = { ...fields(record), sk: META };
    if (record.visibility === 'public') item.listing = PUBLIC_LISTING;
    try {
      await this.client.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(room)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async addMembers(record: RoomRecord, users: string[], now: string): Promise<void> {
    const items = users.map((user) => {
      const item: Record<string, unknown> = { ...fields(record), sk: memberKey(user), user, role: user === record.owner ? 'owner' : 'member', addedAt: now };
      if (record.visibility === 'private') item.member = user;
      return { PutRequest: { Item: item } };
    });
    for (let start = 0; start < items.length; start += 25) {
      let pending = items.slice(start, start + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > BATCH_RETRIES) throw new Error(`BatchWriteItem left ${pending.length} members unwritten on ${this.table}`);
        if (attempt > 0) await sleep(backoffDelay(attempt - 1, 50, 1000));
        const out = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (out.UnprocessedItems?.[this.table] ?? []) as typeof pending;
      }
    }
  }

  async removeMember(room: string, userId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.table, Key: { room, sk: memberKey(userId) } }));
  }

  /** Up to `limit` rooms of a sparse index: Query pages stop at 1 MB whatever their Limit, so it follows LastEvaluatedKey. */
  private async page(index: string, keyName: string, value: string, start: Record<string, unknown> | undefined, limit: number): Promise<RoomPage> {
    const { items, last } = await queryUpTo(this.client, indexEquals(this.table, index, keyName, value), limit, start);
    return { rooms: items.map(toRecord), more: last !== undefined };
  }

  listMemberRooms(userId: string, after: string | undefined, limit: number): Promise<RoomPage> {
    // The start key is rebuilt from the room name: a cursor can never reach another user's partition.
    const start = after === undefined ? undefined : { member: userId, room: after, sk: memberKey(userId) };
    return this.page('byMember', 'member', userId, start, limit);
  }

  listPublicRooms(after: string | undefined, limit: number): Promise<RoomPage> {
    const start = after === undefined ? undefined : { listing: PUBLIC_LISTING, room: after, sk: META };
    return this.page('publicRooms', 'listing', PUBLIC_LISTING, start, limit);
  }
}

export class DynamoRoomConnections implements RoomConnections {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getMany(connectionIds: string[]): Promise<ConnectionRecord[]> {
    // Strongly consistent: a connection that entered the room a moment ago must not be missed.
    const rows = await batchGet(
      this.client,
      this.table,
      connectionIds.map((pk) => ({ pk })),
      true,
    );
    return rows.map((row) => ({
      connectionId: row.pk as string,
      room: (row.room as string | undefined) ?? null,
      userId: row.userId as string,
      roles: (row.roles as string[] | undefined) ?? [],
      protocol: (row.protocol as WireProtocol | undefined) ?? 'json',
      connectedAt: row.connectedAt as string,
    }));
  }

  async leaveRoom(connectionId: string, room: string): Promise<boolean> {
    try {
      // Only if still in that room: a connection that moved on meanwhile keeps its new room.
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: connectionId },
          UpdateExpression: 'REMOVE room',
          ConditionExpression: 'room = :room',
          ExpressionAttributeValues: { ':room': room },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
