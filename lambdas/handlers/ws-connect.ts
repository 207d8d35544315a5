/**
 * `$connect`: registers the connection in its room and schedules the `connected` greeting (the
 * connection cannot be posted to until this handler returns). A bad room rejects the handshake.
 */
import middy from '@middy/core';
import { ChatError, toErrorBody } from '../domain/errors.js';
import { identityFromAuthorizer } from '../auth/authenticator.js';
import { headerValue } from '../shared/headers.js';
import { DEFAULT_ROOM, type Identity, type WireProtocol } from '../domain/model.js';
import { registerConnection } from '../domain/connections.js';
import { admitInto } from '../domain/room-access.js';
import { roomSchema } from '../domain/base-schemas.js';
import { wsConnectRoot } from '../roots/ws-connect.js';
import { injectLambdaContext, logger } from './common/observability.js';
import type { WsEvent, WsResult } from './common/ws-event.js';

/** Socket.IO clients announce themselves with Engine.IO's `EIO=4` query parameter. */
export function protocolOf(query: Record<string, string | undefined>): WireProtocol {
  return query.EIO === '4' ? 'socketio' : 'json';
}

/** The identity the `$connect` authorizer attached; with auth on, none means no authorizer ran: 401. */
export function identityOf(event: WsEvent): Identity {
  return identityFromAuthorizer(event.requestContext.authorizer, 'Connect with ?token=<token>');
}

/**
 * Cross-site WebSocket hijacking guard: a browser always sends `Origin`, and it must be one of the
 * configured origins. Non-browser clients (no Origin header) are let through: they hold a token.
 */
export function checkOrigin(event: WsEvent, allowed: string[]): void {
  const origin = headerValue(event.headers, 'origin');
  if (origin === undefined || allowed.length === 0 || allowed.includes('*')) return;
  if (!allowed.includes(origin)) throw new ChatError('forbidden', 'Origin is not allowed');
}

export async function connect(event: WsEvent): Promise<WsResult> {
  const connectionId = event.requestContext.connectionId;
  logger.appendKeys({ connectionId, requestId: event.requestContext.requestId });
  try {
    const root = wsConnectRoot();
    checkOrigin(event, root.corsOrigins);
    const identity = identityOf(event);
    const query = event.queryStringParameters ?? {};
    const parsedRoom = roomSchema.safeParse(query.room ?? DEFAULT_ROOM);
    if (!parsedRoom.success) throw new ChatError('validation_error', `Invalid room: ${parsedRoom.error.issues[0]?.message}`);
    // A removal or creation racing the handshake is re-checked once the record is stored (admitInto):
    // refused then, the record goes again and the handshake answers 403.
    await admitInto(
      root.roomAccess,
      identity,
      parsedRoom.data,
      () => registerConnection(root.register, connectionId, identity, parsedRoom.data, protocolOf(query)),
      () => root.connections.remove(connectionId),
    );
    // The user's first connection in the room announces `online` (a task, after this returns).
    await root.presence.entered(parsedRoom.data, identity.userId, connectionId);
    logger.info('connected', { room: parsedRoom.data });
    return { statusCode: 200 };
  } catch (error) {
    const { status, body } = toErrorBody(error);
    if (status >= 500) logger.error('connect failed', { error: error as Error });
    return { statusCode: status, body: JSON.stringify({ error: body }) };
  }
}

export const handler = middy<WsEvent, WsResult>(connect).use(injectLambdaContext(logger));
