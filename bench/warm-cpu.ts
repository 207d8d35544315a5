/**
 * 1b. Warm handler CPU: each deployed bundle in a host process of its own (bench/lib/host.ts),
 * invoked back to back against the embedded emulators (which run in this process, so their CPU
 * is not counted), with process.cpuUsage around N invocations after a warm-up.
 */
import type { FunctionName } from '../lambdas/shared/routes.js';
import { startAws } from './lib/aws.js';
import { connectionId, hs256Token, httpEvent, sqsEvent, wsAuthorizerEvent, wsConnectEvent, wsDisconnectEvent, wsMessageEvent } from './lib/events.js';
import { handlerBundle } from './lib/bundles.js';
import { startGateway } from './lib/gateway.js';
import { startHost } from './lib/host-client.js';
import { documentClient, seedRoom } from './lib/seed.js';
import { round } from './lib/stats.js';

export interface WarmCpuOptions {
  /** Measured invocations per function (after `warmup`). */
  invocations?: number;
  warmup?: number;
  /** Members of the room the message paths fan out to. */
  roomSize?: number;
}

export interface WarmCpuFunction {
  name: FunctionName;
  /** What one invocation does. */
  workload: string;
  invocations: number;
  cpuMsPerInvocation: number;
  wallMsPerInvocation: number;
  failures: number;
}

export interface WarmCpuResult {
  roomSize: number;
  functions: WarmCpuFunction[];
  note: string;
}

const FUNCTIONS_MEASURED: FunctionName[] = ['http', 'wsConnect', 'wsMessage', 'wsDisconnect', 'tasks', 'authorizer'];

export async function measureWarmCpu(options: WarmCpuOptions = {}): Promise<WarmCpuResult> {
  const n = options.invocations ?? 200;
  const warmup = options.warmup ?? 20;
  const roomSize = options.roomSize ?? 10;
  const bundles = Object.fromEntries(await Promise.all(FUNCTIONS_MEASURED.map(async (fn) => [fn, await handlerBundle(fn)] as const)));

  const aws = await startAws({ prefix: 'warm-' });
  const gateway = await startGateway({ latencyMs: 0 });
  const ddb = documentClient(aws.emulators.dynamoEndpoint);
  const secret = 'bench-warm-secret';
  const results: WarmCpuFunction[] = [];
  try {
    const members = await seedRoom(ddb, aws.connectionsTable, 'warm', roomSize);
    const sender = members[0]!;
    const total = n + warmup;
    const connectIds = Array.from({ length: total }, () => connectionId());
    const token = hs256Token(secret, { sub: 'bench-user', roles: [] });
    const workloads: Array<{ fn: FunctionName; workload: string; events: unknown[] }> = [
      {
        fn: 'http',
        workload: `POST /api/message to a room of ${roomSize} (inline fan-out)`,
        events: Array.from({ length: total }, (_, i) => httpEvent('POST', '/api/message', { type: 'text', content: `warm ${i}`, sender: 'bench', room: 'warm' })),
      },
      { fn: 'wsConnect', workload: '$connect (record + greeting task)', events: connectIds.map((id) => wsConnectEvent(id, 'lobby')) },
      {
        fn: 'wsMessage',
        workload: `send_text to a room of ${roomSize} (inline fan-out)`,
        events: Array.from({ length: total }, (_, i) => wsMessageEvent(sender, 'send_text', { text: `warm ${i}`, sender: 'bench' })),
      },
      { fn: 'wsDisconnect', workload: '$disconnect (delete record)', events: connectIds.map((id) => wsDisconnectEvent(id)) },
      {
        fn: 'tasks',
        workload: `one fan-out task to a room of ${roomSize}`,
        events: Array.from({ length: total }, (_, i) =>
          sqsEvent(
            [{ Body: JSON.stringify({ kind: 'fanout', key: `warm-task-${i}`, audience: { type: 'room', room: 'warm' }, event: { event: 'message', data: { n: i } } }) }],
            aws.queueArn,
          ),
        ),
      },
      { fn: 'authorizer', workload: '$connect authorizer (HS256 token)', events: Array.from({ length: total }, () => wsAuthorizerEvent(token)) },
    ];
    for (const w of workloads) {
      // One host per function: a fresh sandbox, as on Lambda.
      const host = await startHost({
        modules: { [w.fn]: bundles[w.fn]! },
        env: aws.handlerEnv({ WS_MANAGEMENT_ENDPOINT: gateway.url, AUTH_SECRET: secret }),
        execArgv: process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/${w.fn}`] : [],
      });
      try {
        const out = await host.repeat(w.fn, w.events, warmup);
        results.push({
          name: w.fn,
          workload: w.workload,
          invocations: out.n,
          cpuMsPerInvocation: round(out.cpuMs / out.n, 2),
          wallMsPerInvocation: round(out.wallMs / out.n, 2),
          failures: out.failures,
        });
      } finally {
        await host.stop();
      }
    }
  } finally {
    ddb.destroy();
    await gateway.stop();
    await aws.stop();
  }
  return {
    roomSize,
    functions: results,
    note: 'deployed bundles on this machine\'s Node, CPU of the handler process only (emulators and @connections run in the bench process); sse is a stream, see the SSE section',
  };
}
