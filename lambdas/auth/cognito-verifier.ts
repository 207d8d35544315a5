/**
 * Cognito user pool tokens with aws-jwt-verify: issuer and JWKS from the pool id, `token_use`, and
 * the app client (`client_id` of access tokens, `aud` of ID tokens). Its errors are sorted by
 * class: JWKS fetch and key-set faults stay faults, everything a token can cause is a rejection.
 */
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
import { claimsOf } from './claims.js';
import { AuthConfigError, type TokenUse } from './settings.js';
import { CLOCK_TOLERANCE_SECONDS, checkTokenShape, rejectToken, type TokenVerifier } from './token-verifier.js';

/** aws-jwt-verify errors that a token can cause, most specific first. */
const REJECTIONS: Array<[abstract new (...args: never[]) => Error, string]> = [
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
const FAULTS = [FetchError, JwksValidationError, JwkValidationError, JwksNotAvailableInCacheError];

/** A token's fault as a ChatError; anything else is returned as it is (a fault). */
export function fromCognitoError(error: unknown): unknown {
  if (!(error instanceof JwtBaseError) || FAULTS.some((type) => error instanceof type)) return error;
  const known = REJECTIONS.find(([type]) => error instanceof type);
  return rejectToken(known?.[1] ?? 'Token is not valid');
}

export interface CognitoSource {
  userPoolId: string;
  clientId: string;
  tokenUse: TokenUse;
}

export function cognitoVerifier(source: CognitoSource, jwksCache?: JwksCache): TokenVerifier {
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
      checkTokenShape(token);
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
