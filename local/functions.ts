/**
 * The functions of the template, without the public endpoints: the function table resolved against
 * local resources (local/function-table.ts), an IAM gate in front of every AWS endpoint the
 * functions call (DynamoDB, SQS, SSM, @connections), and a sandbox pool per function with exactly
 * its template environment (local/sandbox.ts). The runtime (local/runtime.ts) puts its emulated API
 * Gateway, Function URL and event source mapping in front of this; the handler tests invoke the
 * sandboxes directly, with a recording @connections endpoint as the management API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUTH_ENV } from '../lambdas/auth/authenticator.js';
import type { FunctionName } from '../lambdas/shared/routes.js';
import { TABLES } from '../lambdas/shared/resources.js';
import type { ProvisionedResources } from './emulators.js';
import { type FunctionTable, type LocalResources, resolveFunctionTable } from './function-table.js';
import { credentialsFor, type FaultInjector, type Gate, IamAuthority, type IamRecorder, iamRecorder, startGate } from './iam-gate.js';
import type { RuntimeLogger } from './log.js';
import { ensureBucket, type S3Front, startS3Front } from './s3-front.js';
import { FunctionSandboxes } from './sandbox.js';
import type { SsmEmulator } from './ssm-emulator.js';
import type { FunctionTemplate } from './template.js';

/** The local stand-in of the WebSocket API id in execute-api ARNs and endpoint URLs. */
export const LOCAL_WS_API_ID = 'localwsapi';

export interface FunctionPlaneOptions {
  template: FunctionTemplate;
  /** The bundle file of each function (local/bundles.ts). */
  bundles: Record<FunctionName, string>;
  region: string;
  account: string;
  resources: ProvisionedResources;
  /** Data plane endpoints (undefined: the real AWS endpoints, no gate). */
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  ssm: SsmEmulator;
  /** Base URL serving `/{stage}/@connections/{id}`: stands for `https://{api}.execute-api.{region}.amazonaws.com`. */
  managementBase: string;
  /** The handler serving `managementBase`, when it runs in this process: its gate hands requests to it directly. */
  management?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void>;
  /** Base URL standing for `wss://{api}.execute-api.{region}.amazonaws.com` (the SSE relay's WS_URL). */
  wsBase: string;
  /** The Function URL of the SSE function (with its trailing slash, as AWS gives it). */
  functionUrl: string;
  /** Physical function names: `<prefix><name>` (default `chat-`). */
  resourcePrefix?: string;
  /**
   * The HS256 secret to store where the template says the functions read it. Without one, auth is
   * off (AUTH_MODE=off, `npm start -- --no-auth`): the one variable the template does not give.
   */
  authSecret?: string;
  /** Enforce each function's role on its AWS calls (default true). */
  enforceIam?: boolean;
  /** Append the IAM decisions as JSONL here (default: CHAT_IAM_LOG_DIR, set by the test run). */
  iamLogDir?: string;
  maxSandboxes?: number;
  /** Timeout of the SSE function (default: the template's). */
  sseTimeoutMs?: number;
  /** Handler log level (Powertools): DEBUG, INFO, WARN, ERROR, SILENT. */
  logLevel?: string;
  quiet?: boolean;
  verbose?: boolean;
  logger: RuntimeLogger;
  /**
   * The attachments bucket on the emulator (S3 on the SQS endpoint), behind the local S3 front
   * (local/s3-front.ts) that browsers reach too: its listen address and the allowed origins.
   */
  s3?: { host?: string; port?: number; corsOrigins: () => readonly string[] };
}

export interface FunctionPlane {
  /** The resolved function table the sandboxes run. */
  functions: FunctionTable;
  sandboxes: Record<FunctionName, FunctionSandboxes>;
  /** The SDK endpoint overrides the sandboxes get (the IAM gates): AWS_ENDPOINT_URL_DYNAMODB, ... */
  endpoints: Record<string, string>;
  /** The SQS gate (undefined without one): the event source mapping polls through it. */
  sqsGate?: string;
  /** The local S3 endpoint (undefined without one). */
  s3Url?: string;
  /** Whether the gates enforce the roles. */
  enforced: boolean;
  /** Every IAM decision of the functions' AWS calls (each distinct one once). */
  iam: IamRecorder;
  /** Sets (or clears) the fault injector of the IAM gates: faults answered as real HTTP errors. */
  injectFaults(injector: FaultInjector | undefined): void;
  /** Shortens a function's timeout; returns the restore. */
  setFunctionTimeout(fn: FunctionName, ms: number): () => void;
  /** Starts one sandbox of each function. */
  warm(): Promise<void>;
  /** Stops the sandboxes, then the gates. */
  stop(): Promise<void>;
}

/** `http://host:port/...` with the origin of `base` (queue URLs on their IAM gate). */
function onOrigin(url: string, base: string): string {
  const u = new URL(url);
  const b = new URL(base);
  u.protocol = b.protocol;
  u.host = b.host;
  return u.toString();
}

