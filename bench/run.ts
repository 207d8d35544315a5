/**
 * `npm run bench`: every performance measurement (README, Performance) in one run, printed as a table and written to
 * bench/results.json (build output goes to bench/out/, git-ignored).
 *
 *   npx tsx bench/run.ts [--quick] [--only cold,warm,fanout,live,cost,sse] [--out <file>] [--no-write]
 *
 * --quick runs every measurement at tiny sizes (the smoke test's mode); the full run takes a few
 * minutes on a 2-core machine. This machine is noisy: every figure is a median or a percentile,
 * shown beside a floor measured in the same run.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LIMITS } from '../lambdas/shared/limits.js';
import { PROJECT_ROOT } from '../lib/bundling.js';
import { type ColdStartResult, measureColdStart } from './cold-start.js';
import { type CostResult, measureCost } from './cost.js';
import { type FanoutResult, measureFanout } from './fanout.js';
import { type LiveResult, measureLive, type RateWorkload } from './live.js';
import { round } from './lib/stats.js';
import { measurePostCpu, type PostCpuResult } from './post-cpu.js';
import { measureSse, type SseResult } from './sse.js';
import { measureWarmCpu, type WarmCpuResult } from './warm-cpu.js';

export const SECTIONS = ['cold', 'warm', 'fanout', 'live', 'cost', 'sse'] as const;

/** The open-loop workloads of the live section (issue 14): 396 and 3,980 deliveries a second offered. */
export const LIVE_WORKLOADS: RateWorkload[] = [
  { clients: 100, senders: 4, perSecond: 1, durationMs: 10_000, judge: 'latency' },
  { clients: 200, senders: 5, perSecond: 4, durationMs: 8_000, judge: 'throughput' },
];
export type Section = (typeof SECTIONS)[number];

