/**
 * Up to `limit` items of one Query: a Query page stops at 1 MB whatever its Limit, so it follows
 * LastEvaluatedKey until it has `limit` items or the key range ends. `last` is where the next
 * page starts (undefined at the end), for adapters that hand out cursors.
 */
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

export type StartKey = Record<string, unknown> | undefined;

/** The Query of one index partition: every item whose `keyName` is `value`. */
export function indexEquals(table: string, index: string, keyName: string, value: string | number): Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'> {
  return {
    TableName: table,
    IndexName: index,
    KeyConditionExpression: '#k = :v',
    ExpressionAttributeNames: { '#k': keyName },
    ExpressionAttributeValues: { ':v': value },
  };
}

export async function queryUpTo(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  limit: number,
  start?: StartKey,
): Promise<{ items: Record<string, unknown>[]; last: StartKey }> {
  const items: Record<string, unknown>[] = [];
  let next = start;
  do {
    const out = await client.send(new QueryCommand({ ...input, Limit: limit - items.length, ExclusiveStartKey: next }));
    items.push(...(out.Items ?? []));
    next = out.LastEvaluatedKey;
  } while (next && items.length < limit);
  return { items, last: next };
}
