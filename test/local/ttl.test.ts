/**
 * DynamoDB TTL on the embedded emulator (local/ttl-sweeper.ts): expired items are deleted as
 * DynamoDB's background TTL deletes them, and only those.
 */
import { BatchWriteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES_TABLE } from '../../lambdas/shared/resources.js';
import { LOCAL_CREDENTIALS } from '../../local/emulators.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getJson, postJson, uniqueRoom } from './helpers.js';

let rt: Runtime;
let ddb: DynamoDBClient;

beforeAll(async () => {
  // Sweeps on demand only, so what this test sees is what its own sweeps did.
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, ttlSweepSeconds: 0 });
  ddb = new DynamoDBClient({ region: rt.region, endpoint: rt.dynamoEndpoint, credentials: LOCAL_CREDENTIALS });
});

afterAll(async () => {
  ddb?.destroy();
  await rt?.stop();
});

describe('DynamoDB TTL on the embedded emulator', () => {
  it('deletes items whose Number TTL has passed, and keeps the rest as DynamoDB does', async () => {
    const table = rt.resources.tables[MESSAGES_TABLE.id]!;
    const stream = `ttl-test#${Date.now()}`;
    const now = Math.floor(Date.now() / 1000);
    const items: Record<string, Record<string, { N: string } | { S: string }> | undefined> = {
      expired: { ttl: { N: String(now - 10) } },
      future: { ttl: { N: String(now + 3600) } },
      // AWS does not process TTL values more than five years old.
      ancient: { ttl: { N: String(now - 6 * 365 * 24 * 3600) } },
      // Only a Number attribute is a TTL.
      text: { ttl: { S: String(now - 10) } },
      none: undefined,
    };
    for (const [id, extra] of Object.entries(items)) {
      await ddb.send(new PutItemCommand({ TableName: table, Item: { stream: { S: stream }, id: { S: id }, ...extra } }));
    }
    // More expired items than a sweep reads per request: every page is swept.
    const many = `${stream}#many`;
    for (let batch = 0; batch < 10; batch++) {
      const requests = Array.from({ length: 25 }, (_, i) => ({
        PutRequest: { Item: { stream: { S: many }, id: { S: String(batch * 25 + i).padStart(3, '0') }, ttl: { N: String(now - 60) } } },
      }));
      await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
    }
    const deleted = await rt.sweepExpiredItems!();
    expect(deleted).toBeGreaterThanOrEqual(251);
    const manyLeft = await ddb.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': { S: many } }, Select: 'COUNT' }));
    expect(manyLeft.Count).toBe(0);
    const left: string[] = [];
    for (const id of Object.keys(items)) {
      const out = await ddb.send(new GetItemCommand({ TableName: table, Key: { stream: { S: stream }, id: { S: id } } }));
      if (out.Item) left.push(id);
    }
    expect(left).toEqual(['future', 'ancient', 'text', 'none']);
  });

  it('leaves what the service stores with a live TTL: a message sent now is still in the history after a sweep', async () => {
    const room = uniqueRoom('ttl');
    const sent = await postJson(`${rt.httpUrl}/api/message`, { type: 'text', content: 'kept', sender: 'tester', room });
    expect(sent.status).toBe(201);
    await rt.sweepExpiredItems!();
    const history = await getJson(`${rt.httpUrl}/api/messages?room=${room}`);
    expect((history.body.messages as Array<{ content: string }>).map((m) => m.content)).toEqual(['kept']);
  });
});
