/**
 * HTTP API (API Gateway v2) emulator: the routes of HTTP_ROUTES, each invoking the `http` handler
 * with a payload format 2.0 event, as the stack's HTTP API does (lib/constructs/http-api.ts).
 *
 * Emulated: route keys (`GET /api/health`, ...), unmatched requests to `$default` (the handler
 * answers 404 / 405 in the service's error format), stage `$default`, CORS (preflight answered by
 * the gateway, allow-origin added to responses), the 10 MB payload limit (413), base64 bodies for
 * binary content types, the Lambda timeout (500 `Internal Server Error` like a failed integration),
 * the `apigw-requestid` response header, the stage's throttling (429 `{"message":"Too Many Requests"}`)
 * and the authorizer's result cache, both as the template sets them.
 * Also serves the chat page: `GET /` and the files of local/public/ (a `.js` that only exists as
 * `.ts` is bundled on request by esbuild), and `GET /config.json` with the runtime's URLs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { matchRoute } from '../lambdas/shared/route-match.js';
import { HTTP_ROUTES } from '../lambdas/shared/routes.js';
import { apiDocumentAt } from '../scripts/api-docs/files.js';
import { AuthorizerResultCache, type DevTokenIssuer, authorizeHttp, parseTokenRequest } from './authorizers.js';
import { answerPreflight, type CorsConfig, corsHeaders, isPreflight } from './cors.js';
import { PayloadTooLargeError, buildV2Event, interpretV2Result, readBody, sendJson } from './http-event.js';
import { type AnyHandler, invoke } from './lambda.js';
import type { RuntimeLogger } from './log.js';
import type { StageThrottle } from './template.js';
import { TOO_MANY_REQUESTS, stageBucket } from './throttle.js';

/** API Gateway HTTP API: maximum request payload. */
export const HTTP_API_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface HttpApiOptions {
  host: string;
  port: number;
  handler: AnyHandler;
  cors: CorsConfig;
  /** Folder of the chat page; served when it exists. */
  publicDir?: string;
  /** JSON served at /config.json (the URLs a page needs to reach the other endpoints). */
  runtimeConfig: () => Record<string, unknown>;
  logger: RuntimeLogger;
  /** Overrides the http function's timeout (tests). */
  timeoutMs?: number;
  /** With auth on: the Lambda authorizer of the routes with `auth: 'user'`. */
  authorizer?: AnyHandler;
  /** With auth on: serves `POST /api/dev/token` (the local runtime's own token endpoint). */
  devTokens?: DevTokenIssuer;
  /** The authorizer's result cache TTL (the template's AuthorizerResultTtlInSeconds; 0 or unset: none). */
  authorizerCacheTtlSeconds?: number;
  /** The `$default` stage's throttling (the template's); unset: none. */
  throttle?: StageThrottle;
}

/** The local runtime's token endpoint (not a route of the service; absent on AWS). */
export const DEV_TOKEN_PATH = '/api/dev/token';

export interface HttpApi {
  url: string;
  server: Server;
  stop(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.webm': 'audio/webm',
  '.txt': 'text/plain; charset=utf-8',
};

export function routeKeyOf(method: string, pathname: string): string {
  const route = matchRoute(method, pathname)?.route;
  return route ? `${route.method} ${route.path}` : '$default';
}

function needsAuthorizer(routeKey: string): boolean {
  return HTTP_ROUTES.some((r) => `${r.method} ${r.path}` === routeKey && r.auth === 'user');
}

async function fileIfExists(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (info.isFile()) return file;
    if (info.isDirectory()) return fileIfExists(path.join(file, 'index.html'));
  } catch {
    // not there
  }
  return undefined;
}

/** A page script written in TypeScript, bundled with what it imports (local/page/build.ts). */
async function compileTs(file: string): Promise<string> {
  const { cachedBundle } = await import('./page/build.js');
  return cachedBundle(file);
}

