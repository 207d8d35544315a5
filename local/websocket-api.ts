/**
 * WebSocket API (API Gateway v2) emulator with its `@connections` management API on the same port,
 * serving the routes of WS_ROUTES with the same handlers as the stack
 * (lib/constructs/websocket-api.ts). What it emulates, and how:
 *
 * - `$connect` runs during the handshake with API Gateway's CONNECT event (headers,
 *   multiValueHeaders, queryStringParameters, requestContext with connectionId, requestId,
 *   connectedAt, identity, ...). A status other than 200 rejects the handshake with that HTTP
 *   status; a thrown error rejects it with 500. The handshake completes only after `$connect`
 *   returned, and only then is the connection postable: `@connections` answers 410 before that,
 *   as API Gateway does. A `Sec-WebSocket-Protocol` header returned by `$connect` selects the
 *   subprotocol; without it a requested subprotocol is not accepted (browsers then fail).
 * - Route selection on `$request.body.action`: a JSON object body whose string `action` is a route
 *   key goes to that route, anything else to `$default`. Every route except `$connect` and
 *   `$disconnect` returns the handler's `body` to the client as a frame (route response). A handler
 *   error or timeout gives the client API Gateway's frame
 *   `{"message": "Internal server error", "connectionId", "requestId"}`; the connection stays open.
 * - Limits: a single frame over 32 KB or a message over 128 KB (fragments summed) closes the
 *   connection with 1009 `Message too big`; a binary message closes it with 1003 (API Gateway
 *   rejects binary frames). Messages the service sends (route responses and PostToConnection)
 *   larger than 32 KB are split into 32 KB frames, as API Gateway does.
 * - Idle timeout (no message from the client for 10 min) and maximum connection duration (2 h),
 *   both configurable: the connection is closed with 1001 `Going away` and `$disconnect` runs.
 * - `$disconnect` runs after every close, with disconnectStatusCode and disconnectReason.
 * - The stage's throttling (local/throttle.ts): a handshake over it is refused with 429, a message
 *   over it gets the frame `{"message": "Too Many Requests", "connectionId", "requestId"}` (the shape
 *   of API Gateway's error frames) and reaches no route.
 * - With a `$connect` authorizer, every later event of the connection (messages, `$disconnect`)
 *   carries what it allowed with in `requestContext.authorizer`, as on API Gateway.
 * - `@connections`: `POST /@connections/{id}` (body = data; 410 `GoneException` for an unknown or
 *   closing connection, 413 `PayloadTooLargeException` above 128 KB), `GET` (connectedAt,
 *   lastActiveAt, identity), `DELETE` (closes the connection, 204). Errors carry the
 *   `x-amzn-ErrorType` header the AWS SDK reads. Paths with a stage prefix
 *   (`/{stage}/@connections/{id}`) are accepted too.
 */
import { STATUS_CODES, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { LIMITS } from '../lambdas/shared/limits.js';
import { type FunctionName, WS_ROUTES } from '../lambdas/shared/routes.js';
import { sourceIpOf } from './http-event.js';
import { closeServer, urlHost } from './http-api.js';
import { authorizeConnect } from './authorizers.js';
import { type AnyHandler, gatewayId, gatewayTime, invoke } from './lambda.js';
import type { RuntimeLogger } from './log.js';
import { awsError, type ManagementHandler, managementHandler } from './connections-api.js';
import type { StageThrottle } from './template.js';
import { TOO_MANY_REQUESTS, stageBucket } from './throttle.js';
import { limitFrameSize, sendInFrames } from './ws-frames.js';

/** Routes whose integration response is not sent back to the client. */
const NO_RESPONSE_ROUTES = new Set(['$connect', '$disconnect']);
const GOING_AWAY = { code: 1001, reason: 'Going away' };

export interface WebSocketApiOptions {
  host: string;
  port: number;
  stage: string;
  /** The handler of each function that serves a route of WS_ROUTES. */
  functions: Partial<Record<FunctionName, AnyHandler>>;
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  frameLimitBytes?: number;
  messageLimitBytes?: number;
  /** With auth on: the `$connect` Lambda authorizer (identity source: the `token` query parameter). */
  authorizer?: AnyHandler;
  /** The stage's throttling (the template's); unset: none. */
  throttle?: StageThrottle;
  logger: RuntimeLogger;
}

export interface ConnectionInfo {
  connectionId: string;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
}

/** A fault the management API answers instead of delivering (tests of retries). */
export interface PostFault {
  match(connectionId: string, data: Buffer): boolean;
  status: number;
  errorType: string;
  /** How many matching posts fail (default 1). */
  times?: number;
}

export interface WebSocketApi {
  url: string;
  /** Base URL of the @connections API (the SDK's `endpoint`). */
  managementUrl: string;
  connections(): ConnectionInfo[];
  /** Makes matching PostToConnection calls fail; resolves `hits` as they happen. */
  injectPostFault(fault: PostFault): { hits(): number };
  /** The `@connections` handler itself, for the IAM gate in front of it to hand requests to in process. */
  management: ManagementHandler;
  stop(): Promise<void>;
}

export interface Connection extends ConnectionInfo {
  ws: WebSocket;
  domainName: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  idleTimer?: NodeJS.Timeout;
  maxTimer?: NodeJS.Timeout;
  closing: boolean;
  /**
   * What the `$connect` authorizer allowed with (`{ ...context, principalId }`): API Gateway gives
   * it to every later route of the connection as `requestContext.authorizer`, not only `$connect`.
   */
  authorizer?: Record<string, unknown>;
}

/** API Gateway's error frame (and failed-`$connect` body): `{"message", "connectionId", "requestId"}`. */
function gatewayError(message: string, connectionId: string, requestId: string): string {
  return JSON.stringify({ message, connectionId, requestId });
}

function headerMaps(req: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

function queryMaps(req: IncomingMessage) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  return Object.keys(single).length > 0 ? { single, multi } : undefined;
}

/** Route selection on `$request.body.action`. */
export function selectRoute(body: string, routeKeys: ReadonlySet<string>): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const action = (parsed as { action?: unknown }).action;
      if (typeof action === 'string' && routeKeys.has(action) && !action.startsWith('$')) return action;
    }
  } catch {
    // not JSON: $default
  }
  return '$default';
}

