/**
 * 1. Cold start. Every function's bundle exactly as deployed (esbuild JS API with
 * lib/bundling.ts's options): its size, and in a fresh `node` process per spawn its module-load
 * time and its module load plus a first invocation with a representative event, against the local
 * runtime's emulators in the environment the template gives the function (bench/lib/cold-target.ts).
 * Beside it, bundled the same way and spawned in the same rounds: an empty handler, and a handler
 * that imports and constructs the SDK clients the function's bundle holds and makes one call per
 * client on its first invocation (bench/lib/cold-floor.ts). Each spawn also records what the module
 * did while loading: network calls (net/tls/dns/http/fetch), timers, and file reads.
 * BENCH_PROFILE_DIR=<dir> writes a CPU profile of every spawn of the first round.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';
import { esbuildOptionsFor, PROJECT_ROOT } from '../lib/bundling.js';
import { measureBundles } from './bundle-sizes.js';
import { type ClientSpec, clientsOf, floorSource } from './lib/cold-floor.js';
import { type ColdTarget, startColdTarget } from './lib/cold-target.js';
import { median, round } from './lib/stats.js';

export { clientsOf } from './lib/cold-floor.js';

export interface ColdStartOptions {
  /** Output folder (bundles, floors); under bench/out by default. */
  outDir?: string;
  /** Spawns per module (median of these). */
  spawns?: number;
  functions?: FunctionName[];
}

export interface LoadChecks {
  /** Network calls made while the module loaded (should be none). */
  network: string[];
  /** Timers created while loading. */
  timers: number;
  /** Files read while loading. */
  fileReads: string[];
}

export interface ColdStartFunction {
  name: FunctionName;
  kb: number;
  /** SDK clients the bundle holds (and its floor constructs). */
  clients: string[];
  loadMs: number;
  sdkFloorMs: number;
  sdkFloorKb: number;
  /** Median over rounds of load / SDK floor, both spawned in the same round. */
  ratio: number;
  /** Module load plus the first invocation (a representative event against the emulators), median. */
  firstMs: number;
  /** The floor's load plus its first invocation (one call per SDK client), median. */
  sdkFloorFirstMs: number;
  /** Median over rounds of (load + first invocation) / the floor's (target ≤ 1.2). */
  firstRatio: number;
  /** What the first invocations answered (`status:200`, `policy:Allow`, `bytes:...`), distinct. */
  firstStatuses: string[];
  checks: LoadChecks;
  topPackages: { name: string; kb: number }[];
}

export interface ColdStartResult {
  node: string;
  spawns: number;
  emptyFloor: { kb: number; loadMs: number; firstMs: number };
  functions: ColdStartFunction[];
}

/**
 * Runs in every spawn (`node --input-type=module -e`): instruments the network, timer and file
 * APIs, installs the `awslambda` streaming global the Lambda runtime provides, imports the module
 * given as argv[1], reads `handler`, and prints the load time and what the module did.
 */
const PROBE = `
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net'; import tls from 'node:tls'; import dns from 'node:dns'; import http from 'node:http'; import https from 'node:https'; import fs from 'node:fs';
const hits = { network: [], timers: 0, fileReads: [] };
const wrap = (obj, name, tag, sink) => { const orig = obj[name]; if (typeof orig !== 'function') return; obj[name] = function (...args) { sink(tag, args); return orig.apply(this, args); }; };
const net_ = (tag) => hits.network.push(tag);
for (const [obj, names, tag] of [[net, ['connect', 'createConnection'], 'net'], [net.Socket.prototype, ['connect'], 'socket'], [tls, ['connect'], 'tls'], [dns, ['lookup', 'resolve', 'resolve4'], 'dns'], [dns.promises, ['lookup', 'resolve'], 'dns'], [http, ['request', 'get'], 'http'], [https, ['request', 'get'], 'https']]) for (const n of names) wrap(obj, n, tag + '.' + n, net_);
if (globalThis.fetch) { const f = globalThis.fetch; globalThis.fetch = (...a) => { net_('fetch'); return f(...a); }; }
for (const n of ['readFileSync', 'readFile', 'openSync', 'open']) wrap(fs, n, n, (_t, a) => hits.fileReads.push(String(a[0])));
wrap(fs.promises, 'readFile', 'readFile', (_t, a) => hits.fileReads.push(String(a[0])));
for (const n of ['setTimeout', 'setInterval', 'setImmediate']) { const o = globalThis[n]; globalThis[n] = (...a) => { hits.timers++; return o(...a); }; }
syncBuiltinESMExports();
globalThis.awslambda = { streamifyResponse: (fn) => fn, HttpResponseStream: { from: (stream) => stream } };
const MARK = 'cold-start-probe:';
const t0 = performance.now();
const mod = await import(process.argv[1]);
const type = typeof mod.handler;
const ms = performance.now() - t0;
const load = { network: [...hits.network], timers: hits.timers, fileReads: [...hits.fileReads] };
// The first invocation: the event as argv[2]; a streaming function answers on a stream, timed to
// its first bytes (a stream runs on until its end time, which no user waits for).
let status = 'not invoked';
if (type === 'function' && process.argv[2]) {
  const event = JSON.parse(process.argv[2]);
  const remaining = Number(process.argv[4] ?? 30000);
  const context = { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, awsRequestId: 'cold-1', getRemainingTimeInMillis: () => remaining - (performance.now() - t0), callbackWaitsForEmptyEventLoop: false };
  if (process.argv[3] === 'stream') {
    const { PassThrough } = await import('node:stream');
    const stream = new PassThrough();
    const first = new Promise((resolve) => { stream.once('data', (chunk) => resolve('bytes:' + String(chunk).slice(0, 20))); stream.once('finish', () => resolve('ended')); });
    const done = mod.handler(event, stream, context).then(() => 'returned', (error) => 'threw:' + error?.name);
    status = await Promise.race([first, done]);
  } else {
    const result = await mod.handler(event, context).catch((error) => ({ threw: error?.name ?? String(error) }));
    status = result?.threw ? 'threw:' + result.threw : result?.statusCode !== undefined ? 'status:' + result.statusCode : result?.policyDocument ? 'policy:' + result.policyDocument.Statement?.[0]?.Effect : result?.batchItemFailures ? 'failures:' + result.batchItemFailures.length : typeof result;
  }
}
const firstMs = performance.now() - t0;
// The handler logs to stdout too (as on Lambda): the result is the line after the marker.
process.stdout.write('\\n' + MARK + JSON.stringify({ ms, firstMs, type, status, ...load }) + '\\n');
process.exit(0);
`;