export interface Target {
  section: Section;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResults {
  generatedAt: string;
  quick: boolean;
  machine: { node: string; cpus: number; cpuModel: string; memoryGb: number; platform: string };
  durationMs: number;
  coldStart?: ColdStartResult;
  warmCpu?: WarmCpuResult;
  postCpu?: PostCpuResult;
  fanout?: FanoutResult & { scaled?: FanoutResult };
  live?: LiveResult;
  cost?: CostResult & { queueOnly?: CostResult['rows'] };
  sse?: SseResult;
  targets: Target[];
}

export interface RunOptions {
  quick?: boolean;
  only?: Section[];
  log?: (line: string) => void;
}

export async function runBench(options: RunOptions = {}): Promise<BenchResults> {
  const quick = options.quick === true;
  const only = new Set(options.only ?? SECTIONS);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    quick,
    machine: {
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: round(totalmem() / 1024 ** 3, 1),
      platform: `${process.platform}-${process.arch}`,
    },
    durationMs: 0,
    targets: [],
  };
  const step = async <T>(section: Section, what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!only.has(section)) return undefined;
    const t0 = Date.now();
    log(`bench: ${what}...`);
    const out = await fn();
    log(`bench: ${what} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  };

  // 11 rounds: every spawn also runs a first invocation against the emulated stack (about 4 s a
  // round on a quiet 2-core machine, 8 s under load, plus 30 s of set-up). With 5, the load-only
  // ratio of an unchanged bundle moved between 1.1x and 1.5x from one run to the next.
  results.coldStart = await step('cold', 'cold start (bundles, module load, first invocation)', () =>
    measureColdStart(quick ? { spawns: 1, functions: ['wsDisconnect', 'authorizer'] } : { spawns: 11 }),
  );
  results.warmCpu = await step('warm', 'warm CPU per invocation', () => measureWarmCpu(quick ? { invocations: 5, warmup: 2 } : { invocations: 200, warmup: 30 }));
  results.postCpu = await step('warm', 'CPU per PostToConnection (SDK vs SigV4 floor)', () =>
    measurePostCpu(quick ? { perTask: 50, tasks: 2, warmup: 1 } : { perTask: 500, tasks: 20, warmup: 4 }),
  );
  results.fanout = await step('fanout', 'fan-out (task queue → tasks → @connections)', async () => {
    const main = await measureFanout(quick ? { sizes: [20, 50], sandboxes: 2 } : { sizes: [100, 1000, 10_000] });
    // The same design at an account rate this 2-core machine (shared with other work) can drive:
    // the 10,000 run above is bound by the CPU of the SDK posts here, this one by the throttle
    // (AIMD, 429 retries), which is what the design has to get right. Quick mode: a second of work
    // at the limit, so the bucket throttles even when a loaded machine slows the posts down.
    const scaled = await measureFanout(quick ? { sizes: [100], ratePerSecond: 100, sandboxes: 2 } : { sizes: [5000], ratePerSecond: 1000 });
    return { ...main, scaled };
  });
  results.live = await step('live', 'live delivery (runtime vs ws vs Socket.IO)', () =>
    measureLive(quick ? { clients: [5], senders: 2, rounds: () => 2, workloads: [{ clients: 4, senders: 2, perSecond: 2, durationMs: 1000 }] } : { clients: [100, 1000], workloads: LIVE_WORKLOADS }),
  );
  results.cost = await step('cost', 'cost per message', async () => {
    const main = await measureCost(quick ? { sizes: [1, 3], messages: 1 } : { sizes: [1, 2, 10, 100, 1000], messages: 20 });
    // The previous design in the same run: every fan-out through the task queue.
    const queueOnly = await measureCost({
      ...(quick ? { sizes: [3], messages: 1 } : { sizes: [10, 100], messages: 20 }),
      scanSample: false,
      handlerEnv: { INLINE_FANOUT_MAX_MEMBERS: '0' },
    });
    return { ...main, queueOnly: queueOnly.rows.map((r) => ({ ...r, design: 'queue for every room (inline off)' })) };
  });
  results.sse = await step('sse', 'SSE latency and idle reads', async () => {
    const main = await measureSse(quick ? { publishes: 3, idleClients: 1, idleWindowMs: 1500 } : { publishes: 20, idleClients: 5, idleWindowMs: 20_000 });
    return main;
  });
  results.durationMs = Date.now() - started;
  results.targets = evaluateTargets(results);
  return results;
}

export function evaluateTargets(r: BenchResults): Target[] {
  const targets: Target[] = [];
  if (r.coldStart) {
    for (const f of r.coldStart.functions) {
      targets.push({
        section: 'cold',
        target: `${f.name}: load + first invocation ≤ 1.2x SDK floor`,
        measured: `${f.firstRatio}x (${f.firstMs} vs ${f.sdkFloorFirstMs} ms; load only ${f.ratio}x)`,
        met: f.firstRatio <= 1.2,
      });
      targets.push({
        section: 'cold',
        target: `${f.name}: no network call at load`,
        measured: f.checks.network.length === 0 ? 'none' : f.checks.network.join(', '),
        met: f.checks.network.length === 0,
      });
    }
  }
  if (r.postCpu) {
    targets.push({
      section: 'warm',
      target: 'PostToConnection CPU (tasks bundle, SDK) ≤ 1.5x the SigV4 + keep-alive floor',
      measured: `${r.postCpu.ratio}x (${r.postCpu.sdkCpuMsPerPost} vs ${r.postCpu.floorCpuMsPerPost} ms per post)`,
      met: r.postCpu.ratio <= 1.5,
    });
  }
  const big = r.fanout?.runs.at(-1);
  if (big) {
    targets.push({
      section: 'fanout',
      target: `${big.n.toLocaleString('en-US')} connections: ≤ 1.5x the limit, no loss, no 429 lost`,
      measured: `${big.ratio}x (${big.ms} ms vs ${big.limitMs} ms), lost ${big.lost}, 429 never delivered ${big.throttledNeverDelivered}`,
      met: big.ratio <= 1.5 && big.ok,
    });
  }
  const scaled = r.fanout?.scaled?.runs.at(-1);
  if (scaled && r.fanout?.scaled) {
    targets.push({
      section: 'fanout',
      target: `${scaled.n.toLocaleString('en-US')} at ${r.fanout.scaled.ratePerSecond.toLocaleString('en-US')}/s (design at a rate this machine can drive): ≤ 1.5x, no loss`,
      measured: `${scaled.ratio}x, lost ${scaled.lost}, 429s ${scaled.throttled429} (never delivered ${scaled.throttledNeverDelivered})`,
      met: scaled.ratio <= 1.5 && scaled.ok,
    });
  }
  const live = r.live?.runs.filter((x) => x.server === 'runtime').at(-1);
  if (live) {
    targets.push({
      section: 'live',
      target: `${live.clients} clients: p95 < 500 ms`,
      measured: `p95 ${live.latencyMs.p95} ms, lost ${live.lost}`,
      met: live.latencyMs.p95 < 500 && live.lost === 0,
    });
  }
  for (const w of r.live?.rateRuns.filter((x) => x.server === 'runtime') ?? []) {
    const floor = r.live?.rateRuns.find((x) => x.server === 'ws' && x.clients === w.clients && x.senders === w.senders && x.perSecond === w.perSecond);
    const label = `${w.clients} clients, ${w.senders} senders at ${w.perSecond}/s`;
    if (w.judge === 'latency') {
      const ratio = floor ? round(w.latencyMs.p95 / floor.latencyMs.p95, 2) : Number.NaN;
      targets.push({ section: 'live', target: `${label}: p95 ≤ 5x the ws floor`, measured: `${ratio}x (p95 ${w.latencyMs.p95} vs ${floor?.latencyMs.p95} ms), lost ${w.lost}`, met: ratio <= 5 && w.lost === 0 });
    } else {
      const share = round(w.deliveredPerSecond / w.offeredPerSecond, 2);
      targets.push({
        section: 'live',
        target: `${label}: delivered ≥ 0.9x offered, p95 < 1 s`,
        measured: `${w.deliveredPerSecond}/s of ${w.offeredPerSecond}/s (${share}x), p95 ${w.latencyMs.p95} ms, lost ${w.lost}; ${round(w.cpu.serverMsPerDelivery + w.cpu.clientsMsPerDelivery, 3)} ms of CPU per delivery: at most ${w.cpu.ceilingPerSecond}/s on this machine's cores`,
        met: share >= 0.9 && w.latencyMs.p95 < 1000 && w.lost === 0,
      });
    }
  }
  for (const [members, limit] of [
    [2, 1.8],
    [10, 1.2],
    [100, 1.05],
  ] as const) {
    const row = r.cost?.rows.find((x) => x.design === 'this service' && x.members === members);
    if (row) {
      targets.push({ section: 'cost', target: `${members} members: ≤ ${limit}x floor`, measured: `${row.ratioToFloor}x ($${row.perMessage.dollarsPerMillion.total}/M vs $${row.floorPerMillion}/M)`, met: row.ratioToFloor <= limit });
    }
  }
  if (r.sse) {
    targets.push({ section: 'sse', target: 'publish → receive p95 < 1 s', measured: `${r.sse.latencyMs.p95} ms`, met: r.sse.received === r.sse.published && r.sse.latencyMs.p95 < 1000 });
    targets.push({ section: 'sse', target: '≤ 30 DynamoDB reads per idle client-minute', measured: `${r.sse.readsPerIdleClientMinute}`, met: r.sse.readsPerIdleClientMinute <= 30 });
  }
  return targets;
}

