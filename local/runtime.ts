/**
 * The local runtime: the whole service in one Node process, with the very handler modules that run
 * on Lambda, behind emulators of the AWS services that call them.
 *
 * startRuntime() starts (in this order) the data plane (embedded DynamoDB + SQS, or LocalStack /
 * AWS through `awsEndpoint`), provisions the tables and queues from lambdas/shared/resources.ts,
 * opens the three public endpoints (HTTP API, WebSocket API + @connections, SSE Function URL), sets
 * the environment the handlers read (the same variables the CDK stack sets), and only then imports
 * the handlers, so they load exactly as in a fresh Lambda sandbox. Last, the SQS event source starts
 * feeding the task queue to the tasks handler. Every port may be 0 (tests).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV } from '../lambdas/shared/config.js';
import { TASK_QUEUE_SETTINGS } from '../lambdas/shared/limits.js';
import { type FunctionName, SSE_PATH } from '../lambdas/shared/routes.js';
import { TASK_QUEUE } from '../lambdas/shared/resources.js';
import { AUTH_ENV } from '../lambdas/auth/authenticator.js';
import { devTokenIssuer } from './authorizers.js';
import { type CorsConfig, FUNCTION_URL_CORS, HTTP_API_CORS } from './cors.js';
import { type Emulators, LOCAL_CREDENTIALS, LOCAL_REGION, type ProvisionedResources, provisionResources, startEmulators } from './emulators.js';
import { type EventSource, startEventSource } from './event-source.js';
import { type FunctionUrl, startFunctionUrl } from './function-url.js';
import { DEV_TOKEN_PATH, type HttpApi, startHttpApi } from './http-api.js';
import type { AnyHandler } from './lambda.js';
import { consoleLogger, type RuntimeLogger } from './log.js';
import { type StreamingHandler, awslambdaShim, installStreamingShim, isStreamingHandler } from './streaming-shim.js';
import { type WebSocketApi, startWebSocketApi, withTimeout } from './websocket-api.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface RuntimeOptions {
  /** Listen address of all three endpoints (default 127.0.0.1). */
  host?: string;
  /** Ports (defaults 3000, 3001, 3002); 0 picks a free port. */
  httpPort?: number;
  wsPort?: number;
  ssePort?: number;
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
  /** Extra environment variables for the handlers (e.g. RATE_PER_USER, AUTH_MODE). */
  handlerEnv?: Record<string, string>;
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
  /** With auth on: signs a token the runtime's authorizers accept (what `POST /api/dev/token` does). */
  issueToken?: (sub: string, roles?: string[]) => string;
  stop(): Promise<void>;
}

type HandlerModules = Partial<Record<FunctionName, AnyHandler>>;

/** The handler module of each function (FUNCTIONS[fn].entry under lambdas/handlers). */
const HANDLER_MODULES: Record<FunctionName, () => Promise<{ handler?: unknown }>> = {
  http: () => import('../lambdas/handlers/http.js'),
  wsConnect: () => import('../lambdas/handlers/ws-connect.js'),
  wsDisconnect: () => import('../lambdas/handlers/ws-disconnect.js'),
  wsMessage: () => import('../lambdas/handlers/ws-message.js'),
  tasks: () => import('../lambdas/handlers/tasks.js'),
  sse: () => import('../lambdas/handlers/sse.js'),
  authorizer: () => import('../lambdas/handlers/authorizer.js'),
};

