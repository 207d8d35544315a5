/** StreamStore on the messages table (partition = stream, sort = ULID). */
import { queryUpTo } from './dynamo-query.js';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
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

  pageBefore(stream: string, before: string | undefined, limit: number): Promise<StreamItem[]> {
    return this.query(
      {
        KeyConditionExpression: before ? '#s = :s AND #id < :b' : '#s = :s',
        ExpressionAttributeNames: before ? { '#s': 'stream', '#id': 'id' } : { '#s': 'stream' },
        ExpressionAttributeValues: before ? { ':s': stream, ':b': before } : { ':s': stream },
        ScanIndexForward: false,
      },
      limit,
    );
  }

  pageAfter(stream: string, after: string, limit: number): Promise<StreamItem[]> {
    return this.query(
      {
        KeyConditionExpression: '#s = :s AND #id > :a',
        ExpressionAttributeNames: { '#s': 'stream', '#id': 'id' },
        ExpressionAttributeValues: { ':s': stream, ':a': after },
        ScanIndexForward: true,
        // Catch-up after a reconnect (resume, SSE Last-Event-ID) must see a write made a moment
        // ago: an eventually consistent read could skip it and leave a gap (twice the read units).
        ConsistentRead: true,
      },
      limit,
    );
  }

  private async query(input: Omit<QueryCommandInput, 'TableName' | 'Limit'>, limit: number): Promise<StreamItem[]> {
    const { items } = await queryUpTo(this.client, { ...input, TableName: this.table }, limit);
    return items.map((row) => row.body as StreamItem);
  }
}
