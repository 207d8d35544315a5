/**
 * Replaces `@aws-sdk/credential-provider-node` in the Lambda bundles (esbuild alias, see
 * lib/bundling.ts). Lambda always hands the execution role's credentials to the function as
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, so the default chain's other
 * links (SSO, ini files, process, web identity, container and instance metadata) can never
 * answer there, yet they pull the STS/SSO/sign-in clients and the IMDS code into every bundle.
 *
 * Same exports and shape as the real module: `defaultProvider(init)` returns a credential
 * provider `() => Promise<AwsCredentialIdentity>`; the SDK clients call it (via
 * `credentialDefaultProvider`) when no `credentials` were passed. The environment is read on
 * every call, so credentials are never cached past their lifetime.
 *
 * Local runs and tests do not bundle, so they keep the full default chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type FromEnvInit = NonNullable<Parameters<typeof fromEnv>[0]>;
type CredentialProvider = ReturnType<typeof fromEnv>;
type Credentials = Awaited<ReturnType<CredentialProvider>>;

/** What the SDK passes: the client's resolved config (profile, logger, region, ...). */
export type DefaultProviderInit = FromEnvInit & Record<string, unknown>;

export const defaultProvider = (init: DefaultProviderInit = {}): CredentialProvider => fromEnv({ logger: init.logger });

export const credentialsWillNeedRefresh = (credentials?: Credentials): boolean =>
  credentials?.expiration !== undefined;

export const credentialsTreatedAsExpired = (credentials?: Credentials): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
