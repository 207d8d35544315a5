/**
 * Authentication settings of the deployed stack: where the token verifier gets its key, checked at
 * synth, and the AUTH_* environment the functions read (names from lambdas/auth/settings.ts).
 *
 * Exactly one key source:
 * - a Cognito user pool: one the stack creates (`createUserPool`, context `cognito=true`), or an
 *   existing one (`cognitoUserPoolId` + `cognitoClientId`); verified with aws-jwt-verify;
 * - an issuer's JWKS (any OIDC provider): `jwksUrl` + `issuer`, optionally `audience`;
 * - an HS256 secret in an SSM Parameter Store SecureString: `secretParameterName` (optionally
 *   `secretKmsKeyArn` when the parameter is encrypted with a customer-managed key instead of the
 *   default aws/ssm key). The secret never appears in the template: functions read it at cold start.
 * The stack always sets AUTH_MODE=jwt: it has no way to set `off`, and never sets AUTH_SECRET (the
 * local runtime's literal secret).
 */
import { type RemovalPolicy, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AUTH_ENV, type TokenUse } from '../lambdas/auth/settings.js';
import { ChatUserPool } from './constructs/user-pool.js';

export interface AuthConfig {
  /** Create a Cognito user pool and app client in the stack and accept its access tokens. */
  createUserPool?: boolean;
  /** An existing Cognito user pool, e.g. `eu-west-1_AbCdEf123` (with `cognitoClientId`). */
  cognitoUserPoolId?: string;
  /** The app client whose tokens are accepted (`client_id` of access tokens). */
  cognitoClientId?: string;
  /** JWKS endpoint of another token issuer, e.g. `https://issuer.example.com/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Expected `iss` claim; required with `jwksUrl`. */
  issuer?: string;
  /** Expected `aud` claim (optional). */
  audience?: string;
  /** Name of the SSM SecureString parameter holding the HS256 secret, e.g. `/chat/prod/jwt-secret`. */
  secretParameterName?: string;
  /** KMS key of that parameter, only when it is not the AWS-managed aws/ssm key. */
  secretKmsKeyArn?: string;
}

export type ResolvedAuth =
  | { source: 'cognito'; userPoolId: string; clientId: string; tokenUse: TokenUse; userPool?: ChatUserPool }
  | { source: 'jwks'; jwksUrl: string; issuer: string; audience?: string }
  | { source: 'secret'; secretParameterName: string; secretKmsKeyArn?: string; issuer?: string; audience?: string };

/** Context keys of lib/app.ts that fill AuthConfig. */
export const AUTH_CONTEXT = {
  createUserPool: 'cognito',
  cognitoUserPoolId: 'authCognitoUserPoolId',
  cognitoClientId: 'authCognitoClientId',
  jwksUrl: 'authJwksUrl',
  issuer: 'authIssuer',
  audience: 'authAudience',
  secretParameterName: 'authSecretParameterName',
  secretKmsKeyArn: 'authSecretKmsKeyArn',
} as const satisfies Record<keyof AuthConfig, string>;

/** The HS256 secret parameter used when no key source is configured at all. */
export function defaultSecretParameterName(stage: string): string {
  return `/chat/${stage}/jwt-secret`;
}

const HOW_TO =
  `Choose one: -c ${AUTH_CONTEXT.createUserPool}=true (a Cognito user pool in the stack), ` +
  `'${AUTH_CONTEXT.cognitoUserPoolId}' + '${AUTH_CONTEXT.cognitoClientId}' (an existing pool), ` +
  `'${AUTH_CONTEXT.jwksUrl}' + '${AUTH_CONTEXT.issuer}' (optionally '${AUTH_CONTEXT.audience}') for another issuer, ` +
  `or '${AUTH_CONTEXT.secretParameterName}' (an SSM SecureString holding an HS256 secret; the default when nothing else is set).`;

/** SSM parameter names: letters, digits, `_.-/`, up to 1011 characters; not `aws`/`ssm` prefixed. */
const SSM_NAME = /^[A-Za-z0-9_.\-/]{1,1011}$/;
/** Cognito user pool ids: `<region>_<id>`. */
const USER_POOL_ID = /^[\w-]+_[0-9a-zA-Z]+$/;

function concrete(value: string | undefined): value is string {
  return value !== undefined && !Token.isUnresolved(value);
}

/** Throws unless exactly one key source is configured. */
function checkOneSource(c: AuthConfig): void {
  const sources: string[] = [];
  if (c.createUserPool) sources.push(`${AUTH_CONTEXT.createUserPool}=true`);
  if (c.cognitoUserPoolId) sources.push(AUTH_CONTEXT.cognitoUserPoolId);
  if (c.jwksUrl) sources.push(AUTH_CONTEXT.jwksUrl);
  if (c.secretParameterName) sources.push(AUTH_CONTEXT.secretParameterName);
  if (sources.length === 0) throw new Error(`Auth: no token key source is configured. ${HOW_TO}`);
  if (sources.length > 1) {
    throw new Error(`Auth: ${sources.join(' and ')} are configured; exactly one key source is allowed. ${HOW_TO}`);
  }
}

