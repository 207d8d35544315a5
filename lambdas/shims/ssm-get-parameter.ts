/**
 * Replaces `@aws-sdk/client-ssm` in the Lambda bundles (esbuild alias, see lib/bundling.ts). The
 * functions make one SSM call, GetParameter for the HS256 secret at cold start
 * (lambdas/auth/authenticator.ts), and the full client carries the schemas of every SSM
 * operation: ~220 KB of the authorizer's and the SSE function's bundles. This module is the same
 * call in a few KB: the `SSMClient` / `GetParameterCommand` surface the authenticator uses, the
 * awsJson1_1 protocol (POST /, `X-Amz-Target: AmazonSSM.GetParameter`), Signature Version 4 with
 * node:crypto, credentials and region from the environment Lambda sets, and retries with jittered
 * backoff on throttling, 5xx and network errors (as the SDK's standard retry mode).
 *
 * Endpoint: `endpoint` in the client config, else AWS_ENDPOINT_URL_SSM, else AWS_ENDPOINT_URL,
 * else `https://ssm[-fips].<region>.amazonaws.com` (`.com.cn` in China regions).
 *
 * Local runs and tests do not bundle, so they use the real client.
 */
import { createHash, createHmac } from 'node:crypto';

export interface GetParameterCommandInput {
  Name: string | undefined;
  WithDecryption?: boolean;
}

export interface Parameter {
  Name?: string;
  Type?: string;
  Value?: string;
  Version?: number;
  ARN?: string;
  DataType?: string;
}

export interface GetParameterCommandOutput {
  Parameter?: Parameter;
  $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

export interface SSMClientConfig {
  region?: string;
  endpoint?: string;
  /** Attempts per call, first included (default 3, as the SDK's standard retry mode). */
  maxAttempts?: number;
  /** Per-attempt timeout (default 3000 ms). */
  requestTimeoutMs?: number;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export class GetParameterCommand {
  constructor(readonly input: GetParameterCommandInput) {}
}

/** An SSM error as the SDK shapes it: `name` is the service's error code. */
export class SsmServiceError extends Error {
  readonly $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number };
  readonly $fault: 'client' | 'server';
  constructor(name: string, message: string, status: number | undefined, requestId?: string, attempts?: number) {
    super(message);
    this.name = name;
    this.$fault = status !== undefined && status < 500 ? 'client' : 'server';
    this.$metadata = { httpStatusCode: status, requestId, attempts };
  }
}

const SERVICE = 'ssm';
const TARGET = 'AmazonSSM.GetParameter';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** `20240102T030405Z` */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export interface SignableRequest {
  method: string;
  /** `host[:port]` exactly as sent. */
  host: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Signature Version 4 of a request without a query string: returns the headers to send
 * (`x-amz-date`, `x-amz-security-token` when there is a session token, `authorization`). Every
 * header given is signed, plus `host`.
 */
export function signV4(
  request: SignableRequest,
  credentials: Credentials,
  region: string,
  service: string,
  now: Date,
): Record<string, string> {
  const timestamp = amzDate(now);
  const day = timestamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['x-amz-date'] = timestamp;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const signed: Record<string, string> = { ...headers, host: request.host };
  const names = Object.keys(signed).sort();
  const canonicalHeaders = names.map((n) => `${n}:${signed[n]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    request.path,
    '',
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', timestamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${credentials.secretAccessKey}`, day);
  const kSigning = hmac(hmac(hmac(kDate, region), service), 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new SsmServiceError('CredentialsProviderError', 'Unable to find environment variable credentials.', undefined);
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

export function defaultEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  const fips = (env.AWS_USE_FIPS_ENDPOINT ?? '').toLowerCase() === 'true';
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${fips ? 'ssm-fips' : 'ssm'}.${region}.${suffix}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Error code of an awsJson error body: `__type` (possibly `namespace#Code`) or `code`. */
function errorCode(body: Record<string, unknown>, headers: Headers): string | undefined {
  const raw = headers.get('x-amzn-errortype') ?? (body.__type as string | undefined) ?? (body.code as string | undefined);
  return raw?.split(':')[0]?.split('#').pop();
}

export class SSMClient {
  readonly config: SSMClientConfig;

  constructor(config: SSMClientConfig = {}) {
    this.config = config;
  }

  async send(command: GetParameterCommand): Promise<GetParameterCommandOutput> {
    if (!(command instanceof GetParameterCommand)) {
      throw new Error('This SSM client (lambdas/shims/ssm-get-parameter.ts) only supports GetParameterCommand');
    }
    const env = process.env;
    const region = this.config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new SsmServiceError('ConfigError', 'Region is missing', undefined);
    const endpoint = new URL(this.config.endpoint ?? env.AWS_ENDPOINT_URL_SSM ?? env.AWS_ENDPOINT_URL ?? defaultEndpoint(region, env));
    const body = JSON.stringify(command.input);
    const maxAttempts = Math.max(1, this.config.maxAttempts ?? 3);
    const timeoutMs = this.config.requestTimeoutMs ?? 3000;

    for (let attempt = 1; ; attempt++) {
      let retryable = false;
      let failure: Error;
      try {
        // Credentials are read per attempt: they are never cached past their lifetime.
        const headers = signV4(
          {
            method: 'POST',
            host: endpoint.host,
            path: endpoint.pathname || '/',
            headers: { 'content-type': CONTENT_TYPE, 'x-amz-target': TARGET },
            body,
          },
          credentialsFromEnv(env),
          region,
          SERVICE,
          new Date(),
        );
        const response = await fetch(endpoint, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        const requestId = response.headers.get('x-amzn-requestid') ?? undefined;
        let parsed: Record<string, unknown> = {};
        try {
          parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          // Not JSON (a proxy's error page): handled by status below.
        }
        if (response.ok) {
          return {
            Parameter: parsed.Parameter as Parameter | undefined,
            $metadata: { httpStatusCode: response.status, requestId, attempts: attempt },
          };
        }
        const code = errorCode(parsed, response.headers) ?? `Http${response.status}`;
        const message = (parsed.message ?? parsed.Message ?? `SSM GetParameter failed with HTTP ${response.status}`) as string;
        failure = new SsmServiceError(code, message, response.status, requestId, attempt);
        retryable = response.status >= 500 || response.status === 429 || THROTTLING.has(code);
      } catch (error) {
        if (error instanceof SsmServiceError && error.$metadata.httpStatusCode === undefined) throw error;
        // Network error or timeout.
        failure = error as Error;
        retryable = true;
      }
      if (!retryable || attempt >= maxAttempts) throw failure;
      // Full jitter, base 100 ms (SDK standard mode), capped at 20 s.
      await sleep(Math.random() * Math.min(20_000, 100 * 2 ** (attempt - 1)));
    }
  }

  destroy(): void {}
}
