/**
 * What every verifier shares: its interface, the checks made before a library sees the token, and
 * the one way a token's fault is reported (a ChatError `unauthorized`, answered with a deny).
 */
import { ChatError } from '../domain/errors.js';
import { type JwtClaims, MAX_TOKEN_LENGTH } from './claims.js';

export interface TokenVerifier {
  /** The token's claims, or a ChatError `unauthorized`; any other error is a fault. */
  verify(token: string): Promise<JwtClaims>;
}

/** Allowed clock skew for `exp` and `nbf`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export const rejectToken = (message: string) => new ChatError('unauthorized', message);

/** Empty and oversized tokens are refused before any parsing. */
export function checkTokenShape(token: string): void {
  if (typeof token !== 'string' || token.length === 0) throw rejectToken('A bearer token is required');
  if (token.length > MAX_TOKEN_LENGTH) throw rejectToken('Token is too long');
}
