/**
 * What the service takes from a verified token: the subject, its roles and the expiry. The
 * libraries check signatures and registered claims; these checks hold for every key source, so an
 * issuer that leaves out `exp` or `sub` is refused whichever library verified the signature.
 */
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

/** Longer tokens are refused before any parsing (API Gateway headers allow far more). */
export const MAX_TOKEN_LENGTH = 8192;

const MAX_ROLES = 20;
const MAX_ROLE_LENGTH = 64;
const MAX_SUB_LENGTH = 128;

/** `roles` as an array or a comma/space separated string; Cognito groups (`cognito:groups`) count as roles. */
export function rolesOf(payload: Record<string, unknown>): string[] {
  const raw = payload.roles ?? payload['cognito:groups'] ?? [];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  return list
    .filter((r): r is string => typeof r === 'string' && r.length > 0 && r.length <= MAX_ROLE_LENGTH && !r.includes(','))
    .slice(0, MAX_ROLES);
}

/** The claims of a payload whose signature, issuer, audience and times the library has checked. */
export function claimsOf(payload: Record<string, unknown>): JwtClaims {
  if (typeof payload.exp !== 'number') throw new ChatError('unauthorized', 'Token has no expiry');
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) {
    throw new ChatError('unauthorized', 'Token has no subject');
  }
  const claims: JwtClaims = { sub, roles: rolesOf(payload), exp: payload.exp };
  if (typeof payload.name === 'string') claims.name = payload.name.slice(0, 64);
  return claims;
}
