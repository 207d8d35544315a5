/**
 * The service's view of authentication: verify a token (the authorizer and the SSE function), read
 * the identity an authorizer attached (the other handlers), check roles and the sender.
 *
 * Fails closed: a function whose AUTH_MODE is missing or whose key source is incomplete refuses
 * every call with an AuthConfigError (a fault: 500, logged, alarmed). Only an explicit
 * AUTH_MODE=off, which the local runtime sets for `--no-auth` and the stack never does, lets
 * callers in as ANONYMOUS. The verifier is built once per cold start, on first use (the HS256
 * secret is read from SSM then, not at module load).
 */
import { ChatError } from '../domain/errors.js';
import type { Identity } from '../domain/model.js';
import { type Headers, headerValue } from '../shared/headers.js';
import type { JwtClaims } from './claims.js';
import { ADMIN_ROLE, AUTH_ENV, AuthConfigError, readAuthMode, readAuthSettings } from './settings.js';
import { loadSecretFromSsm } from './ssm-secret.js';
import { createVerifier, type SecretLoader, type TokenVerifier, type VerifierDeps } from './verifiers.js';

export type { JwtClaims } from './claims.js';
export { ADMIN_ROLE, AUTH_ENV, AuthConfigError };

/** With an explicit AUTH_MODE=off (local runs that opt out) every caller is this identity. */
export const ANONYMOUS: Identity = { userId: 'anonymous', roles: [ADMIN_ROLE] };

/**
 * False only for an explicit AUTH_MODE=off. A missing or unknown mode counts as on, so whatever
 * asks this checks identities, and the check itself then refuses the misconfiguration.
 */
export function authEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[AUTH_ENV.mode]?.trim() !== 'off';
}

let verifier: Promise<TokenVerifier> | undefined;

/**
 * Verifies a token against the function's key source. Rejects with a ChatError `unauthorized` when
 * the token is at fault; any other rejection (no configuration, SSM or JWKS unreachable) is a
 * fault of the service.
 */
export async function verifyToken(
  token: string,
  env: NodeJS.ProcessEnv = process.env,
  loadSecret: SecretLoader = loadSecretFromSsm,
  deps: Omit<VerifierDeps, 'loadSecret'> = {},
): Promise<JwtClaims> {
  verifier ??= (async () => {
    const { source } = readAuthSettings(env);
    if (!source) throw new AuthConfigError(`${AUTH_ENV.mode}=off and no key source: tokens cannot be verified`);
    return createVerifier(source, { ...deps, loadSecret });
  })().catch((error) => {
    // Not cached: the next call retries (SSM back, configuration fixed by a deploy).
    verifier = undefined;
    throw error;
  });
  return (await verifier).verify(token);
}

/** Forget the verifier built from the configuration (tests that change it). */
export function resetAuth(): void {
  verifier = undefined;
}

/** `Authorization: Bearer <token>` → token. */
export function bearerToken(headers: Headers): string | undefined {
  return headerValue(headers, 'authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/**
 * The caller as an authorizer described it (`{ userId, roles }`, roles comma-separated: context
 * values are strings). With auth on, a request without one never came through the authorizer: 401
 * with `hint` telling how to authenticate. Without AUTH_MODE: AuthConfigError (refused, a fault).
 * With AUTH_MODE=off, every caller is ANONYMOUS.
 */
export function identityFromAuthorizer(context: Record<string, unknown> | null | undefined, hint: string): Identity {
  if (readAuthMode() === 'off') return ANONYMOUS;
  const userId = context?.userId;
  if (typeof userId !== 'string' || userId === '') throw new ChatError('unauthorized', hint);
  const roles = typeof context?.roles === 'string' ? context.roles.split(',').filter(Boolean) : [];
  return { userId, roles };
}

export function requireRole(identity: Identity, role: string): void {
  if (!identity.roles.includes(role)) throw new ChatError('forbidden', `This action needs the "${role}" role`);
}

/**
 * The sender of a message is the authenticated user: a `sender` that names someone else is
 * rejected, and a missing one is filled in. With auth off, the client's `sender` is taken as is.
 */
export function resolveSender(identity: Identity, claimed: string | undefined, enabled = authEnabled()): string {
  if (!enabled) {
    if (!claimed) throw new ChatError('validation_error', 'sender is required');
    return claimed;
  }
  if (claimed !== undefined && claimed !== identity.userId) {
    throw new ChatError('forbidden', `sender must be your own user id ("${identity.userId}")`);
  }
  return identity.userId;
}
