/**
 * `npm run smoke -- --http <HttpApiUrl> --ws <WebSocketUrl> --sse <SseUrl> [--token <jwt> --admin-token <jwt>]`
 *
 * The check to run after `cdk deploy` (or against `npm start`): health, WebSocket send/receive
 * between two clients, a REST message delivered over the WebSocket, history paging, SSE with
 * resume, the SSE redirect, and a broadcast. One PASS/FAIL/SKIP line per check, exit code 1 if any
 * failed (2 for bad arguments). Every check has a time limit and closes what it opened.
 *
 * Without --token it asks the service for tokens at `POST /api/dev/token`, which only the local
 * runtime has; if that is not there either, it calls without a token (a service with auth off).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CHECKS, type Check, type CheckContext, sseStreamUrl, type Target } from './smoke/checks.js';
import { type Closable, CheckFailure, describe, requestJson } from './smoke/clients.js';

export const USAGE = `Usage: npm run smoke -- --http <url> --ws <url> --sse <url> [options]

  --http <url>          HTTP API base URL (stack output HttpApiUrl)
  --ws <url>            WebSocket API URL (stack output WebSocketUrl)
  --sse <url>           SSE stream URL (stack output SseUrl)
  --token <jwt>         a user's token (default: one from POST /api/dev/token when the service
                        has it, i.e. the local runtime; else no token)
  --admin-token <jwt>   a token with the admin role, for the broadcast check (skipped without it
                        when --token is given). The broadcast reaches every connected client.
  --timeout <seconds>   time limit of each check (default 20)
  --help`;

/** The local runtime's token endpoint (local/README.md); deployed stacks do not have it. */
const DEV_TOKEN_PATH = '/api/dev/token';

export type Status = 'PASS' | 'FAIL' | 'SKIP';

export interface Outcome {
  name: string;
  status: Status;
  detail: string;
  ms: number;
}

interface Options {
  target: Target;
  timeoutMs: number;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      http: { type: 'string' },
      ws: { type: 'string' },
      sse: { type: 'string' },
      token: { type: 'string' },
      'admin-token': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const url = (name: 'http' | 'ws' | 'sse', protocols: string[]) => {
    const value = values[name];
    if (!value) throw new Error(`--${name} is required`);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new Error(`--${name} ${value} is not a URL`);
    }
    if (!protocols.includes(parsed.protocol)) throw new Error(`--${name} must be a ${protocols.join(' or ')} URL`);
    return value.replace(/\/+$/, '');
  };
  const timeout = Number(values.timeout ?? 20);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`--timeout ${values.timeout} is not a number of seconds`);
  return {
    target: {
      http: url('http', ['http:', 'https:']),
      ws: url('ws', ['ws:', 'wss:']),
      sse: sseStreamUrl(url('sse', ['http:', 'https:'])),
      token: values.token,
      adminToken: values['admin-token'],
      room: `smoke-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    },
    timeoutMs: timeout * 1000,
  };
}

/** Tokens from the local runtime's endpoint, or none (and a line saying which). */
async function devTokens(target: Target, timeoutMs: number): Promise<{ token?: string; adminToken?: string; note: string }> {
  const issue = async (sub: string, roles: string[]) => {
    const res = await requestJson(`${target.http}${DEV_TOKEN_PATH}`, {
      method: 'POST',
      body: { sub, roles },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const token = (res.body as { token?: unknown } | undefined)?.token;
    return res.status < 300 && typeof token === 'string' ? token : undefined;
  };
  try {
    const token = await issue('smoke-user', []);
    if (!token) return { note: `no --token, and no ${DEV_TOKEN_PATH} here: calling without a token` };
    return { token, adminToken: await issue('smoke-admin', ['admin']), note: `tokens from ${target.http}${DEV_TOKEN_PATH}` };
  } catch (error) {
    return { note: `no --token, and ${DEV_TOKEN_PATH} failed (${(error as Error).message}): calling without a token` };
  }
}

/** Runs one check within its time limit; whatever it opened is closed before this returns. */
async function runCheck(check: Check, target: Target, timeoutMs: number): Promise<Outcome> {
  const skip = check.skip?.(target);
  if (skip) return { name: check.name, status: 'SKIP', detail: skip, ms: 0 };
  const started = Date.now();
  const controller = new AbortController();
  const opened: Closable[] = [];
  const ctx: CheckContext = {
    target,
    signal: controller.signal,
    use: (client) => {
      opened.push(client);
      return client;
    },
  };
  const timer = setTimeout(() => controller.abort(new CheckFailure(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  let status: Status = 'PASS';
  let detail: string;
  try {
    detail = await check.run(ctx);
  } catch (error) {
    status = 'FAIL';
    detail = error instanceof CheckFailure ? error.message : `${describe(error)}`;
    if (controller.signal.aborted) detail = (controller.signal.reason as Error).message;
  } finally {
    clearTimeout(timer);
    controller.abort(new CheckFailure('check ended'));
    await Promise.all(opened.map(async (c) => c.close()));
  }
  return { name: check.name, status, detail, ms: Date.now() - started };
}

export function formatOutcome(o: Outcome, width: number): string {
  return `${o.status}  ${o.name.padEnd(width)}  ${`${o.ms} ms`.padStart(8)}  ${o.detail}`;
}

/** The CLI: returns the exit code. `write` receives the report's lines. */
export async function main(argv: string[], write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    write(USAGE);
    return 0;
  }
  const { target, timeoutMs } = options;
  write(`Smoke check of ${target.http} | ${target.ws} | ${target.sse} (rooms ${target.room}-*)`);
  if (!target.token) {
    const tokens = await devTokens(target, timeoutMs);
    target.token = tokens.token;
    target.adminToken ??= tokens.adminToken;
    write(`INFO  ${tokens.note}`);
  }
  const width = Math.max(...CHECKS.map((c) => c.name.length));
  const outcomes: Outcome[] = [];
  for (const check of CHECKS) {
    const outcome = await runCheck(check, target, timeoutMs);
    outcomes.push(outcome);
    write(formatOutcome(outcome, width));
  }
  const count = (s: Status) => outcomes.filter((o) => o.status === s).length;
  const failed = count('FAIL');
  write(`${failed ? 'FAILED' : 'OK'}: ${count('PASS')} passed, ${failed} failed, ${count('SKIP')} skipped`);
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`smoke: ${(error as Error).stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
