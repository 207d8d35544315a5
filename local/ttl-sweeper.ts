/**
 * DynamoDB Time to Live for the embedded emulator (dynalite has none): DynamoDB deletes, in the
 * background and without consuming write capacity, the items whose TTL attribute (a Number, epoch
 * seconds) is in the past. AWS does it "typically within a few days"; here a sweep runs every
 * `intervalMs` (and on demand from tests). As on AWS:
 * - only a Number attribute counts (a String or a missing one never expires the item);
 * - a value more than five years in the past is not processed (AWS ignores those);
 * - an item whose TTL was extended before its deletion stays (each delete is conditional on the
 *   value still being past).
 * It reads with Scan, which the service may: this is DynamoDB's own background work, never a
 * request path of the functions, and it talks to the emulator directly (no IAM gate: it is not a
 * function's call).
 */
import { DeleteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../lambdas/shared/resources.js';
import type { RuntimeLogger } from './log.js';

/** AWS skips TTL values older than five years (docs: "Expire data with Amazon DynamoDB Time to Live"). */
const MAX_AGE_SECONDS = 5 * 365 * 24 * 3600;
/** Items a sweep's Scan reads per request. */
const SCAN_PAGE_ITEMS = 200;

export interface TtlSweeperOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Each table's physical name and definition (key and TTL attribute). */
  tables: Array<{ name: string; def: TableDefinition }>;
  /** Between sweeps; 0: only on demand. */
  intervalMs: number;
  logger: RuntimeLogger;
}

export interface TtlSweeper {
  /** Deletes what has expired now; resolves with the number of items deleted. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startTtlSweeper(options: TtlSweeperOptions): TtlSweeper {
  const ddb = new DynamoDBClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: 2 });
  let running: Promise<number> | undefined;
  let stopped = false;

  const sweepTable = async (name: string, def: TableDefinition, nowSeconds: number): Promise<number> => {
    const keyNames = [def.partitionKey.name, ...(def.sortKey ? [def.sortKey.name] : [])];
    const names: Record<string, string> = { '#ttl': def.ttlAttribute };
    keyNames.forEach((k, i) => {
      names[`#k${i}`] = k;
    });
    let deleted = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await ddb.send(
        new ScanCommand({
          TableName: name,
          ProjectionExpression: keyNames.map((_, i) => `#k${i}`).join(', '),
          // Comparisons with a Number match Number attributes only: a String TTL never expires.
          FilterExpression: '#ttl BETWEEN :oldest AND :past',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':oldest': { N: String(nowSeconds - MAX_AGE_SECONDS) }, ':past': { N: String(nowSeconds - 1) } },
          ExclusiveStartKey: startKey,
          // Small pages: dynalite runs on the runtime's main thread, which also serves the gateways.
          Limit: SCAN_PAGE_ITEMS,
        }),
      );
      for (const key of page.Items ?? []) {
        if (stopped) return deleted;
        try {
          await ddb.send(
            new DeleteItemCommand({
              TableName: name,
              Key: key,
              ConditionExpression: '#ttl < :now',
              ExpressionAttributeNames: { '#ttl': def.ttlAttribute },
              ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
            }),
          );
          deleted++;
        } catch (error) {
          // Extended or deleted meanwhile: it stays (or is already gone), as on AWS.
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && !stopped);
    return deleted;
  };

  const sweep = (): Promise<number> => {
    running ??= (async () => {
      const nowSeconds = Math.floor(Date.now() / 1000);
      let deleted = 0;
      for (const { name, def } of options.tables) deleted += await sweepTable(name, def, nowSeconds);
      return deleted;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          sweep().catch((error) => options.logger.error('DynamoDB TTL sweep failed', error));
        }, options.intervalMs)
      : undefined;
  timer?.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      ddb.destroy();
    },
  };
}