/** Columns padded to their widest cell: numbers (and ratios) to the right, text to the left. */
function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const numeric = (c: string) => /^-?[\d.,]+(x|%)?$/.test(c) || c === 'NaN';
  return rows
    .map((r) => r.map((c, i) => (numeric(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

export function formatTable(r: BenchResults): string {
  const out: string[] = [];
  out.push(`Benchmark ${r.generatedAt}${r.quick ? ' (quick)' : ''} — Node ${r.machine.node}, ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${(r.durationMs / 1000).toFixed(0)} s`);
  if (r.coldStart) {
    const c = r.coldStart;
    out.push(
      '',
      `1. Cold start (median of ${c.spawns} spawns; ratios = median of per-round function / SDK floor; first = load + first invocation; empty handler ${c.emptyFloor.kb} KB loads in ${c.emptyFloor.loadMs} ms)`,
    );
    out.push(
      pad([
        ['function', 'KB', 'load ms', 'floor', 'ratio', 'first ms', 'floor', 'ratio', 'answered', 'net at load', 'clients'],
        ...c.functions.map((f) => [
          f.name,
          String(f.kb),
          String(f.loadMs),
          String(f.sdkFloorMs),
          `${f.ratio}x`,
          String(f.firstMs),
          String(f.sdkFloorFirstMs),
          `${f.firstRatio}x`,
          f.firstStatuses.map((s) => s.slice(0, 14).replace(/\s+/g, ' ')).join(' '),
          String(f.checks.network.length),
          f.clients.join(', '),
        ]),
      ]),
    );
  }
  if (r.warmCpu) {
    out.push('', `   Warm CPU per invocation (deployed bundles, room of ${r.warmCpu.roomSize})`);
    out.push(pad([['function', 'CPU ms', 'wall ms', 'workload'], ...r.warmCpu.functions.map((f) => [f.name, String(f.cpuMsPerInvocation), String(f.wallMsPerInvocation), f.workload])]));
  }
  if (r.postCpu) {
    const p = r.postCpu;
    out.push('', `   CPU per PostToConnection (${p.posts} posts, ${p.perTask} per task, ${p.concurrency} in flight): SDK in the tasks bundle ${p.sdkCpuMsPerPost} ms, SigV4 + keep-alive floor ${p.floorCpuMsPerPost} ms (${p.ratio}x)`);
  }
  if (r.fanout) {
    const f = r.fanout;
    const rows = [['N', 'rate/s', 'ms', 'limit ms', 'ratio', 'lost', 'dup', '429', 'invocations', 'CPU ms/post']];
    for (const [res, runs] of [
      [f, f.runs],
      [f.scaled, f.scaled?.runs ?? []],
    ] as const) {
      for (const x of runs) {
        rows.push([String(x.n), String(res?.ratePerSecond), String(x.ms), String(x.limitMs), `${x.ratio}x`, String(x.lost), String(x.duplicates), String(x.throttled429), String(x.invocations), String(x.cpuMsPerDelivery)]);
      }
    }
    out.push('', `2. Fan-out (@connections ${f.latencyMs} ms latency, ${f.sandboxes} parallel task invocations on ${f.cores} cores)`, pad(rows));
  }
  if (r.live) {
    out.push('', '3. Live delivery (closed-loop rounds: every sender sends at once)');
    out.push(
      pad([
        ['server', 'clients', 'senders', 'delivered/s', 'p50', 'p95', 'p99', 'lost', 'CPU ms/delivery (server+clients)', 'CPU ceiling/s'],
        ...r.live.runs.map((x) => [x.server, String(x.clients), String(x.senders), String(x.deliveredPerSecond), String(x.latencyMs.p50), String(x.latencyMs.p95), String(x.latencyMs.p99), String(x.lost), `${x.cpu.serverMsPerDelivery}+${x.cpu.clientsMsPerDelivery}`, String(x.cpu.ceilingPerSecond)]),
      ]),
    );
    out.push(...r.live.ratios.map((x) => `   ${x.clients} clients: p95 ${x.p95VsFloor}x floor, ${x.p95VsPeer}x Socket.IO; throughput ${x.throughputVsFloor}x floor, ${x.throughputVsPeer}x Socket.IO`));
    if (r.live.rateRuns.length > 0) {
      out.push('   Open loop (senders at a fixed rate; auth on, rate limits raised):');
      out.push(
        pad([
          ['server', 'clients', 'senders', 'msg/s each', 'offered/s', 'delivered/s', 'p50', 'p95', 'p99', 'lost', 'per message: first copy p50/p95', 'last copy p50/p95', 'CPU ms/delivery (server+clients)', 'CPU ceiling/s'],
          ...r.live.rateRuns.map((x) => [
            x.server,
            String(x.clients),
            String(x.senders),
            String(x.perSecond),
            String(x.offeredPerSecond),
            String(x.deliveredPerSecond),
            String(x.latencyMs.p50),
            String(x.latencyMs.p95),
            String(x.latencyMs.p99),
            String(x.lost),
            `${x.perMessage.firstCopyMs.p50}/${x.perMessage.firstCopyMs.p95}`,
            `${x.perMessage.lastCopyMs.p50}/${x.perMessage.lastCopyMs.p95}`,
            `${x.cpu.serverMsPerDelivery}+${x.cpu.clientsMsPerDelivery}`,
            String(x.cpu.ceilingPerSecond),
          ]),
        ]),
      );
    }
  }
  if (r.cost) {
    out.push('', '4. Cost, $ per million messages (floor: API Gateway messages alone)');
    const rows = [['design', 'members', 'total', 'floor', 'ratio', 'APIGW', 'Lambda', 'DynamoDB', 'SQS', 'logs', 'billed ms']];
    for (const x of [...r.cost.rows, ...(r.cost.queueOnly ?? [])]) {
      const d = x.perMessage.dollarsPerMillion;
      rows.push([x.design, String(x.members), d.total.toFixed(2), x.floorPerMillion.toFixed(2), `${x.ratioToFloor}x`, d.apiGateway.toFixed(2), d.lambda.toFixed(2), d.dynamo.toFixed(2), d.sqs.toFixed(2), d.logs.toFixed(2), String(x.perMessage.lambdaBilledMs)]);
    }
    out.push(pad(rows));
  }
  if (r.sse) {
    out.push('', '5. SSE');
    out.push(`   publish → receive: p50 ${r.sse.latencyMs.p50} ms, p95 ${r.sse.latencyMs.p95} ms (${r.sse.received}/${r.sse.published})`);
    out.push(`   DynamoDB reads per idle client-minute: ${r.sse.readsPerIdleClientMinute} (${r.sse.idleClients} clients, ${(r.sse.idleWindowMs / 1000).toFixed(0)} s)`);
  }
  out.push('', 'Targets');
  out.push(pad([['', 'target', 'measured'], ...r.targets.map((t) => [t.met ? 'met ' : 'MISS', t.target, t.measured])]));
  return out.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const only = value('--only')?.split(',').filter((s): s is Section => (SECTIONS as readonly string[]).includes(s));
  const results = await runBench({ quick: argv.includes('--quick'), only });
  process.stdout.write(`${formatTable(results)}\n`);
  if (!argv.includes('--no-write')) {
    const file = resolve(value('--out') ?? join(PROJECT_ROOT, 'bench', 'results.json'));
    writeFileSync(file, `${JSON.stringify({ ...results, limits: { fanoutConcurrency: LIMITS.fanoutConcurrency, fanoutPageSize: LIMITS.fanoutPageSize, fanoutPartSize: LIMITS.fanoutPartSize, inlineFanoutMaxMembers: LIMITS.inlineFanoutMaxMembers } }, null, 2)}\n`);
    process.stderr.write(`bench: wrote ${file}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  await main(process.argv.slice(2));
  // Child processes and emulators are stopped; a stray handle must not keep the run open.
  process.exit(0);
}
