/**
 * Presence and typing on the connections table. Who is in a room is read from the connection
 * records themselves through the `byRoomUser` index (room, then user); what was last announced per
 * (room, user) is a small state item (`presence#<room>#<user>`), and the typing gate a small item
 * per (room, user) (`typing#<room>#<user>`). Those items carry no `room` or `shard` attribute, so
 * no fan-out index ever sees them, and they expire by TTL. Rooms cannot contain `#`, so the keys
 * are unambiguous.
 */
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PresenceConnection, PresenceStore } from '../domain/presence.js';
import type { TypingGate } from '../domain/typing.js';
import { LIMITS } from '../shared/limits.js';
import type { MethodPermissions } from '../shared/permissions.js';

const INDEX = 'byRoomUser';
const update = [{ resource: 'table/Connections', actions: ['dynamodb:UpdateItem'] }] as const;
const query = [{ resource: `table/Connections/index/${INDEX}`, actions: ['dynamodb:Query'] }] as const;

export const PRESENCE_STORE_PERMISSIONS: MethodPermissions<PresenceStore> = {
  markOnline: update,
  markOffline: update,
  userConnections: query,
  roomConnections: query,
};

export const TYPING_GATE_PERMISSIONS: MethodPermissions<TypingGate> = { tryPass: update };

const isConditionFailure = (error: unknown) => (error as Error).name === 'ConditionalCheckFailedException';
/** State items outlive the longest connection, so an online user's state is never forgotten. */
const stateTtl = (nowMs: number) => Math.floor(nowMs / 1000) + LIMITS.connectionTtlSeconds + 86_400;

function toConnection(row: Record<string, unknown>): PresenceConnection {
  const connectedAt = row.connectedAt as string;
  return {
    connectionId: row.pk as string,
    userId: row.userId as string,
    enteredAt: (row.enteredAt as string | undefined) ?? connectedAt,
    expiresAt: Number(row.ttl ?? 0),
  };
}

export class DynamoPresenceStore implements PresenceStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async markOnline(room: string, userId: string, nowMs: number): Promise<boolean> {
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `presence#${room}#${userId}` },
        UpdateExpression: 'SET #state = :online, seen = :now, #ttl = :ttl',
        ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':online': 'online', ':now': nowMs, ':ttl': stateTtl(nowMs) },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return out.Attributes?.state !== 'online';
  }

  async markOffline(room: string, userId: string, leftAtMs: number, nowMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `presence#${room}#${userId}` },
          UpdateExpression: 'SET #state = :offline, #ttl = :ttl',
          // Entered again after that leave: that connection is live, or its own check follows.
          ConditionExpression: '#state = :online AND seen <= :left',
          ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':offline': 'offline', ':online': 'online', ':left': leftAtMs, ':ttl': stateTtl(nowMs) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async userConnections(room: string, userId: string, limit: number): Promise<PresenceConnection[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: INDEX,
        KeyConditionExpression: 'room = :room AND userId = :user',
        ExpressionAttributeValues: { ':room': room, ':user': userId },
        ProjectionExpression: 'pk, userId, connectedAt, enteredAt, #ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(toConnection);
  }

  async roomConnections(
    room: string,
    afterUser: string | undefined,
    startKey: string | undefined,
    limit: number,
  ): Promise<{ connections: PresenceConnection[]; next?: string }> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: INDEX,
        KeyConditionExpression: afterUser === undefined ? 'room = :room' : 'room = :room AND userId > :after',
        ExpressionAttributeValues: { ':room': room, ...(afterUser === undefined ? {} : { ':after': afterUser }) },
        ProjectionExpression: 'pk, userId, connectedAt, enteredAt, #ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        Limit: limit,
        ExclusiveStartKey: startKey ? (JSON.parse(Buffer.from(startKey, 'base64url').toString()) as Record<string, unknown>) : undefined,
      }),
    );
    const page: { connections: PresenceConnection[]; next?: string } = { connections: (out.Items ?? []).map(toConnection) };
    // Query pages also stop at 1 MB: LastEvaluatedKey says whether there is more, whatever Limit was.
    if (out.LastEvaluatedKey) page.next = Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url');
    return page;
  }
}

export class DynamoTypingGate implements TypingGate {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async tryPass(room: string, userId: string, nowMs: number, intervalMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `typing#${room}#${userId}` },
          UpdateExpression: 'SET #until = :until, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#until) OR #until <= :now',
          ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':until': nowMs + intervalMs, ':now': nowMs, ':ttl': Math.ceil((nowMs + intervalMs) / 1000) + 60 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
