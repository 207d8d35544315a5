/**
 * Builds the token verifier from configuration, once per cold start. Key sources, in order:
 * an issuer's JWKS (AUTH_JWKS_URL, with AUTH_ISSUER / AUTH_AUDIENCE), an HS256 secret kept in SSM
 * Parameter Store as a SecureString (AUTH_SECRET_PARAMETER), or an HS256 secret in AUTH_SECRET
 * (the local runtime's generated signing key; never set in the deployed stack).
 */
import type { Identity } from '../domain/model.js';
import { ChatError } from '../domain/errors.js';
import { type Headers, headerValue } from '../shared/headers.js';
import { type JwtClaims, jwksFetcher, type VerifierOptions, verifyJwt } from './jwt.js';

export const AUTH_ENV = {
  mode: 'AUTH_MODE',
  jwksUrl: 'AUTH_JWKS_URL',
  issuer: 'AUTH_ISSUER',
  audience: 'AUTH_AUDIENCE',
  secretParameter: 'AUTH_SECRET_PARAMETER',
  secret: 'AUTH_SECRET',
} as const;

export const ADMIN_ROLE = 'admin';

/** With AUTH_MODE=off (local runs that opt out) every caller is this identity. */
export const ANONYMOUS: Identity = { userId: 'anonymous', roles: [ADMIN_ROLE] };

export function authEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env[AUTH_ENV.mode] ?? 'off') !== 'off';
}

type SecretLoader = (parameterName: string) => Promise<string>;

/** Reads a SecureString from SSM; loaded lazily so the SSM client is only bundled where used. */
const loadSecretFromSsm: SecretLoader = async (name) => {
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient({});
  const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value;
  if (!value) throw new Error(`SSM parameter ${name} is empty`);
  return value;
};

let verifierOptions: Promise<VerifierOptions> | undefined;

async function buildOptions(env: NodeJS.ProcessEnv, loadSecret: SecretLoader): Promise<VerifierOptions> {
  const options: VerifierOptions = {};
  if (env[AUTH_ENV.issuer]) options.issuer = env[AUTH_ENV.issuer];
  if (env[AUTH_ENV.audience]) options.audience = env[AUTH_ENV.audience];
  if (env[AUTH_ENV.jwksUrl]) options.jwks = jwksFetcher(env[AUTH_ENV.jwksUrl]!);
  if (env[AUTH_ENV.secretParameter]) options.secret = await loadSecret(env[AUTH_ENV.secretParameter]!);
  else if (env[AUTH_ENV.secret]) options.secret = env[AUTH_ENV.secret];
  if (!options.jwks && !options.secret) throw new Error('Auth is on but no key source is configured');
  return options;
}

export async function verifyToken(
  token: string,
  env: NodeJS.ProcessEnv = process.env,
  loadSecret: SecretLoader = loadSecretFromSsm,
): Promise<JwtClaims> {
  verifierOptions ??= buildOptions(env, loadSecret).catch((error) => {
    verifierOptions = undefined;
    throw error;
  });
  return verifyJwt(token, await verifierOptions);
}

/** Forget the cached key source (tests that change the configuration). */
export function resetAuth(): void {
  verifierOptions = undefined;
}

/** `Authorization: Bearer <token>` → token. */
export function bearerToken(headers: Headers): string | undefined {
  return headerValue(headers, 'authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/**
 * The caller as an authorizer described it (`{ userId, roles }`, roles comma-separated: context
 * values are strings). With auth on, a request without one never came through the authorizer: 401
 * with `hint` telling how to authenticate. With auth off, every caller is ANONYMOUS.
 */
export function identityFromAuthorizer(context: Record<string, unknown> | null | undefined, hint: string): Identity {
  if (!authEnabled()) return ANONYMOUS;
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
