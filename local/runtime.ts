/**
 * The local runtime: the whole service on this machine, every function run as the template deploys
 * it, behind emulators of the AWS services that call them.
 *
 * startRuntime() starts (in this order) the data plane (embedded DynamoDB + SQS, or LocalStack /
 * AWS through `awsEndpoint`) and an SSM emulator holding the token secret, provisions the tables and
 * queues from lambdas/shared/resources.ts, opens the three public endpoints (HTTP API, WebSocket API
 * + @connections, SSE Function URL), puts an IAM gate in front of each AWS endpoint the functions
 * call, reads the function table of the synthesized template (local/template.ts) resolved against
 * these local resources (local/function-table.ts), and runs each function in sandboxes of its own
 * (local/sandbox.ts) with exactly its template environment, timeout, reserved concurrency and role.
 * Last, the SQS event source mapping of the template feeds the task queue to its function. Every
 * port may be 0 (tests).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../lambdas/shared/config.js';
import { type FunctionName, SSE_PATH } from '../lambdas/shared/routes.js';
import { TABLES, TASK_QUEUE } from '../lambdas/shared/resources.js';
import { devTokenIssuer } from './authorizers.js';
import { functionBundles } from './bundles.js';
import { type CorsConfig, FUNCTION_URL_CORS, HTTP_API_CORS } from './cors.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type ProvisionedResources, provisionResources, startEmulators } from './emulators.js';
import { type EventSource, startEventSource } from './event-source.js';
import type { FunctionTable } from './function-table.js';
import { type FunctionPlane, startFunctionPlane } from './functions.js';
import { type FunctionUrl, startFunctionUrl } from './function-url.js';
import { DEV_TOKEN_PATH, type HttpApi, startHttpApi } from './http-api.js';
import { credentialsFor, type FaultInjector, type IamRecorder } from './iam-gate.js';
import { type AnyHandler, LOCAL_ACCOUNT } from './lambda.js';
import { consoleLogger, type RuntimeLogger } from './log.js';
import type { FunctionSandboxes } from './sandbox.js';
import { startSsmEmulator } from './ssm-emulator.js';
import { awslambdaShim, type LocalResponseStream } from './streaming-shim.js';
import { type FunctionTemplate, loadFunctionTemplate } from './template.js';
import { type WebSocketApi, startWebSocketApi, withTimeout } from './websocket-api.js';
import { startTtlSweeper } from './ttl-sweeper.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface RuntimeOptions {
  /** Listen address of all three endpoints (default 127.0.0.1). */
  host?: string;
  /** Ports (defaults 3000, 3001, 3002); 0 picks a free port. */
  httpPort?: number;
  wsPort?: number;
  ssePort?: number;
  /** Port of the local S3 endpoint (attachments; default 3003, or a free one when httpPort is 0). */
  s3Port?: number;
  /** Keep DynamoDB data in this folder between runs (embedded emulators only). */
  dataDir?: string;
  /**
   * Use this DynamoDB/SQS endpoint (LocalStack: http://localhost:4566) instead of the embedded
   * emulators, or `aws` for the real AWS endpoints (credentials from the SDK's default chain).
   */
  awsEndpoint?: string;
  region?: string;
  /** Prefix of table and queue names (default `chat-`). */
  resourcePrefix?: string;
  /** WebSocket stage name in events (default `local`). */
  stage?: string;
  /** Allowed CORS origins of the HTTP API and the Function URL (default: the HTTP API's own). */
  corsOrigins?: string[];
  /** WebSocket idle timeout and maximum connection duration (API Gateway: 10 min, 2 h). */
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  /** Task queue overrides (tests: short visibility timeout, few receives before the DLQ). */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  /** Concurrent SQS pollers (default 2). */
  pollers?: number;
  /** With the embedded DynamoDB: seconds between TTL sweeps (default 60; 0: only `sweepExpiredItems`). */
  ttlSweepSeconds?: number;
  /** Timeout of the SSE function (default FUNCTIONS.sse, 900 s); the stream ends before it. */
  sseTimeoutMs?: number;
  /** Folder of the chat page (default local/public). */
  publicDir?: string;
  /**
   * Authentication as deployed: Lambda authorizers on `$connect` and the REST routes with
   * `auth: 'user'`, tokens verified by the handlers (AUTH_MODE=jwt), signed with a secret generated
   * for this run; `POST /api/dev/token` issues tokens. Off by default (AUTH_MODE=off: everyone is
   * the `anonymous` admin).
   */
  auth?: boolean | { secret?: string };
  /**
   * CDK context overrides (cdk.json's context is the base): another configuration is another
   * template, synthesized and cached like the default one.
   */
  context?: Record<string, unknown>;
  /** Enforce each function's role on its AWS calls (default true). */
  enforceIam?: boolean;
  /** Append the IAM decisions as JSONL here (default: CHAT_IAM_LOG_DIR, set by the test run). */
  iamLogDir?: string;
  /** Sandboxes (worker threads) per function (default 2). */
  maxSandboxes?: number;
  /** Start one sandbox of each function before serving (npm start: no cold start on first use). */
  warm?: boolean;
  /** Handler log level (Powertools): DEBUG, INFO, WARN, ERROR, SILENT. */
  logLevel?: string;
  /** Silences the handlers' logs and the runtime's info lines (tests). */
  quiet?: boolean;
  /** Prints access lines for every request (HTTP, SSE, WebSocket). */
  verbose?: boolean;
  logger?: RuntimeLogger;
}

