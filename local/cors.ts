/**
 * CORS as API Gateway HTTP APIs and Lambda Function URLs do it when CORS is configured: the service
 * itself answers preflight `OPTIONS` requests (the function is not invoked), and adds
 * `access-control-allow-origin` to every response for an allowed origin. The allowed methods and
 * headers mirror lib/constructs/http-api.ts and lib/constructs/sse.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CorsConfig {
  /** Allowed origins; `*` allows any. Empty: CORS is off (no headers, preflight not answered). */
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  maxAgeSeconds: number;
}

export const HTTP_API_CORS = { allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'], allowHeaders: ['content-type', 'authorization'], maxAgeSeconds: 3600 };
export const FUNCTION_URL_CORS = {
  allowMethods: ['GET'],
  allowHeaders: ['last-event-id', 'cache-control', 'content-type', 'authorization'],
  maxAgeSeconds: 3600,
};

export function allowedOrigin(cors: CorsConfig, origin: string | undefined): string | undefined {
  if (!origin || cors.allowOrigins.length === 0) return undefined;
  if (cors.allowOrigins.includes('*')) return '*';
  return cors.allowOrigins.includes(origin) ? origin : undefined;
}

/** Headers to add to a normal (non-preflight) response. */
export function corsHeaders(cors: CorsConfig, req: IncomingMessage): Record<string, string> {
  const origin = allowedOrigin(cors, req.headers.origin);
  if (!origin) return {};
  return origin === '*' ? { 'access-control-allow-origin': '*' } : { 'access-control-allow-origin': origin, vary: 'Origin' };
}

export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
}

/** Answers a preflight request (204), with CORS headers only when origin and method are allowed. */
export function answerPreflight(cors: CorsConfig, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = {};
  const origin = allowedOrigin(cors, req.headers.origin);
  const method = String(req.headers['access-control-request-method'] ?? '').toUpperCase();
  if (origin && cors.allowMethods.includes(method)) {
    headers['access-control-allow-origin'] = origin;
    headers['access-control-allow-methods'] = cors.allowMethods.join(',');
    headers['access-control-allow-headers'] = cors.allowHeaders.join(',');
    headers['access-control-max-age'] = String(cors.maxAgeSeconds);
    if (origin !== '*') headers.vary = 'Origin';
  }
  res.writeHead(204, headers);
  res.end();
}