/** The environment of a Lambda sandbox, minus credentials the module must not need at load. */
function sandboxEnv(name: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    LANG: 'C.UTF-8',
    TZ: ':UTC',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: `chat-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(FUNCTIONS[name as FunctionName]?.memoryMb ?? 256),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_OPTIONS: '',
  };
}

const PROBE_MARK = 'cold-start-probe:';

interface Probe {
  ms: number;
  firstMs: number;
  type: string;
  status: string;
  network: string[];
  timers: number;
  fileReads: string[];
}

interface Invocation {
  event: unknown;
  stream: boolean;
  timeoutMs: number;
}

function spawnProbe(file: string, env: NodeJS.ProcessEnv, invocation?: Invocation, execArgv: string[] = []): Promise<Probe> {
  const args = [...execArgv, '--input-type=module', '-e', PROBE, pathToFileURL(file).href];
  if (invocation) args.push(JSON.stringify(invocation.event), invocation.stream ? 'stream' : 'plain', String(invocation.timeoutMs));
  // Asynchronous: the emulators the first invocation calls run in this process.
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, encoding: 'utf8', timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file}: ${error.message}\n${stderr.slice(-2000)}`));
      else {
        const line = stdout.split('\n').findLast((l) => l.startsWith(PROBE_MARK));
        if (line) resolve(JSON.parse(line.slice(PROBE_MARK.length)) as Probe);
        else reject(new Error(`${file}: no result\n${stdout.slice(-2000)}`));
      }
    });
  });
}

const kb = (bytes: number) => round(bytes / 1024, 1);

