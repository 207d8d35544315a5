/**
 * Token verification by maintained libraries, one verifier per key source:
 * - Cognito user pool: aws-jwt-verify's CognitoJwtVerifier (issuer and JWKS from the pool id,
 *   `token_use`, and `client_id` / `aud` against the app client);
 * - any other issuer: jose against the issuer's JWKS (RS256/ES256, key chosen by `kid` and `alg`);
 * - an HS256 secret (SSM SecureString or the local runtime's key): jose, HS256 only.
 * The accepted algorithms follow the key source, so `alg: none` and algorithm confusion fail.
 *
 * Every failure is sorted into one of two kinds: the token's fault (a ChatError `unauthorized`,
 * answered with a deny) or the service's (the key source is unreachable or broken: rethrown, so it
 * is a function error that alarms, and API Gateway caches no deny for a good token).
 */
import { createSecretKey } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwkValidationError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { ChatError } from '../domain/errors.js';
import { claimsOf, type JwtClaims, MAX_TOKEN_LENGTH } from './claims.js';
import { AuthConfigError, type KeySource } from './settings.js';

export interface TokenVerifier {
  /** The token's claims, or a ChatError `unauthorized`; any other error is a fault. */
  verify(token: string): Promise<JwtClaims>;
}

/** Reads the HS256 secret from its SSM parameter (a fault when it cannot). */
export type SecretLoader = (parameterName: string) => Promise<string>;

export interface VerifierDeps {
  loadSecret: SecretLoader;
  /** Cognito JWKS cache (tests point it at a local JWKS server). */
  cognitoJwksCache?: JwksCache;
}

/** Allowed clock skew for `exp` and `nbf`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** The algorithms of each key type: nothing else is accepted, whatever the token's header says. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'];
export const SYMMETRIC_ALGORITHMS = ['HS256'];

/** JWKS fetches: time limit, how long keys are kept, and how soon an unknown `kid` may refetch. */
const JWKS_OPTIONS = { timeoutDuration: 3000, cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 };

const reject = (message: string) => new ChatError('unauthorized', message);

function checkShape(token: string): void {
  if (typeof token !== 'string' || token.length === 0) throw reject('A bearer token is required');
  if (token.length > MAX_TOKEN_LENGTH) throw reject('Token is too long');
}

/** jose error codes that a token can cause; every other failure (JWKS fetch, bad JWKS) is a fault. */
const JOSE_REJECTIONS: Record<string, string> = {
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

export function fromJoseError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(code in JOSE_REJECTIONS)) return error;
  const claim = (error as { claim?: unknown }).claim;
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && typeof claim === 'string' && claim in CLAIM_MESSAGES) {
    return reject(CLAIM_MESSAGES[claim]!);
  }
  return reject(JOSE_REJECTIONS[code]!);
}

/** aws-jwt-verify errors that a token can cause, most specific first. */
const COGNITO_REJECTIONS: Array<[abstract new (...args: never[]) => Error, string]> = [
  [JwtExpiredError, 'Token has expired'],
  [JwtNotBeforeError, 'Token is not valid yet'],
  [JwtInvalidIssuerError, 'Token issuer is not accepted'],
  // A single-pool verifier answers a foreign `iss` with "issuer not configured".
  [ParameterValidationError, 'Token issuer is not accepted'],
  [JwtInvalidAudienceError, 'Token audience is not accepted'],
  [CognitoJwtInvalidClientIdError, 'Token client is not accepted'],
  [CognitoJwtInvalidTokenUseError, 'Token use is not accepted'],
  [JwtInvalidSignatureAlgorithmError, 'Token algorithm is not accepted'],
  [JwtInvalidSignatureError, 'Token signature is invalid'],
  [KidNotFoundInJwksError, 'Token key is unknown'],
  [WaitPeriodNotYetEndedJwkError, 'Token key is unknown'],
  [JwtWithoutValidKidError, 'Token key is unknown'],
  [JwtParseError, 'Token is malformed'],
];

/** Faults of the key source: the JWKS could not be fetched or is not a valid key set. */
const COGNITO_FAULTS = [FetchError, JwksValidationError, JwkValidationError, JwksNotAvailableInCacheError];

export function fromCognitoError(error: unknown): unknown {
  if (!(error instanceof JwtBaseError) || COGNITO_FAULTS.some((type) => error instanceof type)) return error;
  const known = COGNITO_REJECTIONS.find(([type]) => error instanceof type);
  return reject(known?.[1] ?? 'Token is not valid');
}

function joseVerifier(
  getKey: JWTVerifyGetKey,
  algorithms: string[],
  checks: { issuer?: string; audience?: string },
): TokenVerifier {
  const options = {
    algorithms,
    issuer: checks.issuer,
    audience: checks.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  return {
    async verify(token) {
      checkShape(token);
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

function cognitoVerifier(source: Extract<KeySource, { kind: 'cognito' }>, jwksCache?: JwksCache): TokenVerifier {
  const props = {
    userPoolId: source.userPoolId,
    clientId: source.clientId,
    tokenUse: source.tokenUse,
    graceSeconds: CLOCK_TOLERANCE_SECONDS,
  };
  let verifier: { verify(token: string): Promise<unknown> };
  try {
    verifier = jwksCache ? CognitoJwtVerifier.create(props, { jwksCache }) : CognitoJwtVerifier.create(props);
  } catch (error) {
    throw new AuthConfigError(`Cognito verifier: ${(error as Error).message}`);
  }
  return {
    async verify(token) {
      checkShape(token);
      let payload: Record<string, unknown>;
      try {
        payload = (await verifier.verify(token)) as Record<string, unknown>;
      } catch (error) {
        throw fromCognitoError(error);
      }
      return claimsOf(payload);
    },
  };
}

/** The verifier of a key source; the HS256 secret parameter is read here, once. */
export async function createVerifier(source: KeySource, deps: VerifierDeps): Promise<TokenVerifier> {
  switch (source.kind) {
    case 'cognito':
      return cognitoVerifier(source, deps.cognitoJwksCache);
    case 'jwks': {
      let url: URL;
      try {
        url = new URL(source.jwksUrl);
      } catch {
        throw new AuthConfigError(`JWKS URL '${source.jwksUrl}' is not a URL`);
      }
      return joseVerifier(createRemoteJWKSet(url, JWKS_OPTIONS), ASYMMETRIC_ALGORITHMS, source);
    }
    case 'secretParameter':
    case 'secret': {
      const secret = source.kind === 'secret' ? source.secret : await deps.loadSecret(source.parameterName);
      if (!secret) throw new AuthConfigError('the HS256 secret is empty');
      // A KeyObject rather than bytes: jose keeps the CryptoKey it derives from it for later calls.
      const key = createSecretKey(Buffer.from(secret, 'utf8'));
      return joseVerifier(async () => key, SYMMETRIC_ALGORITHMS, source);
    }
  }
}
