/**
 * SSE over a Lambda Function URL with response streaming. Sends the room's messages, broadcasts
 * and published events with `id:` lines, resumes after `Last-Event-ID` (header or `lastEventId`
 * query parameter) with no gap and no duplicate, sends heartbeats, and ends before the function
 * timeout with a `retry:` hint so EventSource reconnects and resumes.
 *
 * Live delivery has one path: the function subscribes to the room through the WebSocket API as a
 * relay client (WS_URL), so fan-out pushes new items to it and an idle stream reads nothing from
 * DynamoDB. The history after the resume point is read once, after subscribing; live items that
 * overlap it are sent once.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { ANONYMOUS, authEnabled, bearerToken, verifyToken } from '../auth/authenticator.js';
import { ChatError, toErrorBody } from '../domain/errors.js';
import type { StreamHistory } from '../domain/history.js';
import { isUlid, ulidFloor } from '../domain/ids.js';
import { DEFAULT_ROOM, GLOBAL_STREAM, itemId, roomStream, type StreamItem } from '../domain/model.js';
import { roomSchema } from '../domain/base-schemas.js';
import { acquireStreamSlot, type StreamSlot } from '../domain/stream-slots.js';
import { formatSse, itemFromEvent, SentIds, sseComment, sseRetry } from '../domain/sse.js';
import { openRelay, type Relay } from '../adapters/ws-relay.js';
import { parseWith } from '../domain/validation.js';
import { sseRoot } from '../roots/sse.js';
import { LIMITS } from '../shared/limits.js';
import { headerValue } from '../shared/headers.js';
import { SSE_PATH } from '../shared/routes.js';
import { logger } from './common/observability.js';
import type { Invocation } from './common/invocation.js';
import { hasStreamingRuntime, streamingRuntime } from './common/streaming.js';

/** Time kept before the function timeout to end the stream cleanly. */
const END_MARGIN_MS = 10_000;

const sseQuerySchema = z.object({
  room: z._default(roomSchema, DEFAULT_ROOM),
  lastEventId: z.optional(z.string()),
  token: z.optional(z.string()),
});

export interface SseOptions {
  heartbeatMs?: number;
  maxStreamMs?: number;
  /** WebSocket API URL for the relay; defaults to WS_URL. */
  relayUrl?: string;
}

/** The relay pings well inside API Gateway's 10-minute idle timeout. */
const RELAY_PING_MS = 5 * 60 * 1000;

const sleepOrClose = (ms: number, closed: Promise<void>) =>
  Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.()), closed]);

