/**
 * `$connect`: registers the connection in its room and schedules the `connected` greeting (the
 * connection cannot be posted to until this handler returns). A bad room rejects the handshake.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { getContainer } from '../adapters/container.js';
import { ChatError, toErrorBody } from '../domain/errors.js';
import { DEFAULT_ROOM, type Identity, type WireProtocol } from '../domain/model.js';
import { roomSchema } from '../domain/schemas.js';
import { logger } from './common/observability.js';
import type { WsEvent, WsResult } from './common/ws-event.js';

/** Socket.IO clients announce themselves with Engine.IO's `EIO=4` query parameter. */
export function protocolOf(query: Record<string, string | undefined>): WireProtocol {
  return query.EIO === '4' ? 'socketio' : 'json';
}

export function identityOf(event: WsEvent): Identity {
  const auth = event.requestContext.authorizer ?? {};
  const userId = typeof auth.userId === 'string' ? auth.userId : typeof auth.principalId === 'string' ? auth.principalId : 'anonymous';
  const roles = typeof auth.roles === 'string' ? auth.roles.split(',').filter(Boolean) : [];
  return { userId, roles };
}

export async function connect(event: WsEvent): Promise<WsResult> {
  const connectionId = event.requestContext.connectionId;
  logger.appendKeys({ connectionId, requestId: event.requestContext.requestId });
  try {
    const query = event.queryStringParameters ?? {};
    const parsedRoom = roomSchema.safeParse(query.room ?? DEFAULT_ROOM);
    if (!parsedRoom.success) throw new ChatError('validation_error', `Invalid room: ${parsedRoom.error.issues[0]?.message}`);
    await getContainer().connections.connect(connectionId, identityOf(event), parsedRoom.data, protocolOf(query));
    logger.info('connected', { room: parsedRoom.data });
    return { statusCode: 200 };
  } catch (error) {
    const { status, body } = toErrorBody(error);
    if (status >= 500) logger.error('connect failed', { error: error as Error });
    return { statusCode: status, body: JSON.stringify({ error: body }) };
  }
}

export const handler = middy<WsEvent, WsResult>(connect).use(injectLambdaContext(logger));
