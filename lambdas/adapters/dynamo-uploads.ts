/**
 * Pending uploads on the messages table: one item per attachment id in its own partition
 * (`upload#<id>`), expiring by TTL when never used. Marking one used is ONE conditional UpdateItem
 * (exists, the owner's, unexpired, unused); only when it fails is the item read to say why.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MarkUsedOutcome, PendingUpload, UploadRecords } from '../domain/attachments.js';
import type { MethodPermissions } from '../shared/permissions.js';

const PREFIX = 'upload#';
const ID = 'upload';

export const UPLOAD_RECORD_PERMISSIONS: MethodPermissions<UploadRecords> = {
  put: [{ resource: 'table/Messages', actions: ['dynamodb:PutItem'] }],
  markUsed: [{ resource: 'table/Messages', actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'] }],
  release: [{ resource: 'table/Messages', actions: ['dynamodb:UpdateItem'] }],
};

const conditionFailed = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';

function uploadOf(item: Record<string, unknown>): PendingUpload {
  const upload: PendingUpload = {
    id: String(item.attachmentId),
    owner: String(item.owner),
    type: item.type === 'audio' ? 'audio' : 'image',
    format: String(item.format),
    size: Number(item.size),
    key: String(item.key),
    expiresAt: Number(item.ttl),
  };
  if (typeof item.usedBy === 'string') upload.usedBy = item.usedBy;
  return upload;
}

export class DynamoUploadRecords implements UploadRecords {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(upload: PendingUpload): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          stream: PREFIX + upload.id,
          id: ID,
          attachmentId: upload.id,
          owner: upload.owner,
          type: upload.type,
          format: upload.format,
          size: upload.size,
          key: upload.key,
          ttl: upload.expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(#s)',
        ExpressionAttributeNames: { '#s': 'stream' },
      }),
    );
  }

  async markUsed(id: string, owner: string, usedBy: string, nowSeconds: number): Promise<MarkUsedOutcome> {
    const key = { stream: PREFIX + id, id: ID };
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET usedBy = :by',
          ConditionExpression: 'attribute_exists(#s) AND #owner = :owner AND #ttl > :now AND attribute_not_exists(usedBy)',
          ExpressionAttributeNames: { '#s': 'stream', '#owner': 'owner', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':by': usedBy, ':owner': owner, ':now': nowSeconds },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { status: 'claimed', upload: uploadOf(out.Attributes ?? {}) };
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
    const out = await this.client.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    const item = out.Item;
    // TTL deletion lags: an expired record is as good as gone.
    if (!item || Number(item.ttl) <= nowSeconds) return { status: 'missing' };
    if (item.owner !== owner) return { status: 'foreign' };
    return { status: 'used', upload: uploadOf(item) };
  }

  async release(id: string, usedBy: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { stream: PREFIX + id, id: ID },
          UpdateExpression: 'REMOVE usedBy',
          ConditionExpression: 'usedBy = :by',
          ExpressionAttributeValues: { ':by': usedBy },
        }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
  }
}