/** Sets environment variables and remembers the previous values, to restore them on stop. */
class EnvScope {
  private readonly saved = new Map<string, string | undefined>();
  set(name: string, value: string | undefined): void {
    if (!this.saved.has(name)) this.saved.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  restore(): void {
    for (const [name, value] of this.saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.saved.clear();
  }
}

function originsOf(url: string): string[] {
  const { protocol, hostname, port } = new URL(url);
  const origins = [`${protocol}//${hostname}:${port}`];
  if (hostname === '127.0.0.1') origins.push(`${protocol}//localhost:${port}`);
  if (hostname === 'localhost') origins.push(`${protocol}//127.0.0.1:${port}`);
  return origins;
}

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? process.env.AWS_REGION ?? LOCAL_REGION;
  const logger = options.logger ?? consoleLogger({ verbose: options.verbose === true && !options.quiet });
  const env = new EnvScope();
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error) => logger.error('stop failed', error));
    cleanups.length = 0;
    env.restore();
  };

  try {
    // Before any SDK client exists: the SDK warns once per process on Node < 22.
    env.set('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');

    // 1. Data plane.
    let emulators: Emulators | undefined;
    let dynamoEndpoint: string | undefined;
    let sqsEndpoint: string | undefined;
    let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    if (!options.awsEndpoint) {
      emulators = await startEmulators({ host: '127.0.0.1', dataDir: options.dataDir });
      const stopEmulators = emulators.stop.bind(emulators);
      cleanups.push(stopEmulators);
      dynamoEndpoint = emulators.dynamoEndpoint;
      sqsEndpoint = emulators.sqsEndpoint;
      credentials = LOCAL_CREDENTIALS;
    } else if (options.awsEndpoint !== 'aws') {
      dynamoEndpoint = options.awsEndpoint;
      sqsEndpoint = options.awsEndpoint;
      credentials = process.env.AWS_ACCESS_KEY_ID ? undefined : LOCAL_CREDENTIALS;
    }
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

    // 2. Public endpoints, listening first so that their URLs (ports may be 0) can go into the
    // handlers' environment. The handlers are bound once imported (step 4); a request that comes
    // in before that waits for them.
    const handlers: HandlerModules = {};
    let handlersLoaded!: () => void;
    const loaded = new Promise<void>((resolve) => {
      handlersLoaded = resolve;
    });
    const lazy =
      (fn: FunctionName): AnyHandler =>
      async (event, context) => {
        await loaded; // a request that races the startup waits for the handlers
        return handlers[fn]!(event, context);
      };
    const httpCors: CorsConfig = { allowOrigins: [], ...HTTP_API_CORS };
    const sseCors: CorsConfig = { allowOrigins: [], ...FUNCTION_URL_CORS };
    let urls: { httpUrl: string; wsUrl: string; sseUrl: string; sseStreamUrl: string } | undefined;
    const publicDir = options.publicDir ?? path.join(here, 'public');
    const tokens = options.auth ? devTokenIssuer(typeof options.auth === 'object' ? options.auth.secret : undefined) : undefined;

    const httpApi: HttpApi = await startHttpApi({
      host,
      port: options.httpPort ?? 3000,
      handler: lazy('http'),
      cors: httpCors,
      publicDir: existsSync(publicDir) ? publicDir : undefined,
      runtimeConfig: () => ({ ...urls, restUrl: urls?.httpUrl, auth: tokens ? 'jwt' : 'off', ...(tokens ? { tokenUrl: `${urls?.httpUrl}${DEV_TOKEN_PATH}` } : {}) }),
      logger,
      authorizer: tokens ? lazy('authorizer') : undefined,
      devTokens: tokens,
    });
    cleanups.push(() => httpApi.stop());
    const websocket = await startWebSocketApi({
      host,
      port: options.wsPort ?? 3001,
      stage: options.stage ?? 'local',
      functions: { wsConnect: lazy('wsConnect'), wsDisconnect: lazy('wsDisconnect'), wsMessage: lazy('wsMessage') },
      idleTimeoutMs: options.idleTimeoutMs,
      maxConnectionMs: options.maxConnectionMs,
      authorizer: tokens ? lazy('authorizer') : undefined,
      logger,
    });
    cleanups.push(() => websocket.stop());
    const functionUrl: FunctionUrl = await startFunctionUrl({
      host,
      port: options.ssePort ?? 3002,
      handler: awslambdaShim.streamifyResponse(async (event, stream, context) => {
        await loaded;
        return (handlers.sse as unknown as StreamingHandler)(event, stream, context);
      }),
      cors: sseCors,
      logger,
      timeoutMs: options.sseTimeoutMs,
    });
    cleanups.push(() => functionUrl.stop());
    const origins = options.corsOrigins ?? originsOf(httpApi.url);
    httpCors.allowOrigins = origins;
    sseCors.allowOrigins = origins;
    urls = {
      httpUrl: httpApi.url,
      wsUrl: websocket.url,
      sseUrl: functionUrl.url,
      sseStreamUrl: `${functionUrl.url}${SSE_PATH}`,
    };

    // 3. The environment of the functions, as the stack sets it (lib/chat-stack.ts).
    for (const [name, value] of Object.entries(resources.env)) env.set(name, value);
    env.set(ENV.wsManagementEndpoint, websocket.managementUrl);
    env.set(ENV.wsUrl, websocket.url);
    env.set(ENV.sseUrl, urls.sseStreamUrl);
    env.set(ENV.stage, options.stage ?? 'local');
    env.set(ENV.corsOrigins, origins.join(','));
    env.set('AWS_REGION', region);
    env.set('AWS_DEFAULT_REGION', region);
    if (dynamoEndpoint) env.set('AWS_ENDPOINT_URL_DYNAMODB', dynamoEndpoint);
    if (sqsEndpoint) env.set('AWS_ENDPOINT_URL_SQS', sqsEndpoint);
    if (credentials) {
      env.set('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
      env.set('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
      env.set('AWS_SESSION_TOKEN', undefined);
    }
    const logLevel = options.quiet ? 'SILENT' : (options.logLevel ?? process.env.LOG_LEVEL ?? 'INFO').toUpperCase();
    env.set('LOG_LEVEL', logLevel);
    env.set('POWERTOOLS_LOG_LEVEL', logLevel);
    // CloudWatch metrics (EMF lines) only clutter a local terminal; --verbose shows them.
    env.set('POWERTOOLS_METRICS_DISABLED', options.verbose && !options.quiet ? 'false' : 'true');
    // Auth: the handlers verify tokens with the runtime's secret (never an SSM parameter or JWKS).
    env.set(AUTH_ENV.mode, tokens ? 'jwt' : 'off');
    env.set(AUTH_ENV.secret, tokens?.secret);
    env.set(AUTH_ENV.issuer, tokens?.issuer);
    env.set(AUTH_ENV.audience, undefined);
    env.set(AUTH_ENV.jwksUrl, undefined);
    env.set(AUTH_ENV.secretParameter, undefined);
    for (const [name, value] of Object.entries(options.handlerEnv ?? {})) env.set(name, value);

    // 4. The handlers, loaded as in a fresh sandbox (the streaming global exists first).
    installStreamingShim();
    const modules = await Promise.all(
      (Object.keys(HANDLER_MODULES) as FunctionName[]).map(async (fn) => [fn, (await HANDLER_MODULES[fn]()).handler] as const),
    );
    for (const [fn, handler] of modules) {
      if (typeof handler !== 'function') throw new Error(`lambdas/handlers: ${fn} exports no handler`);
      handlers[fn] = handler as AnyHandler;
    }
    if (!isStreamingHandler(handlers.sse)) throw new Error('The sse handler is not wrapped with awslambda.streamifyResponse');
    // A second runtime in the same process (tests) must not reuse clients bound to old endpoints.
    const { resetClients } = await import('../lambdas/adapters/clients.js');
    const { resetRoots } = await import('../lambdas/roots/wiring.js');
    const { resetAuth } = await import('../lambdas/auth/authenticator.js');
    resetClients();
    resetRoots();
    resetAuth();
    handlersLoaded();

    // 5. The task queue's event source.
    const tasks = startEventSource({
      queueUrl: queue.url,
      queueArn: queue.arn,
      region,
      endpoint: sqsEndpoint,
      credentials,
      fn: 'tasks',
      handler: lazy('tasks'),
      batchSize: TASK_QUEUE_SETTINGS.batchSize,
      pollers: options.pollers,
      logger,
    });
    // Stopped first (cleanups run in reverse): no new batch starts while the endpoints close.
    cleanups.push(async () => {
      await withTimeout(tasks.stop(), 15_000);
    });

    let stopped: Promise<void> | undefined;
    return {
      ...urls,
      managementUrl: websocket.managementUrl,
      dynamoEndpoint,
      sqsEndpoint,
      region,
      resources,
      taskQueueUrl: queue.url,
      taskDlqUrl: queue.dlqUrl,
      websocket,
      tasks,
      ...(tokens ? { issueToken: (sub: string, roles: string[] = []) => tokens.issue({ sub, roles }).token } : {}),
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
