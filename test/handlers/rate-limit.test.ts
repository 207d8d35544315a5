/**
 * The rate limiter on its DynamoDB counters (embedded DynamoDB): a message costs one write however
 * many counters it moves (the user's and its connection's share a record), and each limit is
 * still enforced on its own.
 */
import '../support/quiet.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateCounter } from '../../lambdas/adapters/dynamo-rate-counter.js';
import { ChatError } from '../../lambdas/domain/errors.js';
import { RateLimiter } from '../../lambdas/domain/rate-limit.js';
import { CONNECTIONS_TABLE } from '../../lambdas/shared/resources.js';
import { type Emulators, LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources, startEmulators } from '../../local/emulators.js';

let emulators: Emulators;
let ddb: DynamoDBDocumentClient;
let table: string;
const writes: string[] = [];

beforeAll(async () => {
  emulators = await startEmulators();
  const resources = await provisionResources({ dynamoEndpoint: emulators.dynamoEndpoint, sqsEndpoint: emulators.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, prefix: 'rate-' });
  table = resources.tables[CONNECTIONS_TABLE.id]!;
  const client = new DynamoDBClient({ endpoint: emulators.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      writes.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  ddb = DynamoDBDocumentClient.from(client);
});

afterAll(async () => {
  ddb?.destroy();
  await emulators?.stop();
});

const clock = (ms: number) => ({ now: () => ms });
const settings = { windowSeconds: 10, perConnection: 2, perUser: 3 };

async function outcome(limiter: RateLimiter, connectionId: string | undefined, userId: string | undefined): Promise<string> {
  try {
    await limiter.check(connectionId, userId);
    return 'ok';
  } catch (error) {
    return error instanceof ChatError ? error.code : String(error);
  }
}

describe('RateLimiter on DynamoDB', () => {
  it('moves the user and connection counters with one UpdateItem per message', async () => {
    const limiter = new RateLimiter(new DynamoRateCounter(ddb, table), clock(1_000_000), settings);
    writes.length = 0;
    expect(await outcome(limiter, 'c1', 'alice')).toBe('ok');
    expect(writes).toEqual(['UpdateItemCommand']);
  });

  it('limits each connection and the user on their own', async () => {
    const limiter = new RateLimiter(new DynamoRateCounter(ddb, table), clock(2_000_000), settings);
    expect(await outcome(limiter, 'a1', 'bob')).toBe('ok');
    expect(await outcome(limiter, 'a1', 'bob')).toBe('ok');
    // The connection's third message in the window is over its limit of 2...
    expect(await outcome(limiter, 'a1', 'bob')).toBe('rate_limited');
    // ...and the user's fifth (from another connection, which has room left) over a user limit of 4.
    const other = new RateLimiter(new DynamoRateCounter(ddb, table), clock(2_000_000), { ...settings, perUser: 4 });
    expect(await outcome(other, 'a2', 'bob')).toBe('ok');
    expect(await outcome(other, 'a2', 'bob')).toBe('rate_limited');
    // Another user is not affected, nor the next window.
    expect(await outcome(limiter, 'b1', 'carol')).toBe('ok');
    const later = new RateLimiter(new DynamoRateCounter(ddb, table), clock(2_000_000 + 10_000), settings);
    expect(await outcome(later, 'a1', 'bob')).toBe('ok');
  });

  it('counts a connection without a user in a record of its own', async () => {
    const limiter = new RateLimiter(new DynamoRateCounter(ddb, table), clock(3_000_000), settings);
    expect(await outcome(limiter, 'solo', undefined)).toBe('ok');
    expect(await outcome(limiter, 'solo', undefined)).toBe('ok');
    expect(await outcome(limiter, 'solo', undefined)).toBe('rate_limited');
    expect(await outcome(limiter, undefined, 'dave')).toBe('ok');
  });
});
