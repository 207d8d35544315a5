/**
 * Rate counters as small items in the connections table (`rate#<key>#<window>`), several counters
 * per item (a user's and each of its connections'), all incremented by one UpdateItem. They carry
 * no room or shard attribute, so they never appear in the fan-out indexes, and they expire by TTL.
 * An item holds one counter per connection of its user that sent in the window: a few for a person.
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

  async increment(key: string, counters: readonly string[], windowStart: number, expiresAt: number): Promise<Record<string, number>> {
    // Counter names are data (connection ids): always passed as expression attribute names.
    const names: Record<string, string> = { '#ttl': 'ttl' };
    counters.forEach((counter, i) => {
      names[`#c${i}`] = counter;
    });
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `rate#${key}#${windowStart}` },
        UpdateExpression: `ADD ${counters.map((_, i) => `#c${i} :one`).join(', ')} SET #ttl = :ttl`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':one': 1, ':ttl': expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Object.fromEntries(counters.map((counter) => [counter, Number(out.Attributes?.[counter] ?? 0)]));
  }
}
