/**
 * REST API (HTTP API, payload format 2.0): dispatches on the route table, validates with zod,
 * calls the message service and maps the result. Errors become `{"error": {"code", "message"}}`.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ChatError } from '../domain/errors.js';
import { DEFAULT_ROOM } from '../domain/model.js';
import { contentOrAttachment } from '../domain/messages.js';
import { historyQuerySchema, messageInputSchema, presenceQuerySchema, publishEventSchema, uploadRequestSchema } from '../domain/schemas.js';
import { parseWith } from '../domain/validation.js';
import { ADMIN_ROLE, identityFromAuthorizer, requireRole, resolveSender } from '../auth/authenticator.js';
import type { Identity } from '../domain/model.js';
import { buildHttpRoot } from '../roots/http.js';
import { lazy } from '../roots/wiring.js';
import { LIMITS } from '../shared/limits.js';
import { routesForPath } from '../shared/route-match.js';
import type { HttpOperation } from '../shared/routes.js';
import { errorResponse, type HttpResult, json } from './common/http-response.js';
import type { Invocation } from './common/invocation.js';
import { countFanoutStats, countMetrics, injectLambdaContext, logger } from './common/observability.js';
import { roomOperations } from './rooms.js';
import { atOnce } from '../domain/at-once.js';

const httpRoot = lazy(() => buildHttpRoot({ onFanoutStats: countFanoutStats }));

function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > LIMITS.httpBodyMaxBytes) {
    throw new ChatError('payload_too_large', `Request body is larger than ${LIMITS.httpBodyMaxBytes} bytes`);
  }
  if (text.trim() === '') throw new ChatError('invalid_json', 'Request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch {
    throw new ChatError('invalid_json', 'Request body is not valid JSON');
  }
}

function findOperation(event: APIGatewayProxyEventV2): { operation: HttpOperation; params: Record<string, string> } {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath.replace(/\/+$/, '') || '/';
  const routes = routesForPath(path);
  if (routes.length === 0) throw new ChatError('not_found', `No route for ${path.slice(0, 100)}`);
  const match = routes.find((r) => r.route.method === method);
  if (!match) {
    const allowed = [...new Set(routes.map((r) => r.route.method))].join(', ');
    throw new ChatError('method_not_allowed', `${method} is not allowed on ${path.slice(0, 100)}; use ${allowed}`);
  }
  return { operation: match.route.operation, params: match.params };
}

/**
 * The caller, as the API's Lambda authorizer described it (`requestContext.authorizer.lambda`).
 * With auth on, a request without one never came through the authorizer: 401.
 */
export function identityOf(event: APIGatewayProxyEventV2): Identity {
  const context = (event.requestContext as { authorizer?: { lambda?: Record<string, unknown> } }).authorizer?.lambda;
  return identityFromAuthorizer(context, 'Send a valid token: Authorization: Bearer <token>');
}


const operations: Record<HttpOperation, (event: APIGatewayProxyEventV2, params: Record<string, string>, invocation: Invocation) => Promise<HttpResult>> = {
  async health() {
    return json(200, { status: 'healthy', service: 'chat-service', timestamp: new Date().toISOString() });
  },

  async sendMessage(event, _params, invocation) {
    const identity = identityOf(event);
    const input = parseWith(messageInputSchema, readJsonBody(event), 'message');
    const sender = resolveSender(identity, input.sender);
    const root = httpRoot();
    const content = contentOrAttachment('message', 'content', input.content, input.attachment_id);
    const room = input.room ?? DEFAULT_ROOM;
    // The rate count and the room check are independent round trips: at once. A refusal by
    // either stores nothing; the count is taken even when the room refuses (every request counts).
    await atOnce(root.rateLimiter.check(undefined, identity.userId), root.roomAccess.assertMember(identity, room));
    const remaining = invocation.getRemainingTimeInMillis?.();
    const message = await root.chat.sendMessage(
      {
        type: input.type,
        content,
        sender,
        format: input.format,
        clientId: input.client_id,
        ...(input.attachment_id !== undefined ? { attachmentId: input.attachment_id, uploader: identity.userId } : {}),
      },
      { room, ...(remaining !== undefined ? { handOnAfter: Date.now() + remaining - LIMITS.fanoutHandOnMarginMs } : {}) },
    );
    countMetrics({ MessagesSent: 1 });
    return json(201, { status: 'success', message });
  },

  async broadcast(event) {
    const identity = identityOf(event);
    requireRole(identity, ADMIN_ROLE);
    const input = parseWith(messageInputSchema, readJsonBody(event), 'broadcast');
    const message = await httpRoot().chat.broadcast({
      type: input.type,
      content: contentOrAttachment('broadcast', 'content', input.content, undefined),
      sender: resolveSender(identity, input.sender),
      format: input.format,
    });
    return json(201, { status: 'success', message });
  },

  async publishEvent(event) {
    requireRole(identityOf(event), ADMIN_ROLE);
    const input = parseWith(publishEventSchema, readJsonBody(event), 'event');
    const published = await httpRoot().chat.publishEvent(input.event_type, input.data);
    return json(201, { status: 'success', event: published });
  },

  async history(event) {
    const identity = identityOf(event);
    const query = parseWith(historyQuerySchema, event.queryStringParameters ?? {}, 'query');
    await httpRoot().roomAccess.assertMember(identity, query.room);
    const page = await httpRoot().history.history(query.room, query.before, query.limit);
    const body: Record<string, unknown> = { room: query.room, messages: page.messages };
    body.next_before = page.nextBefore ?? null;
    return json(200, body);
  },

  async presence(event, params) {
    const identity = identityOf(event);
    const query = parseWith(presenceQuerySchema, { ...(event.queryStringParameters ?? {}), room: params.room }, 'query');
    return json(200, await httpRoot().presence.list(identity, query.room, query.cursor, query.limit));
  },

  async createUpload(event) {
    const identity = identityOf(event);
    const input = parseWith(uploadRequestSchema, readJsonBody(event), 'upload');
    const root = httpRoot();
    await root.rateLimiter.check(undefined, identity.userId);
    const grant = await root.attachments.createUpload(identity.userId, input, Date.now());
    return json(201, grant);
  },

  async eventsRedirect(event) {
    const sseUrl = httpRoot().sseUrl;
    if (!sseUrl) throw new ChatError('not_found', 'The SSE stream URL is not configured');
    const location = event.rawQueryString ? `${sseUrl}?${event.rawQueryString}` : sseUrl;
    return { statusCode: 307, headers: { location, 'cache-control': 'no-store' }, body: '' };
  },

  ...roomOperations(identityOf, readJsonBody, () => httpRoot().rooms),
};

export async function route(event: APIGatewayProxyEventV2, invocation: Invocation = {}): Promise<HttpResult> {
  try {
    logger.appendKeys({ requestId: event.requestContext?.requestId });
    const { operation, params } = findOperation(event);
    return await operations[operation](event, params, invocation);
  } catch (error) {
    return errorResponse(error);
  }
}

export const handler = middy<APIGatewayProxyEventV2, HttpResult>(route).use(injectLambdaContext(logger));

