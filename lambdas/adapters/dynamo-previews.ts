/**
 * Sets a preview on a stored message item of the messages table (lambdas/adapters/dynamo-stream-store.ts
 * stores the item under `body`): one UpdateItem, conditional on the item existing with that attachment,
 * so a task never creates an item and a redelivered one writes the same value again.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { roomStream } from '../domain/model.js';
import type { PreviewStore } from '../domain/previews.js';
import type { MethodPermissions } from '../shared/permissions.js';

export const PREVIEW_STORE_PERMISSIONS: MethodPermissions<PreviewStore> = {
  setPreview: [{ resource: 'table/Messages', actions: ['dynamodb:UpdateItem'] }],
};

export class DynamoPreviewStore implements PreviewStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async setPreview(room: string, messageId: string, attachmentId: string, preview: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { stream: roomStream(room), id: messageId },
          UpdateExpression: 'SET #b.#m.#a.#p = :p',
          ConditionExpression: '#b.#m.#a.#i = :att',
          ExpressionAttributeNames: { '#b': 'body', '#m': 'message', '#a': 'attachment', '#p': 'preview', '#i': 'id' },
          ExpressionAttributeValues: { ':p': preview, ':att': attachmentId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