export async function streamEvents(
  event: APIGatewayProxyEventV2,
  responseStream: Writable,
  context: Invocation | undefined,
  options: SseOptions = {},
): Promise<void> {
  const runtime = streamingRuntime();
  const requestId = event.requestContext?.requestId;
  logger.appendKeys({ requestId });
  let room: string;
  let resumeAfter: string | undefined;
  let token: string | undefined;
  let relayUrl: string;
  let endAt: number;
  let slot: StreamSlot | undefined;
  let subscription: Subscription | undefined;
  try {
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = (event.rawPath ?? SSE_PATH).replace(/\/+$/, '');
    if (path !== SSE_PATH && path !== '') throw new ChatError('not_found', `No route for ${path.slice(0, 100)}`);
    if (method !== 'GET') throw new ChatError('method_not_allowed', 'Use GET for the event stream');
    const query = parseWith(sseQuerySchema, event.queryStringParameters ?? {}, 'query');
    // A Function URL has no authorizer: the token is verified here, before a byte is streamed.
    token = query.token ?? bearerToken(event.headers);
    const claims = authEnabled() ? await verifyToken(token ?? '') : undefined;
    const user = claims?.sub;
    room = query.room;
    const lastId = headerValue(event.headers, 'last-event-id') ?? query.lastEventId;
    if (lastId !== undefined && lastId !== '') {
      if (!isUlid(lastId)) throw new ChatError('validation_error', 'Last-Event-ID must be an event id from this stream');
      resumeAfter = lastId;
    }
    relayUrl = options.relayUrl ?? sseRoot().wsUrl;
    // A deployment fault, not the client's: 500 before anything is streamed.
    if (!relayUrl) throw new Error(`SSE needs the WebSocket API URL (WS_URL) for its relay`);
    const remaining = context?.getRemainingTimeInMillis?.() ?? LIMITS.sseMaxStreamMs + END_MARGIN_MS;
    endAt = Date.now() + Math.min(options.maxStreamMs ?? LIMITS.sseMaxStreamMs, remaining - END_MARGIN_MS);
    // The relay's handshake (the API's authorizer and `$connect`) is the slow step of a stream's
    // start: it runs while the room access and the stream slot are checked. Only a caller whose
    // token verified gets this far; a refusal below closes the relay unused (its `$connect`
    // refuses a private room on its own too).
    subscription = subscribe(relayUrl, room, token);
    // A private room is refused here, before a byte is streamed (403, as on every entry point).
    await sseRoot().roomAccess.assertMember(claims ? { userId: claims.sub, roles: claims.roles } : ANONYMOUS, room);
    // The client leaving is never reported (Lambda streaming), so a stream runs until endAt:
    // the per-user cap bounds how many one user holds (an anonymous local caller has none).
    if (user !== undefined) slot = await acquireStreamSlot(sseRoot().leases, user, LIMITS.sseStreamsPerUser, endAt + END_MARGIN_MS);
  } catch (error) {
    // Refused with the relay opening or open: it goes before the answer (a frozen sandbox would
    // otherwise keep it until API Gateway's idle timeout).
    await subscription?.cancel();
    const { status, body } = toErrorBody(error);
    if (status >= 500) logger.error('sse request failed', { error: error as Error });
    const out = runtime.HttpResponseStream.from(responseStream, {
      statusCode: status,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    out.end(JSON.stringify({ error: body }));
    return;
  }

  const out = runtime.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => {
    const done = () => {
      closed = true;
      resolve();
    };
    out.on('close', done);
    out.on('error', done);
  });

  const heartbeatMs = options.heartbeatMs ?? LIMITS.sseHeartbeatMs;
  const history = sseRoot().history;
  try {
    await relayStream({ out, closed: closedPromise, isClosed: () => closed, history, room, resumeAfter, subscription, endAt, heartbeatMs });
  } finally {
    // A lease left behind (release failed) expires at endAt anyway.
    await slot?.release().catch((error: Error) => logger.warn('sse lease not released', { reason: error.message }));
  }
}

interface RelayStreamArgs {
  out: Writable;
  history: Pick<StreamHistory, 'since'>;
  closed: Promise<void>;
  isClosed: () => boolean;
  room: string;
  resumeAfter: string | undefined;
  subscription: Subscription;
  endAt: number;
  heartbeatMs: number;
}

/**
 * The stream's relay connection, opened before the stream is accepted: what fan-out pushes to it
 * waits in `buffered` until the stream goes live (`deliver` set).
 */
interface Subscription {
  opened: Promise<Relay>;
  buffered: StreamItem[];
  deliver: ((item: StreamItem) => void) | undefined;
  /** The member was removed from the room: its relay connection left it, and so does the stream. */
  removed: boolean;
  /** Settles when the relay connection closes or the member is removed. */
  done: Promise<void>;
  /** Aborts the handshake or closes the connection, and waits until it is closed. */
  cancel(): Promise<void>;
}

function subscribe(relayUrl: string, room: string, token: string | undefined): Subscription {
  let relayClosed!: () => void;
  const abort = new AbortController();
  const done = new Promise<void>((resolve) => {
    relayClosed = resolve;
  });
  const sub: Subscription = {
    buffered: [],
    deliver: undefined,
    removed: false,
    done,
    opened: openRelay({
      url: relayUrl,
      room,
      token,
      signal: abort.signal,
      onEvent: (event) => {
        if (event.event === 'removed' && (event.data as { room?: unknown } | null)?.room === room) {
          sub.removed = true;
          relayClosed();
          return;
        }
        const item = itemFromEvent(event);
        if (!item || (item.kind === 'message' && item.message.room !== room)) return;
        if (sub.deliver) sub.deliver(item);
        else sub.buffered.push(item);
      },
      onClose: () => relayClosed(),
    }),
    cancel: async () => {
      abort.abort();
      await sub.opened.then(
        (relay) => relay.closed,
        () => undefined,
      );
    },
  };
  // Awaited by the stream, or by cancel(): never an unhandled rejection in between.
  sub.opened.catch(() => undefined);
  return sub;
}

/**
 * Relay mode: subscribe first (buffering), then send the history after the resume point, then the
 * buffered and live items. Subscribing before reading is what makes it gap-free; the id set makes
 * it duplicate-free. If the relay drops, the stream ends with a `retry:` hint and the client
 * resumes from its Last-Event-ID.
 */
async function relayStream(args: RelayStreamArgs): Promise<void> {
  const { out, room, subscription: sub } = args;
  const floor = args.resumeAfter ?? ulidFloor(Date.now());
  const sent = new SentIds();
  const send = (item: StreamItem) => {
    const id = itemId(item);
    if (id <= floor || sent.has(id) || args.isClosed()) return;
    sent.add(id);
    out.write(formatSse(item));
  };
  let relay: Relay;
  try {
    relay = await sub.opened;
  } catch (error) {
    // Nothing was sent yet: the client reconnects after the retry hint and tries again.
    logger.warn('sse relay unavailable; ending the stream', { reason: (error as Error).message });
    if (!args.isClosed()) out.end(sseRetry(LIMITS.sseRetryHintMs) + sseComment('stream unavailable; reconnect'));
    return;
  }
  try {
    out.write(sseRetry(LIMITS.sseRetryHintMs) + sseComment(`stream ${room}`));
    // History after the resume point (or the moment the request came in), page by page.
    let cursor = floor;
    for (;;) {
      const items = await args.history.since([roomStream(room), GLOBAL_STREAM], cursor, LIMITS.sseResumeMaxItems);
      for (const item of items) send(item);
      if (items.length < LIMITS.sseResumeMaxItems) break;
      cursor = itemId(items[items.length - 1]!);
    }
    sub.deliver = send;
    for (const item of sub.buffered.sort((a, b) => (itemId(a) < itemId(b) ? -1 : 1))) send(item);
    sub.buffered.length = 0;
    let lastPing = Date.now();
    while (!args.isClosed() && Date.now() < args.endAt) {
      const wait = Math.min(args.heartbeatMs, args.endAt - Date.now());
      const ended = await Promise.race([
        sleepOrClose(Math.max(0, wait), args.closed).then(() => false),
        sub.done.then(() => true),
      ]);
      if (ended) {
        if (!sub.removed) logger.warn('relay connection closed; ending the stream so the client resumes');
        break;
      }
      if (!args.isClosed()) out.write(sseComment('heartbeat'));
      if (Date.now() - lastPing >= RELAY_PING_MS) {
        relay.ping();
        lastPing = Date.now();
      }
    }
  } catch (error) {
    logger.error('sse relay stream failed', { error: error as Error });
  } finally {
    relay.close();
  }
  if (args.isClosed()) return;
  if (sub.removed) {
    logger.info('member removed from the room; ending the stream');
    out.end(`event: removed\ndata: ${JSON.stringify({ room })}\n\n`);
    return;
  }
  out.end(sseRetry(LIMITS.sseRetryHintMs) + sseComment('stream ends; reconnect with Last-Event-ID'));
}

/** Wrapped for streaming where the runtime provides it (AWS, or the local runtime's shim). */
export const handler = hasStreamingRuntime()
  ? streamingRuntime().streamifyResponse<APIGatewayProxyEventV2>((event, stream, context) =>
      streamEvents(event, stream, context),
    )
  : undefined;
