/** StreamStore on the messages table (partition = stream, sort = ULID). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { itemId, type StreamItem } from '../domain/model.js';
import type { StreamStore } from '../domain/ports.js';
import type { MethodPermissions } from '../shared/permissions.js';

export const STREAM_STORE_PERMISSIONS: MethodPermissions<StreamStore> = {
  append: [{ resource: 'table/Messages', actions: ['dynamodb:PutItem'] }],
  pageBefore: [{ resource: 'table/Messages', actions: ['dynamodb:Query'] }],
  pageAfter: [{ resource: 'table/Messages', actions: ['dynamodb:Query'] }],
};

export class DynamoStreamStore implements StreamStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async append(item: StreamItem, ttlEpochSeconds: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { stream: item.stream, id: itemId(item), kind: item.kind, body: item, ttl: ttlEpochSeconds },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
        return false;
      }
      throw error;
    }
  }

  async pageBefore(stream: string, before: string | undefined, limit: number): Promise<StreamItem[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: before ? '#s = :s AND #id < :b' : '#s = :s',
        ExpressionAttributeNames: before ? { '#s': 'stream', '#id': 'id' } : { '#s': 'stream' },
        ExpressionAttributeValues: before ? { ':s': stream, ':b': before } : { ':s': stream },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((row) => row.body as StreamItem);
  }

  async pageAfter(stream: string, after: string, limit: number): Promise<StreamItem[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#s = :s AND #id > :a',
        ExpressionAttributeNames: { '#s': 'stream', '#id': 'id' },
        ExpressionAttributeValues: { ':s': stream, ':a': after },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((row) => row.body as StreamItem);
  }
}
