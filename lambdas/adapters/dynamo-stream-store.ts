/** StreamStore and TaskLedger on the messages table (partition = stream, sort = ULID). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { itemId, type StreamItem } from '../domain/model.js';
import type { StreamStore, TaskLedger } from '../domain/ports.js';

/** Ledger entries live in their own partitions of the messages table and expire after a day. */
const LEDGER_PREFIX = 'task#';
const LEDGER_TTL_SECONDS = 24 * 3600;

export class DynamoStreamStore implements StreamStore, TaskLedger {
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

  async isDone(key: string): Promise<boolean> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { stream: LEDGER_PREFIX + key, id: 'done' }, ProjectionExpression: 'id' }),
    );
    return out.Item !== undefined;
  }

  async markDone(key: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { stream: LEDGER_PREFIX + key, id: 'done', ttl: Math.floor(Date.now() / 1000) + LEDGER_TTL_SECONDS },
      }),
    );
  }
}