export async function startFunctionPlane(options: FunctionPlaneOptions): Promise<FunctionPlane> {
  const { template, region, account, resources, logger } = options;
  const enforce = options.enforceIam !== false;
  const gates: Array<Gate | S3Front> = [];
  const sandboxes = {} as Record<FunctionName, FunctionSandboxes>;
  const stop = async () => {
    await Promise.all(Object.values(sandboxes).map((s) => s.stop()));
    await Promise.all(gates.map((g) => g.stop()));
  };
  try {
    let faults: FaultInjector | undefined;
    // The authority needs the table, the table needs the gate URLs: the table is resolved twice
    // (cheap), first with the gates' upstreams, then with the gates.
    const localResources = (gateUrls: { dynamodb?: string; sqs?: string; executeApi: string }): LocalResources => ({
      region,
      account,
      tables: Object.fromEntries(
        TABLES.map((def) => [def.id, { name: resources.tables[def.id]!, arn: `arn:aws:dynamodb:${region}:${account}:table/${resources.tables[def.id]}` }]),
      ),
      queues: Object.fromEntries(
        Object.entries(resources.queues).map(([id, q]) => [
          id,
          {
            url: gateUrls.sqs ? onOrigin(q.url, gateUrls.sqs) : q.url,
            arn: q.arn,
            dlqUrl: gateUrls.sqs ? onOrigin(q.dlqUrl, gateUrls.sqs) : q.dlqUrl,
            dlqArn: q.arn.replace(/:([^:]+)$/, ':$1-dlq'),
          },
        ]),
      ),
      webSocket: { apiId: LOCAL_WS_API_ID, managementBase: gateUrls.executeApi, wsBase: options.wsBase },
      functionUrl: options.functionUrl,
      functionName: (fn) => `${options.resourcePrefix ?? 'chat-'}${fn}`,
      buckets: { Media: mediaBucket },
    });
    const mediaBucket = `${options.resourcePrefix ?? 'chat-'}media`;
    const draft = resolveFunctionTable(template, localResources({ executeApi: options.managementBase }));
    const recorder = iamRecorder(draft, options.iamLogDir ?? process.env.CHAT_IAM_LOG_DIR);
    const authority = new IamAuthority(draft, { region, account }, recorder);
    const gate = async (service: 'dynamodb' | 'sqs' | 'ssm' | 'execute-api', upstream: string | undefined) => {
      if (!upstream || !enforce) return upstream;
      const local = service === 'execute-api' ? options.management : undefined;
      const g = await startGate({ service, upstream, authority, apiId: LOCAL_WS_API_ID, logger, faults: () => faults, rewriteOrigin: service === 'sqs', ...(local ? { local } : {}) });
      gates.push(g);
      return g.url;
    };
    const [dynamoGate, sqsGate, ssmGate, managementGate] = await Promise.all([
      gate('dynamodb', options.dynamoEndpoint),
      gate('sqs', options.sqsEndpoint),
      gate('ssm', options.ssm.url),
      gate('execute-api', options.managementBase),
    ]);
    const functions = resolveFunctionTable(template, localResources({ dynamodb: dynamoGate, sqs: sqsGate, executeApi: managementGate! }));
    let s3Url: string | undefined;
    if (options.s3 && options.sqsEndpoint) {
      await ensureBucket(options.sqsEndpoint, region, mediaBucket);
      const secrets = new Map(Object.values(functions).map((fn) => [credentialsFor(fn).accessKeyId, credentialsFor(fn).secretAccessKey]));
      const front = await startS3Front({
        upstream: options.sqsEndpoint,
        region,
        host: options.s3.host,
        port: options.s3.port,
        ...(enforce ? { authority } : {}),
        secretOf: (key) => secrets.get(key),
        corsOrigins: options.s3.corsOrigins,
        logger,
      });
      gates.push(front);
      s3Url = front.url;
    }

    // The token secret, where the template says the functions read it.
    const secretParameter = Object.values(functions)
      .map((fn) => fn.environment[AUTH_ENV.secretParameter])
      .find((name): name is string => Boolean(name));
    if (options.authSecret && secretParameter) options.ssm.put({ name: secretParameter, value: options.authSecret });

    const endpoints: Record<string, string> = {};
    if (dynamoGate) endpoints.AWS_ENDPOINT_URL_DYNAMODB = dynamoGate;
    if (sqsGate) endpoints.AWS_ENDPOINT_URL_SQS = sqsGate;
    if (ssmGate) endpoints.AWS_ENDPOINT_URL_SSM = ssmGate;
    if (s3Url) endpoints.AWS_ENDPOINT_URL_S3 = s3Url;
    const deviations: Record<string, string> = options.authSecret ? {} : { [AUTH_ENV.mode]: 'off' };
    if (options.logLevel && !options.quiet) deviations.AWS_LAMBDA_LOG_LEVEL = options.logLevel.toUpperCase();
    for (const fn of Object.values(functions)) {
      sandboxes[fn.name] = new FunctionSandboxes({
        fn: { ...fn, environment: { ...fn.environment, ...deviations } },
        entry: options.bundles[fn.name],
        region,
        account,
        endpoints,
        logger,
        quiet: options.quiet,
        verbose: options.verbose,
        maxSandboxes: options.maxSandboxes,
        timeoutMs: fn.name === 'sse' ? options.sseTimeoutMs : undefined,
      });
    }
    return {
      functions,
      sandboxes,
      endpoints,
      sqsGate,
      s3Url,
      enforced: enforce,
      iam: recorder,
      injectFaults(injector) {
        faults = injector;
      },
      setFunctionTimeout(fn, ms) {
        const sandbox = sandboxes[fn];
        const previous = sandbox.timeoutMs;
        sandbox.timeoutMs = ms;
        return () => {
          sandbox.timeoutMs = previous;
        };
      },
      async warm() {
        await Promise.all(Object.values(sandboxes).map((s) => s.warm()));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
