/**
 * The auth settings of a function, read from its environment. Auth fails closed: AUTH_MODE must
 * be set, and `jwt` needs exactly one complete key source; anything else is an AuthConfigError,
 * which refuses the call as a server fault (500, logged as an error, alarmed) and never lets a
 * caller through. AUTH_MODE=off is an explicit opt-out of the local runtime (`--no-auth`); the
 * deployed stack only ever sets `jwt` (lib/auth.ts).
 */

export const AUTH_ENV = {
  mode: 'AUTH_MODE',
  /** Cognito user pool id (aws-jwt-verify); AUTH_AUDIENCE is then the app client id. */
  cognitoUserPoolId: 'AUTH_COGNITO_USER_POOL_ID',
  /** Cognito `token_use` accepted: `access` (default) or `id`. */
  tokenUse: 'AUTH_TOKEN_USE',
  jwksUrl: 'AUTH_JWKS_URL',
  issuer: 'AUTH_ISSUER',
  audience: 'AUTH_AUDIENCE',
  secretParameter: 'AUTH_SECRET_PARAMETER',
  /** A literal HS256 secret: the local runtime's own signing key; the stack never sets it. */
  secret: 'AUTH_SECRET',
} as const;

/** The role of administrators (a Cognito group of the same name grants it). */
export const ADMIN_ROLE = 'admin';

export const AUTH_MODES = ['jwt', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export type TokenUse = 'access' | 'id';

/** Where the verification key comes from. */
export type KeySource =
  | { kind: 'cognito'; userPoolId: string; clientId: string; tokenUse: TokenUse }
  | { kind: 'jwks'; jwksUrl: string; issuer: string; audience?: string }
  | { kind: 'secretParameter'; parameterName: string; issuer?: string; audience?: string }
  | { kind: 'secret'; secret: string; issuer?: string; audience?: string };

export type AuthSettings = { mode: 'off'; source?: KeySource } | { mode: 'jwt'; source: KeySource };

/** The function's auth configuration is missing or contradictory: a fault, never a client error. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(`Auth configuration: ${message}`);
    this.name = 'AuthConfigError';
  }
}

const value = (env: NodeJS.ProcessEnv, key: string): string | undefined => {
  const v = env[key]?.trim();
  return v ? v : undefined;
};

/** AUTH_MODE, which must be set: a function without it refuses every call. */
export function readAuthMode(env: NodeJS.ProcessEnv = process.env): AuthMode {
  const mode = value(env, AUTH_ENV.mode);
  if (mode === undefined) throw new AuthConfigError(`${AUTH_ENV.mode} is not set; every call is refused`);
  if (!(AUTH_MODES as readonly string[]).includes(mode)) {
    throw new AuthConfigError(`${AUTH_ENV.mode}=${mode} is not one of ${AUTH_MODES.join(', ')}`);
  }
  return mode as AuthMode;
}

/**
 * The whole configuration: the mode and the key source, which `jwt` requires. With `off` a key
 * source is optional: callers need no token, but one that is presented can still be verified.
 */
export function readAuthSettings(env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const mode = readAuthMode(env);
  const source = readKeySource(env);
  if (mode === 'off') return source ? { mode, source } : { mode };
  if (!source) {
    throw new AuthConfigError(
      `${AUTH_ENV.mode}=jwt needs a key source: ${AUTH_ENV.cognitoUserPoolId}, ${AUTH_ENV.jwksUrl}, ${AUTH_ENV.secretParameter} or ${AUTH_ENV.secret}`,
    );
  }
  return { mode, source };
}

/** The one key source configured, if any; an incomplete or second one is an error. */
function readKeySource(env: NodeJS.ProcessEnv): KeySource | undefined {
  const get = (key: string) => value(env, key);
  const issuer = get(AUTH_ENV.issuer);
  const audience = get(AUTH_ENV.audience);
  const sources = (
    [AUTH_ENV.cognitoUserPoolId, AUTH_ENV.jwksUrl, AUTH_ENV.secretParameter, AUTH_ENV.secret] as const
  ).filter((key) => get(key) !== undefined);
  if (sources.length === 0) return undefined;
  if (sources.length > 1) throw new AuthConfigError(`exactly one key source is allowed, got ${sources.join(' and ')}`);

  const poolId = get(AUTH_ENV.cognitoUserPoolId);
  if (poolId) {
    if (!audience) throw new AuthConfigError(`${AUTH_ENV.cognitoUserPoolId} needs ${AUTH_ENV.audience} (the app client id)`);
    const tokenUse = get(AUTH_ENV.tokenUse) ?? 'access';
    if (tokenUse !== 'access' && tokenUse !== 'id') throw new AuthConfigError(`${AUTH_ENV.tokenUse} must be access or id`);
    return { kind: 'cognito', userPoolId: poolId, clientId: audience, tokenUse };
  }
  const jwksUrl = get(AUTH_ENV.jwksUrl);
  if (jwksUrl) {
    // Without an expected issuer, any tenant of a shared issuer host could sign in.
    if (!issuer) throw new AuthConfigError(`${AUTH_ENV.jwksUrl} needs ${AUTH_ENV.issuer}`);
    return { kind: 'jwks', jwksUrl, issuer, audience };
  }
  const parameterName = get(AUTH_ENV.secretParameter);
  if (parameterName) return { kind: 'secretParameter', parameterName, issuer, audience };
  return { kind: 'secret', secret: get(AUTH_ENV.secret)!, issuer, audience };
}
