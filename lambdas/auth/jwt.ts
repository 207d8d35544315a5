/**
 * JWT verification with node:crypto only (small bundles, no network at module load): HS256 with a
 * shared secret, or RS256/ES256 against an issuer's JWKS (Cognito or any OIDC provider). `alg:
 * none` and algorithm confusion are rejected: the accepted algorithms follow the key source.
 */
import { createHmac, createPublicKey, createVerify, type JsonWebKey, timingSafeEqual } from 'node:crypto';
import { ChatError } from '../domain/errors.js';

export interface JwtClaims {
  sub: string;
  roles: string[];
  exp?: number;
  iat?: number;
  iss?: string;
  aud?: string | string[];
  name?: string;
}

export interface JwksKey extends JsonWebKey {
  kid?: string;
  alg?: string;
}

export interface VerifierOptions {
  /** HS256 secret. */
  secret?: string;
  /** Resolves a key id to a public JWK (RS256/ES256). */
  jwks?: (kid: string | undefined) => Promise<JwksKey | undefined>;
  issuer?: string;
  audience?: string;
  clockToleranceSeconds?: number;
  now?: () => number;
}

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ChatError('unauthorized', 'Token is malformed');
}

/** `roles` as an array or a comma/space separated string; Cognito groups count as roles too. */
function rolesOf(payload: Record<string, unknown>): string[] {
  const raw = payload.roles ?? payload['cognito:groups'] ?? [];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  return list.filter((r): r is string => typeof r === 'string' && r.length > 0 && r.length <= 64).slice(0, 20);
}

export async function verifyJwt(token: string, options: VerifierOptions): Promise<JwtClaims> {
  if (typeof token !== 'string' || token.length === 0) throw new ChatError('unauthorized', 'A bearer token is required');
  if (token.length > 8192) throw new ChatError('unauthorized', 'Token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new ChatError('unauthorized', 'Token is malformed');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  const signingInput = `${headerPart}.${payloadPart}`;
  const signature = Buffer.from(signaturePart, 'base64url');
  const alg = header.alg;

  if (alg === 'HS256' && options.secret) {
    const expected = createHmac('sha256', options.secret).update(signingInput).digest();
    if (expected.length !== signature.length || !timingSafeEqual(expected, signature)) {
      throw new ChatError('unauthorized', 'Token signature is invalid');
    }
  } else if ((alg === 'RS256' || alg === 'ES256') && options.jwks) {
    const jwk = await options.jwks(typeof header.kid === 'string' ? header.kid : undefined);
    if (!jwk) throw new ChatError('unauthorized', 'Token key is unknown');
    let key: ReturnType<typeof createPublicKey>;
    try {
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      throw new ChatError('unauthorized', 'Token key is unusable');
    }
    const verifier = createVerify('sha256').update(signingInput);
    const ok =
      alg === 'RS256'
        ? verifier.verify(key, signature)
        : verifier.verify({ key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!ok) throw new ChatError('unauthorized', 'Token signature is invalid');
  } else {
    throw new ChatError('unauthorized', 'Token algorithm is not accepted');
  }

  const now = Math.floor((options.now?.() ?? Date.now()) / 1000);
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (typeof payload.exp !== 'number') throw new ChatError('unauthorized', 'Token has no expiry');
  if (payload.exp + tolerance < now) throw new ChatError('unauthorized', 'Token has expired');
  if (typeof payload.nbf === 'number' && payload.nbf - tolerance > now) throw new ChatError('unauthorized', 'Token is not valid yet');
  if (options.issuer && payload.iss !== options.issuer) throw new ChatError('unauthorized', 'Token issuer is not accepted');
  if (options.audience) {
    const aud = payload.aud ?? payload.client_id;
    const list = Array.isArray(aud) ? aud : [aud];
    if (!list.includes(options.audience)) throw new ChatError('unauthorized', 'Token audience is not accepted');
  }
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new ChatError('unauthorized', 'Token has no subject');
  const claims: JwtClaims = { sub, roles: rolesOf(payload), exp: payload.exp };
  if (typeof payload.name === 'string') claims.name = payload.name.slice(0, 64);
  return claims;
}

/** Signs an HS256 token (the local runtime's dev tokens and the tests). */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** A JWKS fetcher with a cache: keys are fetched on first use and refreshed for unknown kids. */
export function jwksFetcher(url: string, ttlMs = 10 * 60 * 1000): (kid: string | undefined) => Promise<JwksKey | undefined> {
  let keys: JwksKey[] = [];
  let fetchedAt = 0;
  // One fetch at a time: concurrent requests of a cold start share it.
  let refreshing: Promise<void> | undefined;
  const fetchKeys = async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`JWKS fetch failed: ${response.status}`);
    const body = (await response.json()) as { keys?: JwksKey[] };
    keys = Array.isArray(body.keys) ? body.keys : [];
    fetchedAt = Date.now();
  };
  const refresh = () => {
    refreshing ??= fetchKeys().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };
  return async (kid) => {
    const find = () => keys.find((k) => kid === undefined || k.kid === kid);
    if (Date.now() - fetchedAt > ttlMs || (!find() && Date.now() - fetchedAt > 30_000)) await refresh();
    return find();
  };
}
