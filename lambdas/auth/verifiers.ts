/**
 * Token verification by maintained libraries, one verifier per key source:
 * - Cognito user pool: aws-jwt-verify (cognito-verifier.ts);
 * - any other issuer's JWKS, and an HS256 secret (SSM SecureString or the local runtime's key):
 *   jose (jose-verifier.ts).
 * The accepted algorithms follow the key source, so `alg: none` and algorithm confusion fail.
 *
 * Every failure is sorted into one of two kinds: the token's fault (a ChatError `unauthorized`,
 * answered with a deny) or the service's (the key source is unreachable or broken: rethrown, so it
 * is a function error that alarms, and API Gateway caches no deny for a good token).
 */
import { createSecretKey } from 'node:crypto';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import { jwksVerifier, secretVerifier } from './jose-verifier.js';
import { AuthConfigError, type KeySource } from './settings.js';
import type { TokenVerifier } from './token-verifier.js';

export type { TokenVerifier } from './token-verifier.js';

/** Reads the HS256 secret from its SSM parameter (a fault when it cannot). */
export type SecretLoader = (parameterName: string) => Promise<string>;

export interface VerifierDeps {
  loadSecret: SecretLoader;
  /** Cognito JWKS cache (tests point it at a local JWKS server). */
  cognitoJwksCache?: JwksCache;
}

/** The verifier of a key source; the HS256 secret parameter is read here, once. */
export async function createVerifier(source: KeySource, deps: VerifierDeps): Promise<TokenVerifier> {
  switch (source.kind) {
    case 'cognito': {
      // Imported on use: aws-jwt-verify does not declare itself free of side effects, so a static
      // import would keep it in every bundle that imports the authenticator (http, wsConnect and
      // wsMessage only read identities: 16 KB each).
      const { cognitoVerifier } = await import('./cognito-verifier.js');
      return cognitoVerifier(source, deps.cognitoJwksCache);
    }
    case 'jwks': {
      let url: URL;
      try {
        url = new URL(source.jwksUrl);
      } catch {
        throw new AuthConfigError(`JWKS URL '${source.jwksUrl}' is not a URL`);
      }
      return jwksVerifier(url, source);
    }
    case 'secretParameter':
    case 'secret': {
      const secret = source.kind === 'secret' ? source.secret : await deps.loadSecret(source.parameterName);
      if (!secret) throw new AuthConfigError('the HS256 secret is empty');
      return secretVerifier(createSecretKey(Buffer.from(secret, 'utf8')), source);
    }
  }
}
