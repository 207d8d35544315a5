/**
 * 1c. CPU per PostToConnection on the AWS path: the tasks bundle (the deployed code, its SDK client
 * as lambdas/adapters/clients.ts configures it) delivering fan-out tasks to explicit connection lists,
 * beside a floor in the same run: the same request signed with @smithy/signature-v4 and sent on
 * keep-alive sockets (bench/lib/post-floor.mjs), as many in flight. Both in processes of their own,
 * CPU by process.cpuUsage; the `@connections` stand-in (bench/lib/gateway.ts, no latency) runs in a
 * third process, the emulators in this one.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LIMITS } from '../lambdas/shared/limits.js';
import { startAws } from './lib/aws.js';
import { handlerBundle } from './lib/bundles.js';
import { connectionId, sqsEvent } from './lib/events.js';
import { startGatewayProcess } from './lib/gateway-process.js';
import { startHost } from './lib/host-client.js';
import { round } from './lib/stats.js';

export interface PostCpuOptions {
  /** Posts per task (one invocation). */
  perTask?: number;
  /** Measured invocations (after `warmup`). */
  tasks?: number;
  warmup?: number;
}

export interface PostCpuResult {
  perTask: number;
  posts: number;
  concurrency: number;
  /** CPU ms per post through the SDK in the tasks bundle (the invocation's other work included, spread over its posts). */
  sdkCpuMsPerPost: number;
  /** CPU ms per post of the floor. */
  floorCpuMsPerPost: number;
  ratio: number;
}

const FRAME = JSON.stringify({ event: 'message', data: { id: '01KBENCHPOSTCPU0000000000', type: 'text', content: 'hello from the bench', sender: 'bench', room: 'bench', timestamp: new Date(0).toISOString() } });

function runFloor(input: { url: string; ids: string[]; concurrency: number; payload: string; warmup: number }): Promise<{ n: number; cpuMs: number }> {
  const child = fork(fileURLToPath(new URL('./lib/post-floor.mjs', import.meta.url)), [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { n: number; cpuMs: number; error?: string }) => {
      child.kill();
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    child.once('error', reject);
    child.send(input);
  });
}

export async function measurePostCpu(options: PostCpuOptions = {}): Promise<PostCpuResult> {
  const perTask = options.perTask ?? 500;
  const tasks = options.tasks ?? 20;
  const warmup = options.warmup ?? 4;
  const concurrency = LIMITS.fanoutConcurrency;
  const bundle = await handlerBundle('tasks');
  const aws = await startAws({ prefix: 'post-' });
  const gateway = await startGatewayProcess({ latencyMs: 0 });
  try {
    const events = Array.from({ length: tasks + warmup }, (_, i) =>
      sqsEvent(
        [
          {
            Body: JSON.stringify({
              kind: 'fanout',
              key: `post-cpu-${i}`,
              // Chunks of at most 1,000 (the task schema's limit for an explicit list).
              audience: { type: 'connections', members: Array.from({ length: Math.min(perTask, 1000) }, () => ({ connectionId: connectionId(), protocol: 'json' })) },
              event: JSON.parse(FRAME),
            }),
          },
        ],
        aws.queueArn,
      ),
    );
    const host = await startHost({
      modules: { tasks: bundle },
      env: aws.handlerEnv({ WS_MANAGEMENT_ENDPOINT: gateway.url }),
      execArgv: process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/post-cpu`] : [],
    });
    let sdk: { n: number; cpuMs: number };
    try {
      const out = await host.repeat('tasks', events, warmup);
      if (out.failures > 0) throw new Error(`${out.failures} fan-out invocations failed`);
      sdk = { n: out.n * Math.min(perTask, 1000), cpuMs: out.cpuMs };
    } finally {
      await host.stop();
    }
    const ids = Array.from({ length: sdk.n }, () => connectionId());
    const floor = await runFloor({ url: gateway.url, ids, concurrency, payload: FRAME, warmup: Math.min(ids.length, warmup * perTask) });
    const sdkPerPost = sdk.cpuMs / sdk.n;
    const floorPerPost = floor.cpuMs / floor.n;
    return {
      perTask: Math.min(perTask, 1000),
      posts: sdk.n,
      concurrency,
      sdkCpuMsPerPost: round(sdkPerPost, 3),
      floorCpuMsPerPost: round(floorPerPost, 3),
      ratio: round(sdkPerPost / floorPerPost, 2),
    };
  } finally {
    await gateway.stop();
    await aws.stop();
  }
}
