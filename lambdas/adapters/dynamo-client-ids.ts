/**
 * ClientIdRegistry on the messages table: one item per (sender, client_id) in its own partition,
 * written with a condition (no transactions: one conditional Put decides which send stores), and
 * expiring with the window. TTL deletion lags, so the condition also treats an expired item as free.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatMessage } from '../domain/model.js';
import type { ClientIdRegistry } from '../domain/ports.js';
import type { MethodPermissions } from '../shared/permissions.js';

const PREFIX = 'client#';
const ID = 'claim';

export const CLIENT_ID_PERMISSIONS: MethodPermissions<ClientIdRegistry> = {
  claim: [{ resource: 'table/Messages', actions: ['dynamodb:PutItem', 'dynamodb:GetItem'] }],
  release: [{ resource: 'table/Messages', actions: ['dynamodb:DeleteItem'] }],
};

export class DynamoClientIds implements ClientIdRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(key: string, message: ChatMessage, nowSeconds: number, expiresAt: number): Promise<ChatMessage | undefined> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { stream: PREFIX + key, id: ID, message, ttl: expiresAt },
          ConditionExpression: 'attribute_not_exists(#s) OR #ttl < :now',
          ExpressionAttributeNames: { '#s': 'stream', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) && (error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
    const out = await this.client.send(new GetCommand({ TableName: this.table, Key: { stream: PREFIX + key, id: ID }, ConsistentRead: true }));
    // Released between the two calls (its send failed): this one goes ahead and stores.
    return out.Item ? (out.Item.message as ChatMessage) : undefined;
  }

  async release(key: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.table, Key: { stream: PREFIX + key, id: ID } }));
  }
}