export interface Runtime {
  /** HTTP API base URL (REST routes and the chat page). */
  httpUrl: string;
  /** WebSocket API URL. */
  wsUrl: string;
  /** SSE Function URL (base); the stream is at `${sseUrl}/api/events`. */
  sseUrl: string;
  sseStreamUrl: string;
  /** The local S3 endpoint (uploads and downloads of attachments), when S3 is emulated. */
  s3Url?: string;
  /** @connections management API base URL (the value of WS_MANAGEMENT_ENDPOINT). */
  managementUrl: string;
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  region: string;
  resources: ProvisionedResources;
  taskQueueUrl: string;
  taskDlqUrl: string;
  /** The WebSocket emulator (open connections, fault injection for tests). */
  websocket: WebSocketApi;
  /** Record outcomes of the task queue's event source (`record`, `batch` events). */
  tasks: EventSource;
  /** The resolved function table the sandboxes run. */
  functions: FunctionTable;
  /** The SDK endpoint overrides the sandboxes get (the IAM gates): AWS_ENDPOINT_URL_DYNAMODB, ... */
  sandboxEndpoints: Record<string, string>;
  /** Every IAM decision of the functions' AWS calls (each distinct one once). */
  iam: IamRecorder;
  /** Sets (or clears) the fault injector of the IAM gates: faults answered as real HTTP errors. */
  injectFaults(injector: FaultInjector | undefined): void;
  /**
   * Shortens a function's timeout (tests of what happens at it: the Context's remaining time and
   * "Task timed out"); returns the restore.
   */
  setFunctionTimeout(fn: FunctionName, ms: number): () => void;
  /** With auth on: signs a token the runtime's authorizers accept (what `POST /api/dev/token` does). */
  issueToken?: (sub: string, roles?: string[]) => string;
  /**
   * With the embedded DynamoDB: deletes the items whose TTL has passed now, as DynamoDB's TTL does in
   * the background (local/ttl-sweeper.ts; it also runs every `ttlSweepSeconds`); resolves with the count.
   */
  sweepExpiredItems?: () => Promise<number>;
  stop(): Promise<void>;
}

function originsOf(url: string): string[] {
  const { protocol, hostname, port } = new URL(url);
  const origins = [`${protocol}//${hostname}:${port}`];
  if (hostname === '127.0.0.1') origins.push(`${protocol}//localhost:${port}`);
  if (hostname === 'localhost') origins.push(`${protocol}//127.0.0.1:${port}`);
  return origins;
}

/** Whether the template's functions allow exactly these browser origins (CORS_ORIGINS). */
function sameOrigins(template: FunctionTemplate, origins: readonly string[]): boolean {
  const configured = Object.values(template.functions)
    .map((fn) => fn.environment[ENV.corsOrigins])
    .find((value): value is string => typeof value === 'string');
  const set = (list: readonly string[]) => [...new Set(list.map((o) => o.trim()).filter(Boolean))].sort().join(',');
  return set((configured ?? '').split(',')) === set(origins);
}

