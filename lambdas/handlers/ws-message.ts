/**
 * Every client frame (`$default` and the action routes): decode with the connection's protocol
 * codec, run the action, and return the reply frame as the route response. Errors become an
 * `error` event with a code; the connection stays open.
 */
import middy from '@middy/core';
import { resolveSender } from '../auth/authenticator.js';
import { acceptConnect } from '../domain/connections.js';
import { ChatError, toErrorBody } from '../domain/errors.js';
import type { ServerEvent } from '../domain/model.js';
import { postWithRetry } from '../domain/post.js';
import { runAction } from '../domain/ws-actions.js';
import { buildWsMessageRoot } from '../roots/ws-message.js';
import { lazy } from '../roots/wiring.js';
import { LIMITS } from '../shared/limits.js';
import { type Codec, codecFor } from '../protocol/codec.js';
import { countFanoutStats, countMetrics, injectLambdaContext, logger } from './common/observability.js';
import type { Invocation } from './common/invocation.js';
import type { WsEvent, WsResult } from './common/ws-event.js';

/**
 * An Engine.IO packet starts with its type (`0`-`6`, or `b` for base64 binary): Socket.IO. Anything
 * else is a JSON envelope, or garbage that gets its `error` as a JSON envelope (the default protocol).
 */
export function codecForFrame(body: string): Codec {
  return codecFor(/^[0-6b]/.test(body) ? 'socketio' : 'json');
}

/** The user the `$connect` authorizer allowed (API Gateway repeats its context on every route). */
function callerOf(event: WsEvent): string | undefined {
  const userId = event.requestContext.authorizer?.userId;
  return typeof userId === 'string' && userId !== '' ? userId : undefined;
}

const root = lazy(() => buildWsMessageRoot({ onFanoutStats: countFanoutStats }));

export async function message(event: WsEvent, context?: Invocation): Promise<WsResult> {
  const connectionId = event.requestContext.connectionId;
  logger.appendKeys({ connectionId, requestId: event.requestContext.requestId });
  const raw = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  const codec = codecForFrame(raw);
  let ackId: number | undefined;
  try {
    if (Buffer.byteLength(raw, 'utf8') > LIMITS.wsMessageBytes) {
      throw new ChatError('payload_too_large', `Frame is larger than ${LIMITS.wsMessageBytes} bytes`);
    }
    const frame = codec.decode(raw);
    if (frame.kind === 'control') {
      if (frame.connect) {
        // Socket.IO CONNECT: `40{"sid"}` then `connected`, in order through the gateway.
        const { connections, gateway } = root();
        await acceptConnect({ connections, gateway }, connectionId, codec);
        return { statusCode: 200 };
      }
      return frame.replies.length > 0 ? { statusCode: 200, body: frame.replies.join('\n') } : { statusCode: 200 };
    }
    ackId = frame.ackId;
    const wired = root();
    const reply = await runAction(frame.action, frame.data, {
      connectionId,
      chat: wired.chat,
      history: wired.history,
      connections: wired.connections,
      rateLimiter: wired.rateLimiter,
      rooms: wired.roomAccess,
      presence: wired.presence,
      typing: wired.typing,
      resolveSender: (identity, claimed) => resolveSender(identity, claimed),
      callerUserId: callerOf(event),
      ...(context?.getRemainingTimeInMillis ? { timeLeftMs: () => context.getRemainingTimeInMillis!() } : {}),
      // A replay (resume) is posted frame by frame: throttling (429) and 5xx are retried with
      // backoff, as in fan-out, so one throttled post does not fail the whole resume.
      sendToSelf: async (ev: ServerEvent) => {
        const payload = codec.encode(ev);
        const remaining = context?.getRemainingTimeInMillis?.();
        await postWithRetry(wired.gateway, connectionId, payload, remaining !== undefined ? Date.now() + remaining - LIMITS.replyMarginMs : undefined);
      },
    });
    // An action without a reply (typing) answers a Socket.IO acknowledgement with an empty object.
    if (reply === null) return ackId === undefined ? { statusCode: 200 } : { statusCode: 200, body: codec.encodeReply({ event: 'ack', data: {} }, ackId) };
    if (reply.event === 'message_received') countMetrics({ MessagesSent: 1 });
    return { statusCode: 200, body: codec.encodeReply(reply, ackId) };
  } catch (error) {
    const { status, body } = toErrorBody(error);
    if (body.code === 'rate_limited') countMetrics({ RateLimited: 1 });
    if (status >= 500) logger.error('action failed', { error: error as Error });
    else logger.info('action rejected', { code: body.code });
    return { statusCode: 200, body: codec.encodeReply({ event: 'error', data: body }, ackId) };
  }
}

export const handler = middy<WsEvent, WsResult>(message).use(injectLambdaContext(logger));
