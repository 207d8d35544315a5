/**
 * jose verifiers: an issuer's JWKS by URL (RS256/ES256; jose picks the key by `kid` and by the
 * key type `alg` needs) and an HS256 secret. jose errors are sorted by their stable `code`.
 */
import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { claimsOf } from './claims.js';
import { CLOCK_TOLERANCE_SECONDS, checkTokenShape, rejectToken, type TokenVerifier } from './token-verifier.js';

/** The algorithms of each key type: nothing else is accepted, whatever the token's header says. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'];
export const SYMMETRIC_ALGORITHMS = ['HS256'];

/** JWKS fetches: time limit, how long keys are kept, and how soon an unknown `kid` may refetch. */
const JWKS_OPTIONS = { timeoutDuration: 3000, cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 };

/** jose error codes that a token can cause; every other failure (JWKS fetch, bad JWKS) is a fault. */
const REJECTIONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'Token has expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'Token claims are not accepted',
  ERR_JWT_INVALID: 'Token is malformed',
  ERR_JWS_INVALID: 'Token is malformed',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'Token signature is invalid',
  ERR_JOSE_ALG_NOT_ALLOWED: 'Token algorithm is not accepted',
  ERR_JOSE_NOT_SUPPORTED: 'Token algorithm is not accepted',
  ERR_JWKS_NO_MATCHING_KEY: 'Token key is unknown',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'Token key is ambiguous',
};

const CLAIM_MESSAGES: Record<string, string> = {
  iss: 'Token issuer is not accepted',
  aud: 'Token audience is not accepted',
  nbf: 'Token is not valid yet',
  exp: 'Token has no expiry',
  sub: 'Token has no subject',
};

/** A token's fault as a ChatError; anything else is returned as it is (a fault). */
export function fromJoseError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(code in REJECTIONS)) return error;
  const claim = (error as { claim?: unknown }).claim;
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && typeof claim === 'string' && claim in CLAIM_MESSAGES) {
    return rejectToken(CLAIM_MESSAGES[claim]!);
  }
  return rejectToken(REJECTIONS[code]!);
}

function joseVerifier(getKey: JWTVerifyGetKey, algorithms: string[], checks: { issuer?: string; audience?: string }): TokenVerifier {
  const options = {
    algorithms,
    issuer: checks.issuer,
    audience: checks.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  return {
    async verify(token) {
      checkTokenShape(token);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, options));
      } catch (error) {
        throw fromJoseError(error);
      }
      return claimsOf(payload);
    },
  };
}

/** RS256/ES256 tokens of `issuer`, keys from its JWKS (fetched on first use, then cached). */
export function jwksVerifier(jwksUrl: URL, checks: { issuer: string; audience?: string }): TokenVerifier {
  return joseVerifier(createRemoteJWKSet(jwksUrl, JWKS_OPTIONS), ASYMMETRIC_ALGORITHMS, checks);
}

/** HS256 tokens. A KeyObject rather than bytes: jose keeps the CryptoKey it derives from it. */
export function secretVerifier(key: KeyObject, checks: { issuer?: string; audience?: string }): TokenVerifier {
  return joseVerifier(async () => key, SYMMETRIC_ALGORITHMS, checks);
}
