/**
 * Authentication settings of the deployed stack: where the token verifier gets its key, checked at
 * synth, and the AUTH_* environment the handlers read (names from lambdas/auth/authenticator.ts).
 *
 * Exactly one key source:
 * - an issuer's JWKS (Cognito user pool or any OIDC provider): `jwksUrl` + `issuer`, optionally
 *   `audience`;
 * - an HS256 secret in an SSM Parameter Store SecureString: `secretParameterName` (optionally
 *   `secretKmsKeyArn` when the parameter is encrypted with a customer-managed key instead of the
 *   default aws/ssm key).
 * The secret itself never appears in the template: functions read the parameter at cold start.
 * AUTH_SECRET (a literal secret) is the local runtime's and is never set here.
 */
import { Token } from 'aws-cdk-lib';
import { AUTH_ENV } from '../lambdas/auth/authenticator.js';

export interface AuthConfig {
  /** JWKS endpoint of the token issuer, e.g. `https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`. */
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
  | { source: 'jwks'; jwksUrl: string; issuer: string; audience?: string }
  | { source: 'secret'; secretParameterName: string; secretKmsKeyArn?: string; issuer?: string; audience?: string };

/** Context keys of lib/app.ts that fill AuthConfig. */
export const AUTH_CONTEXT = {
  jwksUrl: 'authJwksUrl',
  issuer: 'authIssuer',
  audience: 'authAudience',
  secretParameterName: 'authSecretParameterName',
  secretKmsKeyArn: 'authSecretKmsKeyArn',
} as const satisfies Record<keyof AuthConfig, string>;

const HOW_TO =
  `Set either '${AUTH_CONTEXT.jwksUrl}' and '${AUTH_CONTEXT.issuer}' (optionally '${AUTH_CONTEXT.audience}') for ` +
  `Cognito/OIDC tokens, or '${AUTH_CONTEXT.secretParameterName}' (an SSM SecureString holding an HS256 secret). ` +
  `cdk.json defaults '${AUTH_CONTEXT.secretParameterName}' to /chat/dev/jwt-secret; to use a JWKS instead, clear it ` +
  `with -c ${AUTH_CONTEXT.secretParameterName}= (empty).`;

/** SSM parameter names: letters, digits, `_.-/`, up to 1011 characters; not `aws`/`ssm` prefixed. */
const SSM_NAME = /^[A-Za-z0-9_.\-/]{1,1011}$/;

function concrete(value: string | undefined): value is string {
  return value !== undefined && !Token.isUnresolved(value);
}

/** Checks the configuration and says exactly what is wrong; throws at synth. */
export function resolveAuth(config: AuthConfig | undefined): ResolvedAuth {
  const c = config ?? {};
  const hasJwks = Boolean(c.jwksUrl);
  const hasSecret = Boolean(c.secretParameterName);
  if (!hasJwks && !hasSecret) throw new Error(`Auth: no token key source is configured. ${HOW_TO}`);
  if (hasJwks && hasSecret) {
    throw new Error(
      `Auth: both a JWKS URL and an SSM secret parameter are configured; exactly one key source is allowed. ${HOW_TO}`,
    );
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
    if (c.secretKmsKeyArn) throw new Error(`Auth: '${AUTH_CONTEXT.secretKmsKeyArn}' only applies to an SSM secret`);
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

/** AUTH_MODE=jwt and the key source variables (never AUTH_SECRET). */
export function authEnvironment(auth: ResolvedAuth): Record<string, string> {
  const env: Record<string, string> = { [AUTH_ENV.mode]: 'jwt' };
  if (auth.source === 'jwks') env[AUTH_ENV.jwksUrl] = auth.jwksUrl;
  else env[AUTH_ENV.secretParameter] = auth.secretParameterName;
  if (auth.issuer) env[AUTH_ENV.issuer] = auth.issuer;
  if (auth.audience) env[AUTH_ENV.audience] = auth.audience;
  return env;
}
