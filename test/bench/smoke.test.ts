/**
 * Smoke test of the benchmark (bench/run.ts): every measurement runs end to end at tiny sizes and
 * returns results of the right shape. Timing targets are the benchmark's business (`npm run
 * bench`), not this test's: a loaded CI machine must not fail it.
 */
import '../support/quiet.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { describe, expect, it } from 'vitest';
import { evaluateTargets, formatTable, runBench } from '../../bench/run.js';

describe('npm run bench (quick mode)', () => {
  it('runs every measurement and reports them with their targets', async () => {
    const results = await runBench({ quick: true, log: () => undefined });

    const cold = results.coldStart!;
    expect(cold.functions.map((f) => f.name)).toEqual(['wsDisconnect', 'authorizer']);
    for (const f of cold.functions) {
      expect(f.kb).toBeGreaterThan(0);
      expect(f.loadMs).toBeGreaterThan(0);
      expect(f.sdkFloorMs).toBeGreaterThan(0);
      expect(f.ratio).toBeGreaterThan(0);
      // Load plus a first invocation that answered (no timing asserted: shape only).
      expect(f.firstMs).toBeGreaterThan(f.loadMs);
      expect(f.sdkFloorFirstMs).toBeGreaterThan(f.sdkFloorMs);
      expect(f.firstRatio).toBeGreaterThan(0);
      expect(f.checks.network).toEqual([]);
    }
    expect(cold.functions.find((f) => f.name === 'wsDisconnect')!.firstStatuses).toEqual(['status:200']);
    expect(cold.functions.find((f) => f.name === 'authorizer')!.firstStatuses).toEqual(['policy:Allow']);
    expect(cold.functions.find((f) => f.name === 'wsDisconnect')!.clients).toContain('DynamoDB (document client)');

    expect(results.warmCpu!.functions.map((f) => f.name).sort()).toEqual(['authorizer', 'http', 'tasks', 'wsConnect', 'wsDisconnect', 'wsMessage']);
    for (const f of results.warmCpu!.functions) {
      expect(f.failures).toBe(0);
      expect(f.cpuMsPerInvocation).toBeGreaterThan(0);
    }

    const post = results.postCpu!;
    expect(post.posts).toBeGreaterThan(0);
    expect(post.sdkCpuMsPerPost).toBeGreaterThan(0);
    expect(post.floorCpuMsPerPost).toBeGreaterThan(0);

    const fanout = results.fanout!;
    for (const run of [...fanout.runs, ...fanout.scaled!.runs]) {
      expect(run).toMatchObject({ lost: 0, duplicates: 0, throttledNeverDelivered: 0, ok: true });
      expect(run.ms).toBeGreaterThan(0);
    }
    // The scaled run is throttled on purpose: 429s happen and none of them loses a message.
    expect(fanout.scaled!.runs[0]!.throttled429).toBeGreaterThan(0);

    expect(results.live!.runs.map((r) => r.server)).toEqual(['runtime', 'ws', 'socketio']);
    for (const run of [...results.live!.runs, ...results.live!.rateRuns]) {
      // The server's CPU (every thread) and the clients' over the measured stretch, per delivery.
      expect(run.cpu.serverMsPerDelivery).toBeGreaterThan(0);
      expect(run.cpu.clientsMsPerDelivery).toBeGreaterThan(0);
      expect(run.cpu.ceilingPerSecond).toBeGreaterThan(0);
    }
    for (const run of results.live!.runs) {
      expect(run.lost).toBe(0);
      expect(run.latencyMs.n).toBe(run.expected);
    }
    // The open-loop workload against every server, the runtime with auth on.
    expect(results.live!.rateRuns.map((r) => r.server)).toEqual(['runtime', 'ws', 'socketio']);
    for (const run of results.live!.rateRuns) {
      expect(run.lost).toBe(0);
      expect(run.expected).toBeGreaterThan(0);
      expect(run.latencyMs.n).toBe(run.expected);
      // One first and one last copy per message sent; a message's first copy comes no later than its last.
      expect(run.perMessage.firstCopyMs.n).toBe(run.expected / (run.clients - 1));
      expect(run.perMessage.firstCopyMs.p50).toBeLessThanOrEqual(run.perMessage.lastCopyMs.p50);
    }

    const cost = results.cost!;
    const service = cost.rows.filter((r) => r.design === 'this service');
    expect(service.map((r) => r.members)).toEqual([1, 3]);
    for (const row of [...cost.rows, ...cost.queueOnly!]) {
      expect(row.perMessage.dollarsPerMillion.total).toBeGreaterThanOrEqual(row.floorPerMillion);
      expect(row.perMessage.lambdaInvocations).toBeGreaterThan(0);
    }
    // A small room is delivered inline: no SQS request for it; the queue-only design pays for SQS.
    expect(service.every((r) => r.perMessage.sqsRequests === 0)).toBe(true);
    expect(cost.queueOnly![0]!.perMessage.sqsRequests).toBeGreaterThan(0);
    expect(cost.rows.some((r) => r.design.startsWith('Scan per message'))).toBe(true);

    expect(results.sse!.received).toBe(results.sse!.published);
    expect(results.sse!.readsPerIdleClientMinute).toBeGreaterThanOrEqual(0);

    expect(evaluateTargets(results).length).toBeGreaterThan(5);
    expect(formatTable(results)).toContain('Targets');
  }, 360_000);
});
