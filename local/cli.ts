/** Command-line flags and environment variables of `npm start` (local/main.ts). */
import { parseArgs } from 'node:util';
import type { RuntimeOptions } from './runtime.js';

export const HELP = `Usage: npm start -- [options]

Serves the chat service locally: HTTP API, WebSocket API (+ @connections), SSE Function URL,
SQS task consumers, on embedded DynamoDB and SQS emulators (or LocalStack / AWS).

Options (environment variable in brackets):
  --host <addr>                 listen address of the endpoints [CHAT_HOST] (default 127.0.0.1)
  --http-port <n>               HTTP API and chat page [CHAT_HTTP_PORT] (default 3000)
  --ws-port <n>                 WebSocket API and @connections [CHAT_WS_PORT] (default 3001)
  --sse-port <n>                SSE Function URL [CHAT_SSE_PORT] (default 3002)
  --s3-port <n>                 S3 endpoint of attachments [CHAT_S3_PORT] (default 3003)
  --data-dir <dir>              keep DynamoDB data on disk in <dir> [CHAT_DATA_DIR]
  --aws-endpoint <url|aws>      DynamoDB/SQS endpoint instead of the embedded emulators, e.g.
                                http://localhost:4566 (LocalStack); "aws" for real AWS [AWS_ENDPOINT_URL]
  --region <region>             [AWS_REGION] (default us-east-1)
  --prefix <prefix>             table and queue name prefix [CHAT_RESOURCE_PREFIX] (default chat-)
  --stage <name>                WebSocket stage name in events [CHAT_STAGE] (default: the template's, dev)
  --cors-origins <a,b>          allowed CORS origins [CHAT_CORS_ORIGINS] (default: the HTTP API's origin)
  --idle-timeout <duration>     WebSocket idle timeout [CHAT_WS_IDLE_TIMEOUT] (default 10m)
  --max-connection <duration>   WebSocket maximum connection duration [CHAT_WS_MAX_CONNECTION] (default 2h)
  --visibility-timeout <dur>    task queue visibility timeout [CHAT_VISIBILITY_TIMEOUT] (default 60s)
  --max-receive-count <n>       receives before a task goes to the DLQ [CHAT_MAX_RECEIVE_COUNT] (default 5)
  --pollers <n>                 concurrent SQS pollers [CHAT_POLLERS] (default 2)
  --no-auth                     do not require tokens (by default they are required, as in the deployed
                                stack: Lambda authorizers, AUTH_MODE=jwt, a signing key generated per run;
                                POST /api/dev/token {"sub","roles"} issues them) [CHAT_AUTH=0]
  --public-dir <dir>            folder of the chat page [CHAT_PUBLIC_DIR] (default local/public)
  --log-level <level>           handler log level: DEBUG, INFO, WARN, ERROR, SILENT [LOG_LEVEL] (default INFO)
  --verbose                     print a line per request [CHAT_VERBOSE=1]
  --help                        this text
Durations: 500ms, 30s, 10m, 2h, or a number of seconds.`;

export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new Error(`Invalid duration "${value}" (use e.g. 500ms, 30s, 10m, 2h)`);
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

function parsePort(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`Invalid ${name} "${value}"`);
  return n;
}

export function optionsFromArgs(argv: string[], env: NodeJS.ProcessEnv): RuntimeOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      'http-port': { type: 'string' },
      'ws-port': { type: 'string' },
      'sse-port': { type: 'string' },
      's3-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'aws-endpoint': { type: 'string' },
      region: { type: 'string' },
      prefix: { type: 'string' },
      stage: { type: 'string' },
      'cors-origins': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-connection': { type: 'string' },
      'visibility-timeout': { type: 'string' },
      'max-receive-count': { type: 'string' },
      pollers: { type: 'string' },
      'public-dir': { type: 'string' },
      'log-level': { type: 'string' },
      verbose: { type: 'boolean' },
      'no-auth': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const pick = (flag: string | undefined, envName: string) => flag ?? (env[envName] !== '' ? env[envName] : undefined);
  const options: RuntimeOptions = {};
  const host = pick(values.host, 'CHAT_HOST');
  if (host) options.host = host;
  const httpPort = pick(values['http-port'], 'CHAT_HTTP_PORT');
  if (httpPort) options.httpPort = parsePort(httpPort, 'HTTP port');
  const wsPort = pick(values['ws-port'], 'CHAT_WS_PORT');
  if (wsPort) options.wsPort = parsePort(wsPort, 'WebSocket port');
  const ssePort = pick(values['sse-port'], 'CHAT_SSE_PORT');
  if (ssePort) options.ssePort = parsePort(ssePort, 'SSE port');
  const s3Port = pick(values['s3-port'], 'CHAT_S3_PORT');
  if (s3Port) options.s3Port = parsePort(s3Port, 'S3 port');
  const dataDir = pick(values['data-dir'], 'CHAT_DATA_DIR');
  if (dataDir) options.dataDir = dataDir;
  const endpoint = pick(values['aws-endpoint'], 'AWS_ENDPOINT_URL');
  if (endpoint) options.awsEndpoint = endpoint;
  if (options.awsEndpoint && options.dataDir) throw new Error('--data-dir applies to the embedded emulators only, not with --aws-endpoint');
  const region = pick(values.region, 'AWS_REGION');
  if (region) options.region = region;
  const prefix = pick(values.prefix, 'CHAT_RESOURCE_PREFIX');
  if (prefix) options.resourcePrefix = prefix;
  const stage = pick(values.stage, 'CHAT_STAGE');
  if (stage) options.stage = stage;
  const cors = pick(values['cors-origins'], 'CHAT_CORS_ORIGINS');
  if (cors) options.corsOrigins = cors.split(',').map((s) => s.trim()).filter(Boolean);
  const idle = pick(values['idle-timeout'], 'CHAT_WS_IDLE_TIMEOUT');
  if (idle) options.idleTimeoutMs = parseDuration(idle);
  const max = pick(values['max-connection'], 'CHAT_WS_MAX_CONNECTION');
  if (max) options.maxConnectionMs = parseDuration(max);
  const visibility = pick(values['visibility-timeout'], 'CHAT_VISIBILITY_TIMEOUT');
  if (visibility) options.visibilityTimeoutSeconds = Math.max(0, Math.round(parseDuration(visibility) / 1000));
  const receives = pick(values['max-receive-count'], 'CHAT_MAX_RECEIVE_COUNT');
  if (receives) options.maxReceiveCount = Math.max(1, Number.parseInt(receives, 10));
  const pollers = pick(values.pollers, 'CHAT_POLLERS');
  if (pollers) options.pollers = Math.max(1, Number.parseInt(pollers, 10));
  const publicDir = pick(values['public-dir'], 'CHAT_PUBLIC_DIR');
  if (publicDir) options.publicDir = publicDir;
  const logLevel = pick(values['log-level'], 'LOG_LEVEL');
  if (logLevel) options.logLevel = logLevel;
  // Auth is on unless explicitly turned off, as it is always on in the deployed stack.
  options.auth = !(values['no-auth'] === true || env.CHAT_AUTH === '0' || env.CHAT_AUTH === 'false');
  options.verbose = values.verbose === true || env.CHAT_VERBOSE === '1' || env.CHAT_VERBOSE === 'true';
  return options;
}
