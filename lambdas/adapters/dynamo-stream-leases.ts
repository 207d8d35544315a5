/**
 * StreamLeases on the messages table: one partition per user (`sse#<user>`), one item per open
 * stream, keyed by a ULID of its expiry so the live leases are a key-condition Query; TTL removes
 * the expired ones (late, which the key condition does not mind).
 */
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ulidFloor } from '../domain/ids.js';
import type { StreamLeases } from '../domain/ports.js';
import type { MethodPermissions } from '../shared/permissions.js';

const partition = (userId: string) => `sse#${userId}`;

export const STREAM_LEASE_PERMISSIONS: MethodPermissions<StreamLeases> = {
  put: [{ resource: 'table/Messages', actions: ['dynamodb:PutItem'] }],
  countLive: [{ resource: 'table/Messages', actions: ['dynamodb:Query'] }],
  remove: [{ resource: 'table/Messages', actions: ['dynamodb:DeleteItem'] }],
};

export class DynamoStreamLeases implements StreamLeases {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(userId: string, leaseId: string, expiresAtSeconds: number): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.table, Item: { stream: partition(userId), id: leaseId, ttl: expiresAtSeconds } }));
  }

  async countLive(userId: string, nowSeconds: number, max: number): Promise<number> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#s = :s AND #id > :floor',
        ExpressionAttributeNames: { '#s': 'stream', '#id': 'id' },
        ExpressionAttributeValues: { ':s': partition(userId), ':floor': ulidFloor(nowSeconds * 1000) },
        // Strongly consistent: a lease written a moment ago by another stream must count.
        ConsistentRead: true,
        Select: 'COUNT',
        Limit: max,
      }),
    );
    return out.Count ?? 0;
  }

  async remove(userId: string, leaseId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.table, Key: { stream: partition(userId), id: leaseId } }));
  }
}