export async function measureColdStart(options: ColdStartOptions = {}): Promise<ColdStartResult> {
  const outDir = resolve(options.outDir ?? join(PROJECT_ROOT, 'bench', 'out', 'cold'));
  const spawns = options.spawns ?? 15;
  const names = options.functions ?? (Object.keys(FUNCTIONS) as FunctionName[]);
  // The emulated stack starts while the bundles build (it is the slow part of the set-up).
  const starting = startColdTarget();
  starting.catch(() => undefined);
  const bundles = await measureBundles({ outDir: join(outDir, 'bundles'), functions: names }).catch(async (error) => {
    await (await starting).stop();
    throw error;
  });

  // Floors, bundled with each function's own settings (same aliases, banner, minification).
  mkdirSync(join(outDir, 'src'), { recursive: true });
  const emptyEntry = join(outDir, 'src', 'empty.mjs');
  writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
  const emptyOut = join(outDir, 'floors', 'empty', 'index.mjs');
  const emptyBuild = await build({ ...esbuildOptionsFor(names[0]!, emptyOut), entryPoints: [emptyEntry], metafile: true });
  const emptyBytes = Object.values(emptyBuild.metafile!.outputs)[0]!.bytes;

  const floors = new Map<FunctionName, { file: string; bytes: number; specs: ClientSpec[] }>();
  for (const bundle of bundles) {
    const specs = clientsOf(bundle.inputs);
    const entry = join(outDir, 'src', `floor-${bundle.name}.mjs`);
    writeFileSync(entry, floorSource(specs));
    const file = join(outDir, 'floors', bundle.name, 'index.mjs');
    const result = await build({ ...esbuildOptionsFor(bundle.name, file), entryPoints: [entry], metafile: true });
    floors.set(bundle.name, { file, bytes: Object.values(result.metafile!.outputs)[0]!.bytes, specs });
  }

  const target: ColdTarget = await starting;
  const samples = new Map<string, Array<{ ms: number; firstMs: number }>>();
  const checks = new Map<string, Probe>();
  const statuses = new Map<string, Set<string>>();
  try {
    // Round robin: every module once per round, so a noisy moment hits all of them alike.
    const modules: Array<{ key: string; file: string; env: NodeJS.ProcessEnv; fn?: FunctionName }> = [{ key: 'empty', file: emptyOut, env: sandboxEnv('empty') }];
    for (const bundle of bundles) {
      const env = target.env(bundle.name);
      modules.push({ key: `fn:${bundle.name}`, file: bundle.file!, env, fn: bundle.name });
      modules.push({ key: `floor:${bundle.name}`, file: floors.get(bundle.name)!.file, env, fn: bundle.name });
    }
    for (const m of modules) samples.set(m.key, []);
    const profileDir = process.env.BENCH_PROFILE_DIR;
    for (let round_ = 0; round_ < spawns; round_++) {
      // Every other round the floor goes first, so neither side of a pair is favoured.
      const order = round_ % 2 === 0 ? modules : modules.map((_, i) => (i === 0 ? modules[0]! : modules[i % 2 === 1 ? i + 1 : i - 1]!));
      for (const m of order) {
        const invocation: Invocation = m.fn
          ? { event: target.event(m.fn), stream: m.fn === 'sse' && m.key.startsWith('fn:'), timeoutMs: target.timeoutMs(m.fn) }
          : { event: {}, stream: false, timeoutMs: 3000 };
        const execArgv = profileDir && round_ === 0 ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, m.key.replace(':', '-'))}`] : [];
        const probe = await spawnProbe(m.file, m.env, invocation, execArgv);
        if (probe.type !== 'function') throw new Error(`${m.key}: handler is ${probe.type} after import`);
        samples.get(m.key)!.push({ ms: probe.ms, firstMs: probe.firstMs });
        if (!checks.has(m.key)) checks.set(m.key, probe);
        if (!statuses.has(m.key)) statuses.set(m.key, new Set());
        statuses.get(m.key)!.add(probe.status);
      }
    }
  } finally {
    await target.stop();
  }
  // Each function and its floor are spawned back to back in every round: a ratio is the median
  // of the per-round ratios, so a noisy round (other work on the machine) cancels out in the pair.
  const pairedRatio = (name: FunctionName, pick: 'ms' | 'firstMs') => {
    const fn = samples.get(`fn:${name}`)!;
    const floor = samples.get(`floor:${name}`)!;
    return median(fn.map((s, i) => s[pick] / floor[i]![pick]));
  };
  const med = (key: string, pick: 'ms' | 'firstMs') => median(samples.get(key)!.map((s) => s[pick]));

  const functions: ColdStartFunction[] = bundles.map((bundle) => {
    const floor = floors.get(bundle.name)!;
    const probe = checks.get(`fn:${bundle.name}`)!;
    return {
      name: bundle.name,
      kb: bundle.kb,
      clients: floor.specs.map((s) => s.label),
      loadMs: round(med(`fn:${bundle.name}`, 'ms'), 1),
      sdkFloorMs: round(med(`floor:${bundle.name}`, 'ms'), 1),
      sdkFloorKb: kb(floor.bytes),
      ratio: round(pairedRatio(bundle.name, 'ms'), 2),
      firstMs: round(med(`fn:${bundle.name}`, 'firstMs'), 1),
      sdkFloorFirstMs: round(med(`floor:${bundle.name}`, 'firstMs'), 1),
      firstRatio: round(pairedRatio(bundle.name, 'firstMs'), 2),
      firstStatuses: [...statuses.get(`fn:${bundle.name}`)!],
      // The module's own file is read by Node's loader; anything else was read by the module.
      checks: { network: probe.network, timers: probe.timers, fileReads: probe.fileReads.filter((f) => !f.endsWith(`/${bundle.name}/index.mjs`)) },
      topPackages: bundle.packages.slice(0, 5).map((p) => ({ name: p.name, kb: kb(p.bytes) })),
    };
  });
  return {
    node: process.version,
    spawns,
    emptyFloor: { kb: kb(emptyBytes), loadMs: round(med('empty', 'ms'), 1), firstMs: round(med('empty', 'firstMs'), 1) },
    functions,
  };
}