interface DataPlane {
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

async function startDataPlane(options: RuntimeOptions, cleanups: Array<() => Promise<void>>): Promise<DataPlane> {
  if (!options.awsEndpoint) {
    const emulators = await startEmulators({ host: '127.0.0.1', dataDir: options.dataDir });
    cleanups.push(() => emulators.stop());
    return { dynamoEndpoint: emulators.dynamoEndpoint, sqsEndpoint: emulators.sqsEndpoint, credentials: LOCAL_CREDENTIALS };
  }
  if (options.awsEndpoint === 'aws') return {};
  return {
    dynamoEndpoint: options.awsEndpoint,
    sqsEndpoint: options.awsEndpoint,
    credentials: process.env.AWS_ACCESS_KEY_ID ? undefined : LOCAL_CREDENTIALS,
  };
}

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? process.env.AWS_REGION ?? LOCAL_REGION;
  const account = LOCAL_ACCOUNT;
  const logger = options.logger ?? consoleLogger({ verbose: options.verbose === true && !options.quiet });
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error) => logger.error('stop failed', error));
    cleanups.length = 0;
  };

  try {
    // The template first (cached on disk; a synthesis on a cache miss), then the data plane.
    const [defaultTemplate, bundles, dataPlane] = await Promise.all([
      loadFunctionTemplate(options.context),
      functionBundles(),
      startDataPlane(options, cleanups),
    ]);
    const { dynamoEndpoint, sqsEndpoint, credentials } = dataPlane;
    const resources = await provisionResources({
      dynamoEndpoint,
      sqsEndpoint,
      region,
      credentials,
      prefix: options.resourcePrefix,
      enableTtl: options.awsEndpoint !== undefined,
      queueSettings: { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds, maxReceiveCount: options.maxReceiveCount },
    });
    const queue = resources.queues[TASK_QUEUE.id]!;
    // dynalite has no TTL: the runtime deletes expired items as DynamoDB would (LocalStack and AWS do it themselves).
    const ttl =
      !options.awsEndpoint && dynamoEndpoint && credentials
        ? startTtlSweeper({
            endpoint: dynamoEndpoint,
            region,
            credentials,
            tables: TABLES.map((def) => ({ name: resources.tables[def.id]!, def })),
            intervalMs: (options.ttlSweepSeconds ?? 60) * 1000,
            logger,
          })
        : undefined;
    if (ttl) cleanups.push(() => ttl.stop());
    const ssm = await startSsmEmulator({ region, account, logger });
    cleanups.push(() => ssm.stop());

    // Public endpoints, listening first so that their URLs (ports may be 0) can go into the
    // functions' environment. A request that comes in before the sandboxes exist waits for them.
    const sandboxes = {} as Record<FunctionName, FunctionSandboxes>;
    let plane: FunctionPlane | undefined;
    // Stopped last (cleanups run in reverse): closing connections still runs `$disconnect`, whose
    // calls go through the gates.
    cleanups.push(async () => {
      await plane?.stop();
    });
    let sandboxesReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      sandboxesReady = resolve;
    });
    const lazy =
      (fn: FunctionName): AnyHandler =>
      async (event) => {
        await ready;
        return sandboxes[fn].invoke(event);
      };
    const httpCors: CorsConfig = { allowOrigins: [], ...HTTP_API_CORS };
    const sseCors: CorsConfig = { allowOrigins: [], ...FUNCTION_URL_CORS };
    let urls: { httpUrl: string; wsUrl: string; sseUrl: string; sseStreamUrl: string } | undefined;
    const publicDir = options.publicDir ?? path.join(here, 'public');
    const tokens = options.auth ? devTokenIssuer(typeof options.auth === 'object' ? options.auth.secret : undefined) : undefined;
    const stage = options.stage ?? defaultTemplate.resources.webSocketStage;

    const httpApi: HttpApi = await startHttpApi({
      host,
      port: options.httpPort ?? 3000,
      handler: lazy('http'),
      cors: httpCors,
      publicDir: existsSync(publicDir) ? publicDir : undefined,
      runtimeConfig: () => ({ ...urls, restUrl: urls?.httpUrl, auth: tokens ? 'jwt' : 'off', ...(tokens ? { tokenUrl: `${urls?.httpUrl}${DEV_TOKEN_PATH}` } : {}) }),
      logger,
      authorizer: tokens ? lazy('authorizer') : undefined,
      authorizerCacheTtlSeconds: defaultTemplate.gateways.http.authorizerCacheTtlSeconds,
      throttle: defaultTemplate.gateways.http.throttle,
      devTokens: tokens,
    });
    cleanups.push(() => httpApi.stop());
    const websocket = await startWebSocketApi({
      host,
      port: options.wsPort ?? 3001,
      stage,
      functions: { wsConnect: lazy('wsConnect'), wsDisconnect: lazy('wsDisconnect'), wsMessage: lazy('wsMessage') },
      idleTimeoutMs: options.idleTimeoutMs,
      maxConnectionMs: options.maxConnectionMs,
      authorizer: tokens ? lazy('authorizer') : undefined,
      throttle: defaultTemplate.gateways.webSocket.throttle,
      logger,
    });
    cleanups.push(() => websocket.stop());
    const functionUrl: FunctionUrl = await startFunctionUrl({
      host,
      port: options.ssePort ?? 3002,
      handler: awslambdaShim.streamifyResponse(async (event, stream) => {
        await ready;
        return sandboxes.sse.invokeStreaming(event, stream as LocalResponseStream);
      }),
      cors: sseCors,
      logger,
      timeoutMs: options.sseTimeoutMs,
    });
    cleanups.push(() => functionUrl.stop());
    const origins = options.corsOrigins ?? originsOf(httpApi.url);
    // The functions check browser origins themselves (the WebSocket `$connect` Origin check) against
    // the template's CORS_ORIGINS: served from other origins than cdk.json's (free ports, tests), the
    // runtime deploys the stack as it would be deployed there, with the `corsOrigins` context.
    const template = sameOrigins(defaultTemplate, origins)
      ? defaultTemplate
      : await loadFunctionTemplate({ ...options.context, corsOrigins: origins });
    httpCors.allowOrigins = origins;
    sseCors.allowOrigins = origins;
    urls = {
      httpUrl: httpApi.url,
      wsUrl: websocket.url,
      sseUrl: functionUrl.url,
      sseStreamUrl: `${functionUrl.url}${SSE_PATH}`,
    };

    // The functions: IAM gates in front of every AWS endpoint they call, one sandbox pool each.
    const started = await startFunctionPlane({
      template,
      bundles,
      region,
      account,
      resources,
      dynamoEndpoint,
      sqsEndpoint,
      ssm,
      managementBase: websocket.managementUrl,
      management: websocket.management,
      wsBase: websocket.url,
      functionUrl: `${functionUrl.url}/`,
      resourcePrefix: options.resourcePrefix,
      authSecret: tokens?.secret,
      enforceIam: options.enforceIam,
      iamLogDir: options.iamLogDir,
      maxSandboxes: options.maxSandboxes,
      sseTimeoutMs: options.sseTimeoutMs,
      logLevel: options.logLevel,
      quiet: options.quiet,
      verbose: options.verbose,
      logger,
      s3: { host, port: options.s3Port ?? (options.httpPort === 0 ? 0 : 3003), corsOrigins: () => origins },
    });
    plane = started;
    const { functions, sqsGate } = started;
    Object.assign(sandboxes, started.sandboxes);
    if (options.warm) await started.warm();
    sandboxesReady();

    // The task queue's event source mapping, as the template configures it; it polls with the
    // function's role, as Lambda's poller does.
    const tasksFn = Object.values(functions).find((fn) => fn.eventSources.length > 0);
    const mapping = tasksFn?.eventSources[0];
    if (!tasksFn || !mapping) throw new Error('The template has no SQS event source mapping');
    const tasks = startEventSource({
      queueUrl: mapping.queueUrl,
      queueArn: mapping.eventSourceArn,
      region,
      endpoint: sqsGate,
      credentials: started.enforced && sqsGate ? credentialsFor(tasksFn) : credentials,
      fn: tasksFn.name,
      handler: lazy(tasksFn.name),
      batchSize: mapping.batchSize,
      reportBatchItemFailures: mapping.reportBatchItemFailures,
      pollers: Math.min(options.pollers ?? 2, mapping.maximumConcurrency ?? Number.POSITIVE_INFINITY),
      logger,
    });
    // Stopped first (cleanups run in reverse): no new batch starts while the endpoints close.
    cleanups.push(async () => {
      await withTimeout(tasks.stop(), 15_000);
    });

    let stopped: Promise<void> | undefined;
    return {
      ...urls,
      ...(started.s3Url ? { s3Url: started.s3Url } : {}),
      managementUrl: websocket.managementUrl,
      dynamoEndpoint,
      sqsEndpoint,
      region,
      resources,
      taskQueueUrl: queue.url,
      taskDlqUrl: queue.dlqUrl,
      websocket,
      tasks,
      functions,
      sandboxEndpoints: started.endpoints,
      iam: started.iam,
      injectFaults: started.injectFaults,
      setFunctionTimeout: started.setFunctionTimeout,
      ...(tokens ? { issueToken: (sub: string, roles: string[] = []) => tokens.issue({ sub, roles }).token } : {}),
      ...(ttl ? { sweepExpiredItems: () => ttl.sweep() } : {}),
      stop() {
        stopped ??= cleanup();
        return stopped;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
