/**
 * Lambda authorizers as API Gateway runs them, for the local runtime with auth on:
 *
 * - HTTP API (payload 2.0, simple responses), on the routes of HTTP_ROUTES with `auth: 'user'`:
 *   identity source `$request.header.Authorization`. No such header: 401 `{"message":"Unauthorized"}`
 *   without invoking the authorizer; `isAuthorized: false`: 403 `{"message":"Forbidden"}`; an
 *   authorizer error: 500. Allowed: the handler sees `requestContext.authorizer.lambda = context`.
 * - WebSocket `$connect` (REQUEST type): identity source `route.request.querystring.token`. No token:
 *   401 without invoking; the authorizer throwing `Unauthorized`: 401; a Deny policy: 403; any other
 *   error: 500. Allowed: `requestContext.authorizer = { ...context, principalId }` in `$connect`.
 *
 * HTTP API results are cached as API Gateway caches them (AuthorizerResultCache); WebSocket API
 * authorizers have no result cache on AWS either.
 * Also the local runtime's dev tokens: HS256 tokens signed with the runtime's generated secret.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { signHs256 } from '../lambdas/auth/jwt.js';
import { LOCAL_REGION } from './emulators.js';
import { type AnyHandler, LOCAL_ACCOUNT, invoke } from './lambda.js';

export type AuthDecision = { allowed: true; context: Record<string, unknown> } | { allowed: false; status: 401 | 403 | 500; message: string };

const DENIED_401 = { allowed: false, status: 401, message: 'Unauthorized' } as const;
const DENIED_403 = { allowed: false, status: 403, message: 'Forbidden' } as const;
const FAILED_500 = { allowed: false, status: 500, message: 'Internal Server Error' } as const;

/** HTTP API Lambda authorizer, payload format 2.0 with simple responses. */
export async function authorizeHttp(authorizer: AnyHandler, event: APIGatewayProxyEventV2): Promise<AuthDecision> {
  const header = event.headers.authorization;
  if (!header) return DENIED_401;
  const [method, ...path] = event.routeKey.split(' ');
  const authEvent = {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${event.requestContext.apiId}/${event.requestContext.stage}/${method}${path.join(' ')}`,
    identitySource: [header],
    routeKey: event.routeKey,
    rawPath: event.rawPath,
    rawQueryString: event.rawQueryString,
    cookies: event.cookies,
    headers: event.headers,
    queryStringParameters: event.queryStringParameters,
    requestContext: event.requestContext,
    pathParameters: {},
    stageVariables: {},
  };
  try {
    const result = (await invoke('authorizer', authorizer, authEvent)) as { isAuthorized?: unknown; context?: Record<string, unknown> };
    if (result?.isAuthorized !== true) return DENIED_403;
    return { allowed: true, context: result.context ?? {} };
  } catch {
    return FAILED_500;
  }
}

/** Entries the result cache keeps at most (expired ones are dropped first, then the oldest). */
const CACHE_MAX_ENTRIES = 10_000;

/**
 * API Gateway's cache of HTTP API Lambda authorizer results: keyed by the identity source (the
 * `Authorization` header), kept for the authorizer's AuthorizerResultTtlInSeconds, and reused for
 * every route the authorizer guards. A decision the authorizer made (allowed, or `isAuthorized:
 * false`) is reused until it expires, so a token that expires or is revoked meanwhile still passes,
 * as on AWS; a request without the header (401, no invocation) and an authorizer failure (500)
 * are not cached.
 */
export class AuthorizerResultCache {
  private readonly entries = new Map<string, { decision: AuthDecision; expiresAt: number }>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async decide(identity: string | undefined, authorize: () => Promise<AuthDecision>): Promise<AuthDecision> {
    if (this.ttlSeconds <= 0 || !identity) return authorize();
    const hit = this.entries.get(identity);
    if (hit && hit.expiresAt > this.now()) return hit.decision;
    const decision = await authorize();
    if (decision.allowed || decision.status === 403) this.remember(identity, decision);
    return decision;
  }

  private remember(identity: string, decision: AuthDecision): void {
    const now = this.now();
    this.entries.delete(identity);
    if (this.entries.size >= CACHE_MAX_ENTRIES) {
      for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
      // Still full: the oldest entry goes (a Map iterates in insertion order).
      if (this.entries.size >= CACHE_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(identity, { decision, expiresAt: now + this.ttlSeconds * 1000 });
  }
}

/** WebSocket `$connect` Lambda authorizer (REQUEST type, IAM policy result). */
export async function authorizeConnect(authorizer: AnyHandler, connectEvent: Record<string, unknown>): Promise<AuthDecision> {
  const query = (connectEvent.queryStringParameters ?? {}) as Record<string, string>;
  if (!query.token) return DENIED_401;
  const context = connectEvent.requestContext as { apiId: string; stage: string };
  const authEvent = {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${context.apiId}/${context.stage}/$connect`,
    ...connectEvent,
    stageVariables: {},
  };
  let result: { principalId?: string; policyDocument?: { Statement?: Array<{ Effect?: string }> }; context?: Record<string, unknown> };
  try {
    result = (await invoke('authorizer', authorizer, authEvent)) as typeof result;
  } catch (error) {
    return (error as Error).message === 'Unauthorized' ? DENIED_401 : FAILED_500;
  }
  const statements = result?.policyDocument?.Statement ?? [];
  if (statements.length === 0 || statements.some((s) => s.Effect !== 'Allow')) return DENIED_403;
  return { allowed: true, context: { ...(result.context ?? {}), principalId: result.principalId ?? '' } };
}

export interface DevTokenIssuer {
  secret: string;
  issuer: string;
  issue(request: { sub: string; roles?: string[]; name?: string; ttlSeconds?: number }): { token: string; expires_at: string };
}

/** The runtime's token issuer: HS256 with a secret generated per run (or given). */
export function devTokenIssuer(secret = randomBytes(32).toString('base64url'), issuer = 'chat-local-runtime'): DevTokenIssuer {
  return {
    secret,
    issuer,
    issue({ sub, roles = [], name, ttlSeconds = 12 * 3600 }) {
      const now = Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = { sub, roles, iat: now, exp: now + ttlSeconds, iss: issuer };
      if (name) claims.name = name;
      return { token: signHs256(claims, secret), expires_at: new Date((now + ttlSeconds) * 1000).toISOString() };
    },
  };
}

/** Validates the body of `POST /api/dev/token`; returns an error message or the request. */
export function parseTokenRequest(body: unknown): { sub: string; roles: string[]; name?: string } | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'Send a JSON object {"sub": "<user id>", "roles": ["admin"]}';
  const { sub, roles, name } = body as { sub?: unknown; roles?: unknown; name?: unknown };
  if (typeof sub !== 'string' || !/^[A-Za-z0-9_.:@-]{1,64}$/.test(sub)) return 'sub must be 1-64 characters: letters, digits, _ . : @ -';
  if (roles !== undefined && (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r.length === 0 || r.length > 64) || roles.length > 20)) {
    return 'roles must be an array of role names';
  }
  if (name !== undefined && (typeof name !== 'string' || name.length > 64)) return 'name must be a string of at most 64 characters';
  return { sub, roles: (roles as string[] | undefined) ?? [], ...(typeof name === 'string' ? { name } : {}) };
}
