/**
 * What the cold-start spawns invoke: the local runtime (embedded DynamoDB and SQS, SSM, the
 * `@connections` API, auth on) started once, each function's environment as the template gives it
 * (local/function-table.ts through the runtime, plus what the Lambda runtime sets: local/sandbox.ts),
 * and one representative event per function. One real WebSocket client sits in `general`, so a
 * message is delivered to a live connection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { silentLogger } from '../../local/log.js';
import { startRuntime } from '../../local/runtime.js';
import { sandboxEnv } from '../../local/sandbox.js';
import type { FunctionName } from '../../lambdas/shared/routes.js';
import { connectionId, httpEvent, sqsEvent, wsAuthorizerEvent, wsConnectEvent, wsDisconnectEvent, wsMessageEvent } from './events.js';

export const COLD_ROOM = 'general';

export interface ColdTarget {
  /** The sandbox environment of a function (template environment, runtime variables, gate endpoints). */
  env(fn: FunctionName): Record<string, string>;
  /** A fresh representative first event of a function. */
  event(fn: FunctionName): unknown;
  /** The function's timeout (the Context's remaining time). */
  timeoutMs(fn: FunctionName): number;
  stop(): Promise<void>;
}

export async function startColdTarget(): Promise<ColdTarget> {
  // The floors call what their function's role may not grant (one call per client, whatever the
  // role): roles are not enforced here, and the decisions go to a folder of their own, not into a
  // test run's IAM report. The functions' own grants are checked by the runtime's tests.
  const iamLogDir = mkdtempSync(join(tmpdir(), 'cold-iam-'));
  const runtime = await startRuntime({
    enforceIam: false,
    iamLogDir,
    httpPort: 0,
    wsPort: 0,
    ssePort: 0,
    s3Port: 0,
    auth: true,
    quiet: true,
    maxSandboxes: 1,
    resourcePrefix: 'cold-',
    // The bench's own idle clients: no idle close while the rounds run.
    idleTimeoutMs: 3600_000,
    logger: silentLogger,
  });
  const token = runtime.issueToken!('bench-user');
  const client = new WebSocket(`${runtime.wsUrl}?room=${COLD_ROOM}&token=${encodeURIComponent(token)}`);
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  client.on('message', () => undefined);
  const sender = runtime.websocket.connections()[0]!.connectionId;
  const identity = { userId: 'bench-user', roles: '' };
  const withAuthorizer = <T extends { requestContext: object }>(e: T) => ({ ...e, requestContext: { ...e.requestContext, authorizer: identity } });

  let sseUsers = 0;
  const events: Record<FunctionName, () => unknown> = {
    http: () => {
      const e = httpEvent('GET', '/api/messages', undefined, { authorization: `Bearer ${token}` });
      return { ...e, rawQueryString: `room=${COLD_ROOM}`, queryStringParameters: { room: COLD_ROOM }, requestContext: { ...e.requestContext, authorizer: { lambda: identity } } };
    },
    wsConnect: () => withAuthorizer(wsConnectEvent(connectionId(), COLD_ROOM)),
    wsMessage: () => withAuthorizer(wsMessageEvent(sender, 'message', { content: 'cold start', type: 'text' })),
    wsDisconnect: () => withAuthorizer(wsDisconnectEvent(connectionId())),
    tasks: () =>
      sqsEvent(
        [{ Body: JSON.stringify({ kind: 'fanout', key: `cold-${connectionId()}`, audience: { type: 'room', room: COLD_ROOM }, event: { event: 'message', data: { cold: true } } }) }],
        runtime.resources.queues[Object.keys(runtime.resources.queues)[0]!]!.arn,
      ),
    authorizer: () => wsAuthorizerEvent(token),
    sse: () => {
      // A user of its own per stream: the spawn exits with its stream open, and the stream's slot
      // (LIMITS.sseStreamsPerUser per user) stays taken until its end time.
      const own = runtime.issueToken!(`bench-sse-${++sseUsers}`);
      const e = httpEvent('GET', '/api/events', undefined, { authorization: `Bearer ${own}`, accept: 'text/event-stream' });
      return { ...e, rawQueryString: `room=${COLD_ROOM}&token=${own}`, queryStringParameters: { room: COLD_ROOM, token: own } };
    },
  };
  return {
    env(fn) {
      const resolved = runtime.functions[fn];
      return {
        PATH: process.env.PATH ?? '',
        LANG: 'C.UTF-8',
        TZ: ':UTC',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...sandboxEnv({ fn: resolved, region: runtime.region, account: '000000000000', endpoints: runtime.sandboxEndpoints, logger: silentLogger, entry: '' }),
      };
    },
    event: (fn) => events[fn](),
    timeoutMs: (fn) => runtime.functions[fn].timeoutSeconds * 1000,
    async stop() {
      client.terminate();
      await runtime.stop();
      rmSync(iamLogDir, { recursive: true, force: true });
    },
  };
}