/** Serves a static file of the page; false when there is none for this path. */
async function serveStatic(publicDir: string | undefined, pathname: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const head = req.method === 'HEAD';
  const send = (status: number, type: string, body: Buffer | string) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { 'content-type': type, 'content-length': String(buf.length), 'cache-control': 'no-cache' });
    res.end(head ? undefined : buf);
  };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (publicDir) {
    const root = path.resolve(publicDir);
    const target = path.resolve(root, `.${decoded}`);
    if (target !== root && !target.startsWith(root + path.sep)) return false;
    const file = await fileIfExists(target);
    if (file) {
      send(200, CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', await readFile(file));
      return true;
    }
    if (/\.m?js$/.test(target)) {
      const ts = await fileIfExists(target.replace(/\.m?js$/, '.ts'));
      if (ts) {
        send(200, CONTENT_TYPES['.js']!, await compileTs(ts));
        return true;
      }
    }
  }
  if (decoded === '/' || decoded === '/index.html') {
    send(
      200,
      'text/plain; charset=utf-8',
      'The chat runtime is running. The chat page is not built yet (local/public/index.html).\nREST API: /api/health, /api/message, /api/messages, /api/messages/broadcast, /api/events/publish, /api/events\nEndpoints of the other services: /config.json\n',
    );
    return true;
  }
  return false;
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const { logger } = options;
  const bucket = stageBucket(options.throttle);
  const authorizerCache = new AuthorizerResultCache(options.authorizerCacheTtlSeconds ?? 0);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    res.on('finish', () => logger.info(`HTTP ${method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    const cors = corsHeaders(options.cors, req);

    if (options.cors.allowOrigins.length > 0 && isPreflight(req)) {
      answerPreflight(options.cors, req, res);
      return;
    }
    const routeKey = routeKeyOf(method, pathname);
    const isApiPath = pathname === '/api' || pathname.startsWith('/api/');
    // The API descriptions (docs/, generated by `npm run docs:api`): paths no route claims, so
    // they would otherwise reach the handler's JSON 404.
    if (routeKey === '$default' && isApiPath && (method === 'GET' || method === 'HEAD')) {
      const document = await apiDocumentAt(pathname);
      if (document !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(document)), 'cache-control': 'no-cache', ...cors });
        res.end(method === 'HEAD' ? undefined : document);
        return;
      }
    }
    if (routeKey === '$default' && !isApiPath && (method === 'GET' || method === 'HEAD')) {
      if (pathname === '/config.json') {
        sendJson(res, 200, options.runtimeConfig(), { 'cache-control': 'no-store', ...cors });
        return;
      }
      if (await serveStatic(options.publicDir, pathname, req, res)) return;
    }

    // The stage's throttle counts what reaches the API (not the page, the API descriptions or the
    // local token endpoint, which AWS does not serve), before the body is read or anything invoked.
    if (bucket && !(options.devTokens && pathname === DEV_TOKEN_PATH) && !bucket.take()) {
      req.resume();
      sendJson(res, 429, { message: TOO_MANY_REQUESTS }, cors);
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, HTTP_API_PAYLOAD_BYTES);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        sendJson(res, 413, { message: 'Request Entity Too Large' }, { connection: 'close', ...cors });
        return;
      }
      throw error;
    }
    if (options.devTokens && pathname === DEV_TOKEN_PATH && method === 'POST') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8') || 'null');
      } catch {
        parsed = undefined;
      }
      const request = parseTokenRequest(parsed);
      if (typeof request === 'string') {
        sendJson(res, 400, { error: { code: 'validation_error', message: request } }, cors);
        return;
      }
      sendJson(res, 201, { ...options.devTokens.issue(request), sub: request.sub, roles: request.roles }, { 'cache-control': 'no-store', ...cors });
      return;
    }
    const event = buildV2Event(req, { routeKey, stage: '$default', apiId: 'local-http', body });
    const requestId = event.requestContext.requestId;
    if (options.authorizer && needsAuthorizer(routeKey)) {
      const authorizer = options.authorizer;
      const decision = await authorizerCache.decide(event.headers.authorization, () => authorizeHttp(authorizer, event));
      if (!decision.allowed) {
        sendJson(res, decision.status, { message: decision.message }, { 'apigw-requestid': requestId, ...cors });
        return;
      }
      (event.requestContext as { authorizer?: unknown }).authorizer = { lambda: decision.context };
    }
    let result: ReturnType<typeof interpretV2Result>;
    try {
      result = interpretV2Result(await invoke('http', options.handler, event, { timeoutMs: options.timeoutMs }));
    } catch (error) {
      logger.error(`http handler failed (${requestId})`, error);
      sendJson(res, 500, { message: 'Internal Server Error' }, { 'apigw-requestid': requestId, ...cors });
      return;
    }
    const headers: Record<string, string | string[]> = { ...result.headers, ...cors, 'apigw-requestid': requestId };
    if (result.cookies.length > 0) headers['set-cookie'] = result.cookies;
    headers['content-length'] = String(result.body.length);
    res.writeHead(result.statusCode, headers);
    res.end(method === 'HEAD' ? undefined : result.body);
  };

  const { server, url } = await listenHttp(handle, options, logger, 'http api', { message: 'Internal Server Error' });
  return { url, server, stop: () => closeServer(server) };
}

/**
 * An HTTP server on `host:port` (0 for a free one) around a request handler: a failure the
 * handler did not answer becomes a JSON 500 with the given body (as the emulated service would
 * answer it), never a crash.
 */
export async function listenHttp(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: { host: string; port: number },
  logger: RuntimeLogger,
  label: string,
  failureBody: unknown,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      logger.error(`${label} failure`, error);
      if (!res.headersSent) sendJson(res, 500, failureBody);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${urlHost(options.host)}:${port}` };
}

/** Host part of a URL for a listen address (IPv6 in brackets, wildcard as loopback). */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