/** The route response of a Lambda proxy integration: the result's `body`, if any. */
function responseBody(result: unknown): string | undefined {
  if (typeof result === 'string') return result;
  if (result !== null && typeof result === 'object') {
    const body = (result as { body?: unknown }).body;
    if (typeof body === 'string' && body !== '') return body;
  }
  return undefined;
}

function rejectHandshake(socket: Duplex, status: number, body?: string) {
  const text = body ?? JSON.stringify({ message: STATUS_CODES[status] ?? 'Error' });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}

export async function startWebSocketApi(options: WebSocketApiOptions): Promise<WebSocketApi> {
  const { logger, stage } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? LIMITS.wsIdleTimeoutMs;
  const maxConnectionMs = options.maxConnectionMs ?? LIMITS.wsMaxConnectionMs;
  const frameLimit = options.frameLimitBytes ?? LIMITS.wsFrameBytes;
  const messageLimit = options.messageLimitBytes ?? LIMITS.wsMessageBytes;
  const bucket = stageBucket(options.throttle);
  const routes = new Map(WS_ROUTES.map((r) => [r.routeKey, r.fn] as const));
  const routeKeys = new Set(routes.keys());
  const connections = new Map<string, Connection>();
  const pending = new Set<Promise<unknown>>();
  const faults: Array<PostFault & { hits: number }> = [];
  let stopping = false;
  let abandonedDisconnects = 0;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    promise.finally(() => pending.delete(promise)).catch(() => undefined);
    return promise;
  };

  const invokeRoute = (routeKey: string, event: unknown): Promise<unknown> => {
    const fn = routes.get(routeKey);
    const handler = fn ? options.functions[fn] : undefined;
    if (!fn || !handler) return Promise.reject(new Error(`No integration for route ${routeKey}`));
    return track(invoke(fn, handler, event));
  };

  const baseContext = (conn: Pick<Connection, 'connectionId' | 'connectedAt' | 'domainName'>, routeKey: string) => {
    const now = Date.now();
    const requestId = gatewayId(15);
    return {
      routeKey,
      extendedRequestId: requestId,
      requestTime: gatewayTime(now),
      messageDirection: 'IN',
      stage,
      connectedAt: conn.connectedAt,
      requestTimeEpoch: now,
      requestId,
      domainName: conn.domainName,
      connectionId: conn.connectionId,
      apiId: 'local-ws',
    };
  };

  const sendMessage = (ws: WebSocket, data: Buffer | string) => sendInFrames(ws, data, frameLimit);
  const limitFrames = (ws: WebSocket) => limitFrameSize(ws, frameLimit, logger);

  const closeConnection = (conn: Connection, code: number, reason: string) => {
    if (conn.closing) return;
    conn.closing = true;
    connections.delete(conn.connectionId);
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.maxTimer);
    conn.ws.close(code, reason);
  };

  const armIdle = (conn: Connection) => {
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      logger.info(`WS ${conn.connectionId} idle for ${idleTimeoutMs} ms: closing`);
      closeConnection(conn, GOING_AWAY.code, GOING_AWAY.reason);
    }, idleTimeoutMs);
    conn.idleTimer.unref();
  };

  const onMessage = async (conn: Connection, data: RawData, isBinary: boolean) => {
    if (conn.closing) return;
    conn.lastActiveAt = Date.now();
    armIdle(conn);
    if (isBinary) {
      closeConnection(conn, 1003, 'Unsupported frame type: binary');
      return;
    }
    const body = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const routeKey = selectRoute(body, routeKeys);
    const requestContext = {
      ...baseContext(conn, routeKey),
      messageId: gatewayId(15),
      eventType: 'MESSAGE',
      identity: { sourceIp: conn.sourceIp },
      ...(conn.authorizer ? { authorizer: conn.authorizer } : {}),
    };
    if (bucket && !bucket.take()) {
      await sendMessage(conn.ws, gatewayError(TOO_MANY_REQUESTS, conn.connectionId, requestContext.requestId)).catch(() => undefined);
      return;
    }
    const event = { requestContext, body, isBase64Encoded: false };
    let reply: string | undefined;
    try {
      const result = await invokeRoute(routeKey, event);
      if (!NO_RESPONSE_ROUTES.has(routeKey)) reply = responseBody(result);
    } catch (error) {
      logger.error(`WS route ${routeKey} failed for ${conn.connectionId} (${requestContext.requestId})`, error);
      reply = gatewayError('Internal server error', conn.connectionId, requestContext.requestId);
    }
    if (reply !== undefined && !conn.closing) await sendMessage(conn.ws, reply).catch(() => undefined);
  };

  const onClose = async (conn: Connection, code: number, reason: string) => {
    conn.closing = true;
    connections.delete(conn.connectionId);
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.maxTimer);
    const event = {
      headers: { Host: conn.domainName, 'X-Forwarded-For': conn.sourceIp },
      multiValueHeaders: { Host: [conn.domainName], 'X-Forwarded-For': [conn.sourceIp] },
      requestContext: {
        ...baseContext(conn, '$disconnect'),
        eventType: 'DISCONNECT',
        disconnectStatusCode: code,
        disconnectReason: reason,
        identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
        ...(conn.authorizer ? { authorizer: conn.authorizer } : {}),
      },
      isBase64Encoded: false,
    };
    logger.info(`WS ${conn.connectionId} closed ${code} ${reason}`);
    try {
      await invokeRoute('$disconnect', event);
    } catch (error) {
      if (stopping) {
        // The runtime stopped with this $disconnect still queued, and its sandbox went away under
        // it (a backlog of hundreds after a load test): one line for all of them, not a stack each.
        if (abandonedDisconnects++ === 0) logger.info(`WS stopping: $disconnect invocations still queued are abandoned (${(error as Error).message})`);
        return;
      }
      logger.error(`WS $disconnect failed for ${conn.connectionId}`, error);
    }
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: messageLimit,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (_protocols, req) => (req as IncomingMessage & { selectedProtocol?: string }).selectedProtocol ?? false,
  });
  wss.on('headers', (headers, req) => {
    const extra = (req as IncomingMessage & { extraHeaders?: Record<string, string> }).extraHeaders ?? {};
    for (const [name, value] of Object.entries(extra)) headers.push(`${name}: ${value}`);
  });

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const key = req.headers['sec-websocket-key'];
    if (stopping || req.headers.upgrade?.toLowerCase() !== 'websocket' || !key || req.headers['sec-websocket-version'] !== '13') {
      rejectHandshake(socket, stopping ? 503 : 400);
      return;
    }
    if (bucket && !bucket.take()) {
      rejectHandshake(socket, 429, JSON.stringify({ message: TOO_MANY_REQUESTS }));
      return;
    }
    const { headers, multiValueHeaders } = headerMaps(req);
    const query = queryMaps(req);
    const connectedAt = Date.now();
    const conn: Connection = {
      connectionId: gatewayId(15),
      connectedAt,
      lastActiveAt: connectedAt,
      sourceIp: sourceIpOf(req),
      userAgent: req.headers['user-agent'] ?? '',
      domainName: req.headers.host ?? 'localhost',
      headers,
      multiValueHeaders,
      closing: false,
      ws: undefined as unknown as WebSocket,
    };
    const event: Record<string, unknown> = {
      headers,
      multiValueHeaders,
      requestContext: {
        ...baseContext(conn, '$connect'),
        eventType: 'CONNECT',
        identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
      },
      isBase64Encoded: false,
    };
    if (query) {
      event.queryStringParameters = query.single;
      event.multiValueQueryStringParameters = query.multi;
    }
    if (options.authorizer) {
      const decision = await track(authorizeConnect(options.authorizer, event));
      if ((socket as Socket).destroyed) return;
      if (!decision.allowed) {
        logger.info(`WS handshake refused by the authorizer with ${decision.status}`);
        rejectHandshake(socket, decision.status, JSON.stringify({ message: decision.message }));
        return;
      }
      (event.requestContext as Record<string, unknown>).authorizer = decision.context;
      conn.authorizer = decision.context;
    }
    let status: number;
    let body: string | undefined;
    let resultHeaders: Record<string, string> = {};
    try {
      const result = (await invokeRoute('$connect', event)) as { statusCode?: unknown; body?: unknown; headers?: Record<string, string> } | undefined;
      status = Number(result?.statusCode ?? 200);
      body = typeof result?.body === 'string' ? result.body : undefined;
      resultHeaders = result?.headers ?? {};
    } catch (error) {
      logger.error(`WS $connect failed for ${conn.connectionId}`, error);
      status = 500;
      body = gatewayError('Internal server error', conn.connectionId, (event.requestContext as { requestId: string }).requestId);
    }
    if ((socket as Socket).destroyed) return; // the client gave up during $connect
    if (status !== 200) {
      logger.info(`WS handshake rejected by $connect with ${status}`);
      rejectHandshake(socket, status, body);
      return;
    }
    const extraHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(resultHeaders)) {
      if (name.toLowerCase() === 'sec-websocket-protocol') (req as IncomingMessage & { selectedProtocol?: string }).selectedProtocol = String(value);
      else extraHeaders[name] = String(value);
    }
    (req as IncomingMessage & { extraHeaders?: Record<string, string> }).extraHeaders = extraHeaders;
    wss.handleUpgrade(req, socket, head, (ws) => {
      conn.ws = ws;
      limitFrames(ws);
      ws.on('error', (error) => logger.info(`WS ${conn.connectionId} error: ${error.message}`));
      ws.on('message', (data, isBinary) => {
        onMessage(conn, data, isBinary).catch((error) => logger.error('WS message failure', error));
      });
      ws.on('close', (code, reason) => {
        onClose(conn, code, reason.toString()).catch((error) => logger.error('WS close failure', error));
      });
      if (stopping) {
        closeConnection(conn, GOING_AWAY.code, GOING_AWAY.reason);
        return;
      }
      connections.set(conn.connectionId, conn);
      armIdle(conn);
      conn.maxTimer = setTimeout(() => {
        logger.info(`WS ${conn.connectionId} reached the maximum connection duration: closing`);
        closeConnection(conn, GOING_AWAY.code, GOING_AWAY.reason);
      }, maxConnectionMs);
      conn.maxTimer.unref();
      logger.info(`WS ${conn.connectionId} connected`);
    });
  };

  const onManagement = managementHandler({ stage, messageLimit, connections, faults, sendMessage, closeConnection });

  const server: Server = createServer((req, res) => {
    onManagement(req, res).catch((error) => {
      logger.error('@connections failure', error);
      if (!res.headersSent) awsError(res, 500, 'InternalServerErrorException', 'Internal server error');
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    onUpgrade(req, socket, head).catch((error) => {
      logger.error('WS upgrade failure', error);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = urlHost(options.host);

  return {
    url: `ws://${host}:${port}`,
    managementUrl: `http://${host}:${port}`,
    connections: () =>
      [...connections.values()].map(({ connectionId, connectedAt, lastActiveAt, sourceIp, userAgent }) => ({
        connectionId,
        connectedAt,
        lastActiveAt,
        sourceIp,
        userAgent,
      })),
    management: onManagement,
    injectPostFault(fault) {
      const entry = { ...fault, hits: 0 };
      faults.push(entry);
      return { hits: () => entry.hits };
    },
    async stop() {
      stopping = true;
      // Going away: every client is closed, and every $disconnect runs before the data stores stop.
      const open = [...connections.values()];
      for (const conn of open) closeConnection(conn, GOING_AWAY.code, GOING_AWAY.reason);
      const closed = open.map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (conn.ws.readyState === WebSocket.CLOSED) resolve();
            else conn.ws.once('close', () => resolve());
          }),
      );
      await withTimeout(Promise.all(closed), 2000);
      for (const conn of open) if (conn.ws.readyState !== WebSocket.CLOSED) conn.ws.terminate();
      await withTimeout(Promise.allSettled([...pending]), 3000);
      await closeServer(server);
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
