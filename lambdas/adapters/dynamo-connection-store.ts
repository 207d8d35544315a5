/** ConnectionStore on the connections table, with the byRoom and byShard indexes. */
import { indexEquals, queryUpTo } from './dynamo-query.js';
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, WireProtocol } from '../domain/model.js';
import type { ConnectionStore, MemberPage } from '../domain/ports.js';
import type { MethodPermissions, Permission } from '../shared/permissions.js';
import { CONNECTION_SHARDS } from '../shared/resources.js';

const on = (action: 'PutItem' | 'GetItem' | 'DeleteItem' | 'UpdateItem'): Permission[] => [
  { resource: 'table/Connections', actions: [`dynamodb:${action}`] },
];

export const CONNECTION_STORE_PERMISSIONS: MethodPermissions<ConnectionStore> = {
  put: on('PutItem'),
  get: on('GetItem'),
  remove: on('DeleteItem'),
  removeStale: on('DeleteItem'),
  setRoom: on('UpdateItem'),
  listRoom: [{ resource: 'table/Connections/index/byRoom', actions: ['dynamodb:Query'] }],
  listShard: [{ resource: 'table/Connections/index/byShard', actions: ['dynamodb:Query'] }],
  shardCount: [],
};

export function shardOf(connectionId: string): number {
  return createHash('sha1').update(connectionId).digest().readUInt16BE(0) % CONNECTION_SHARDS;
}

const encodeCursor = (key: Record<string, unknown> | undefined) =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
const decodeCursor = (cursor: string | undefined) =>
  cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Record<string, unknown>) : undefined;

function toRecord(row: Record<string, unknown>): ConnectionRecord {
  return {
    connectionId: row.pk as string,
    room: (row.room as string | undefined) ?? null,
    userId: row.userId as string,
    roles: (row.roles as string[] | undefined) ?? [],
    protocol: (row.protocol as WireProtocol | undefined) ?? 'json',
    connectedAt: row.connectedAt as string,
  };
}

export class DynamoConnectionStore implements ConnectionStore {
  readonly shardCount = CONNECTION_SHARDS;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(record: ConnectionRecord, ttlEpochSeconds: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: record.connectionId,
          room: record.room ?? undefined,
          shard: shardOf(record.connectionId),
          userId: record.userId,
          roles: record.roles,
          protocol: record.protocol,
          connectedAt: record.connectedAt,
          // When it entered its room (presence `since`); a join moves it.
          enteredAt: record.connectedAt,
          ttl: ttlEpochSeconds,
        },
      }),
    );
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk: connectionId } }));
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async remove(connectionId: string): Promise<ConnectionRecord | undefined> {
    const out = await this.client.send(new DeleteCommand({ TableName: this.table, Key: { pk: connectionId }, ReturnValues: 'ALL_OLD' }));
    return out.Attributes ? toRecord(out.Attributes) : undefined;
  }

  async removeStale(connectionId: string, connectedBefore: string): Promise<ConnectionRecord | undefined> {
    try {
      const out = await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: connectionId },
          ConditionExpression: 'connectedAt < :cutoff',
          ExpressionAttributeValues: { ':cutoff': connectedBefore },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes ? toRecord(out.Attributes) : undefined;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      return undefined;
    }
  }

  async setRoom(connectionId: string, room: string | null): Promise<ConnectionRecord | undefined> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: connectionId },
          // Without a room the item leaves the sparse byRoom index and only gets broadcasts.
          UpdateExpression: room === null ? 'REMOVE room' : 'SET room = :room, enteredAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ...(room === null ? {} : { ExpressionAttributeValues: { ':room': room, ':now': new Date().toISOString() } }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toRecord(out.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
        return undefined;
      }
      throw error;
    }
  }

  /** A page of up to `limit` members (queryUpTo follows LastEvaluatedKey past 1 MB pages). */
  private async query(index: string, keyName: string, value: string | number, cursor: string | undefined, limit: number) {
    const { items, last } = await queryUpTo(this.client, { ...indexEquals(this.table, index, keyName, value), ProjectionExpression: 'pk, protocol' }, limit, decodeCursor(cursor));
    const page: MemberPage = { members: items.map((row) => ({ connectionId: row.pk as string, protocol: (row.protocol as WireProtocol | undefined) ?? 'json' })) };
    const next = encodeCursor(last);
    if (next) page.cursor = next;
    return page;
  }

  listRoom(room: string, cursor: string | undefined, limit: number): Promise<MemberPage> {
    return this.query('byRoom', 'room', room, cursor, limit);
  }

  listShard(shard: number, cursor: string | undefined, limit: number): Promise<MemberPage> {
    return this.query('byShard', 'shard', shard, cursor, limit);
  }
}