/**
 * Checks the configuration and says exactly what is wrong; throws at synth. A user pool the stack
 * should create needs a scope: use createAuth.
 */
export function resolveAuth(config: AuthConfig | undefined): ResolvedAuth {
  const c = config ?? {};
  checkOneSource(c);
  if (c.secretKmsKeyArn && !c.secretParameterName) {
    throw new Error(`Auth: '${AUTH_CONTEXT.secretKmsKeyArn}' only applies to an SSM secret`);
  }
  if (c.createUserPool) {
    throw new Error(`Auth: ${AUTH_CONTEXT.createUserPool}=true creates a user pool; the stack must resolve auth with createAuth(scope, ...)`);
  }
  if (c.cognitoUserPoolId) {
    if (concrete(c.cognitoUserPoolId) && !USER_POOL_ID.test(c.cognitoUserPoolId)) {
      throw new Error(`Auth: '${c.cognitoUserPoolId}' is not a Cognito user pool id (<region>_<id>)`);
    }
    if (!c.cognitoClientId) {
      throw new Error(`Auth: '${AUTH_CONTEXT.cognitoClientId}' is required with '${AUTH_CONTEXT.cognitoUserPoolId}' (the app client whose tokens are accepted)`);
    }
    return { source: 'cognito', userPoolId: c.cognitoUserPoolId, clientId: c.cognitoClientId, tokenUse: 'access' };
  }
  if (c.jwksUrl) {
    if (concrete(c.jwksUrl) && !/^https:\/\/[^\s/]+\/\S*$/.test(c.jwksUrl)) {
      throw new Error(`Auth: '${AUTH_CONTEXT.jwksUrl}' must be an https:// URL, got '${c.jwksUrl}'`);
    }
    if (!c.issuer) {
      throw new Error(
        `Auth: '${AUTH_CONTEXT.issuer}' is required with '${AUTH_CONTEXT.jwksUrl}' (the expected 'iss' claim), so tokens of other tenants of the same issuer host are rejected`,
      );
    }
    return { source: 'jwks', jwksUrl: c.jwksUrl, issuer: c.issuer, audience: c.audience || undefined };
  }
  const name = c.secretParameterName!;
  if (concrete(name)) {
    if (name.startsWith('arn:')) {
      throw new Error(`Auth: '${AUTH_CONTEXT.secretParameterName}' takes the parameter name, not its ARN: '${name}'`);
    }
    if (!SSM_NAME.test(name) || /^\/?(aws|ssm)/i.test(name)) {
      throw new Error(`Auth: '${name}' is not a valid SSM parameter name`);
    }
  }
  return {
    source: 'secret',
    secretParameterName: name,
    secretKmsKeyArn: c.secretKmsKeyArn || undefined,
    issuer: c.issuer || undefined,
    audience: c.audience || undefined,
  };
}

export interface CreateAuthOptions {
  /** Of the user pool, when the stack creates one (users are data: RETAIN keeps them). */
  removalPolicy: RemovalPolicy;
}

/**
 * resolveAuth, plus the Cognito user pool and app client when the configuration asks the stack to
 * create them (`createUserPool`); the pool then is the key source (`auth.userPool`).
 */
export function createAuth(scope: Construct, config: AuthConfig | undefined, options: CreateAuthOptions): ResolvedAuth {
  if (!config?.createUserPool) return resolveAuth(config);
  checkOneSource(config);
  const userPool = new ChatUserPool(scope, 'UserPool', { removalPolicy: options.removalPolicy });
  const auth = resolveAuth({ cognitoUserPoolId: userPool.userPoolId, cognitoClientId: userPool.clientId });
  return { ...auth, userPool } as ResolvedAuth;
}

/** AUTH_MODE=jwt and the key source variables (never AUTH_MODE=off, never AUTH_SECRET). */
export function authEnvironment(auth: ResolvedAuth): Record<string, string> {
  const env: Record<string, string> = { [AUTH_ENV.mode]: 'jwt' };
  switch (auth.source) {
    case 'cognito':
      env[AUTH_ENV.cognitoUserPoolId] = auth.userPoolId;
      env[AUTH_ENV.audience] = auth.clientId;
      env[AUTH_ENV.tokenUse] = auth.tokenUse;
      return env;
    case 'jwks':
      env[AUTH_ENV.jwksUrl] = auth.jwksUrl;
      break;
    case 'secret':
      env[AUTH_ENV.secretParameter] = auth.secretParameterName;
      break;
  }
  if (auth.issuer) env[AUTH_ENV.issuer] = auth.issuer;
  if (auth.audience) env[AUTH_ENV.audience] = auth.audience;
  return env;
}
