/**
 * Rate counters as small items in the connections table (`rate#<key>#<window>`). They carry no
 * room or shard attribute, so they never appear in the fan-out indexes, and they expire by TTL.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RateCounter } from '../domain/ports.js';
import type { MethodPermissions } from '../shared/permissions.js';

export const RATE_COUNTER_PERMISSIONS: MethodPermissions<RateCounter> = {
  increment: [{ resource: 'table/Connections', actions: ['dynamodb:UpdateItem'] }],
};

export class DynamoRateCounter implements RateCounter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async increment(key: string, windowStart: number, expiresAt: number): Promise<number> {
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `rate#${key}#${windowStart}` },
        UpdateExpression: 'ADD hits :one SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':ttl': expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.hits ?? 0);
  }
}
