/** `$disconnect` (best effort on AWS: stale records are also removed on 410 and expire by TTL). */
import middy from '@middy/core';
import { wsDisconnectRoot } from '../roots/ws-disconnect.js';
import { injectLambdaContext, logger } from './common/observability.js';
import type { WsEvent, WsResult } from './common/ws-event.js';

export async function disconnect(event: WsEvent): Promise<WsResult> {
  const connectionId = event.requestContext.connectionId;
  logger.appendKeys({ connectionId });
  try {
    const root = wsDisconnectRoot();
    const record = await root.connections.remove(connectionId);
    if (record) await root.left(record);
    logger.info('disconnected');
  } catch (error) {
    logger.error('disconnect cleanup failed; the record expires by TTL', { error: error as Error });
  }
  return { statusCode: 200 };
}

export const handler = middy<WsEvent, WsResult>(disconnect).use(injectLambdaContext(logger));
