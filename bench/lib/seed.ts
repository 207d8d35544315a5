/** Connection records written straight into the connections table with BatchWriteItem. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { shardOf } from '../../lambdas/adapters/dynamo-connection-store.js';
import { LOCAL_CREDENTIALS } from '../../local/emulators.js';
import { connectionId } from './events.js';

export function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 8 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** Writes `items` in batches of 25, `parallel` batches at a time, retrying unprocessed items. */
export async function batchWrite(ddb: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[], parallel = 8): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
      while (next < chunks.length) {
        let requests = chunks[next++]!.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
          if (requests.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        }
      }
    }),
  );
}

/** `count` connection records in `room` (JSON protocol, connected an hour ago). Returns their ids. */
export async function seedRoom(ddb: DynamoDBDocumentClient, table: string, room: string, count: number, ids: string[] = []): Promise<string[]> {
  const connectedAt = new Date(Date.now() - 3600_000).toISOString();
  const ttl = Math.floor(Date.now() / 1000) + 3 * 3600;
  while (ids.length < count) ids.push(connectionId());
  const items = ids.slice(0, count).map((pk) => ({ pk, room, shard: shardOf(pk), userId: `u-${pk.slice(0, 6)}`, roles: [], protocol: 'json', connectedAt, ttl }));
  await batchWrite(ddb, table, items);
  return ids.slice(0, count);
}
