/** TaskLedger on the messages table: entries live in their own partitions and expire after a day. */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TaskLedger } from '../domain/ports.js';
import type { MethodPermissions } from '../shared/permissions.js';

const LEDGER_PREFIX = 'task#';
const LEDGER_TTL_SECONDS = 24 * 3600;

export const TASK_LEDGER_PERMISSIONS: MethodPermissions<TaskLedger> = {
  isDone: [{ resource: 'table/Messages', actions: ['dynamodb:GetItem'] }],
  markDone: [{ resource: 'table/Messages', actions: ['dynamodb:PutItem'] }],
};

export class DynamoTaskLedger implements TaskLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

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
