/**
 * Development tokens: the local runtime's `POST /api/dev/token` and the tests sign HS256 tokens
 * with this. No handler imports it (the Lambda bundles do not contain it), and nothing here
 * verifies: verification is jose's and aws-jwt-verify's (verifiers.ts); `verifyJwt` only routes an
 * HS256 secret to that verifier for callers that hold a secret instead of an environment.
 */
import { createHmac } from 'node:crypto';
import type { JwtClaims } from './claims.js';
import { createVerifier } from './verifiers.js';

export type { JwtClaims } from './claims.js';

/**
 * Signs an HS256 token synchronously (the local runtime issues tokens from synchronous code).
 * Tokens it makes are checked by jose like any other, which keeps this signer honest.
 */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

export interface SecretVerifierOptions {
  secret: string;
  issuer?: string;
  audience?: string;
}

/** Verifies an HS256 token with a given secret (jose, as the handlers do). */
export async function verifyJwt(token: string, options: SecretVerifierOptions): Promise<JwtClaims> {
  const verifier = await createVerifier(
    { kind: 'secret', secret: options.secret, issuer: options.issuer, audience: options.audience },
    {
      loadSecret: async () => {
        throw new Error('no SSM parameter here');
      },
    },
  );
  return verifier.verify(token);
}
