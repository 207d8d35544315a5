/**
 * 1. Cold start. Every function's bundle exactly as deployed (esbuild JS API with
 * lib/bundling.ts's options): its size, and its module-load time in a fresh `node` process
 * (median of repeated spawns: import the .mjs, touch `handler`), beside two floors bundled the same
 * way and timed in the same rounds: an empty handler, and a handler that only imports and
 * constructs the AWS SDK clients the function's bundle holds. Each spawn also records what the
 * module did while loading: network calls (net/tls/dns/http/fetch), timers, and file reads.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';
import { esbuildOptionsFor, PROJECT_ROOT } from '../lib/bundling.js';
import { measureBundles } from './bundle-sizes.js';
import { median, round } from './lib/stats.js';

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
  /** Median over rounds of load / SDK floor, both spawned in the same round (target ≤ 1.2). */
  ratio: number;
  checks: LoadChecks;
  topPackages: { name: string; kb: number }[];
}

export interface ColdStartResult {
  node: string;
  spawns: number;
  emptyFloor: { kb: number; loadMs: number };
  functions: ColdStartFunction[];
}

interface ClientSpec {
  label: string;
  /** Import lines and the construction expression of the floor handler. */
  imports: string;
  construct: string;
}

/** Which SDK clients a bundle holds, from its esbuild inputs. */
export function clientsOf(inputs: string[]): ClientSpec[] {
  const has = (fragment: string) => inputs.some((i) => i.includes(fragment));
  const specs: ClientSpec[] = [];
  if (has('node_modules/@aws-sdk/client-dynamodb/')) {
    const doc = has('node_modules/@aws-sdk/lib-dynamodb/');
    specs.push({
      label: doc ? 'DynamoDB (document client)' : 'DynamoDB',
      imports: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';${doc ? "\nimport { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';" : ''}`,
      construct: doc ? 'DynamoDBDocumentClient.from(new DynamoDBClient({}))' : 'new DynamoDBClient({})',
    });
  }
  if (has('node_modules/@aws-sdk/client-sqs/')) {
    specs.push({
      label: 'SQS',
      imports: "import { SQSClient } from '@aws-sdk/client-sqs';",
      construct: 'new SQSClient({})',
    });
  }
  if (has('node_modules/@aws-sdk/client-apigatewaymanagementapi/')) {
    specs.push({
      label: '@connections',
      imports: "import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';",
      construct: "new ApiGatewayManagementApiClient({ endpoint: 'https://example.execute-api.us-east-1.amazonaws.com/prod' })",
    });
  }
  if (has('node_modules/@aws-sdk/client-ssm/')) {
    specs.push({ label: 'SSM (GetParameter)', imports: "import { SSMClient } from '@aws-sdk/client-ssm';", construct: 'new SSMClient({})' });
  }
  return specs;
}

function floorSource(specs: ClientSpec[]): string {
  return [
    ...specs.map((s) => s.imports),
    `const clients = [${specs.map((s) => s.construct).join(', ')}];`,
    'export const handler = async () => ({ statusCode: 200, body: String(clients.length) });',
    '',
  ].join('\n');
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
const t0 = performance.now();
const mod = await import(process.argv[1]);
const type = typeof mod.handler;
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, type, ...hits }));
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

interface Probe {
  ms: number;
  type: string;
  network: string[];
  timers: number;
  fileReads: string[];
}

function spawnProbe(file: string, env: NodeJS.ProcessEnv): Probe {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE, pathToFileURL(file).href], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as Probe;
}

const kb = (bytes: number) => round(bytes / 1024, 1);

export async function measureColdStart(options: ColdStartOptions = {}): Promise<ColdStartResult> {
  const outDir = resolve(options.outDir ?? join(PROJECT_ROOT, 'bench', 'out', 'cold'));
  const spawns = options.spawns ?? 15;
  const names = options.functions ?? (Object.keys(FUNCTIONS) as FunctionName[]);
  const bundles = await measureBundles({ outDir: join(outDir, 'bundles'), functions: names });

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

  // Round robin: every module once per round, so a noisy moment hits all of them alike.
  const modules: Array<{ key: string; file: string; env: NodeJS.ProcessEnv }> = [{ key: 'empty', file: emptyOut, env: sandboxEnv('empty') }];
  for (const bundle of bundles) {
    modules.push({ key: `fn:${bundle.name}`, file: bundle.file!, env: sandboxEnv(bundle.name) });
    modules.push({ key: `floor:${bundle.name}`, file: floors.get(bundle.name)!.file, env: sandboxEnv(bundle.name) });
  }
  const samples = new Map<string, number[]>(modules.map((m) => [m.key, []]));
  const checks = new Map<string, Probe>();
  for (let round_ = 0; round_ < spawns; round_++) {
    // Every other round the floor goes first, so neither side of a pair is favoured.
    const order = round_ % 2 === 0 ? modules : modules.map((_, i) => (i === 0 ? modules[0]! : modules[i % 2 === 1 ? i + 1 : i - 1]!));
    for (const m of order) {
      const probe = spawnProbe(m.file, m.env);
      if (probe.type !== 'function') throw new Error(`${m.key}: handler is ${probe.type} after import`);
      samples.get(m.key)!.push(probe.ms);
      if (!checks.has(m.key)) checks.set(m.key, probe);
    }
  }
  // Each function and its floor are spawned back to back in every round: the ratio is the median
  // of the per-round ratios, so a noisy round (other work on the machine) cancels out in the pair.
  const pairedRatio = (name: FunctionName) => {
    const fn = samples.get(`fn:${name}`)!;
    const floor = samples.get(`floor:${name}`)!;
    return median(fn.map((ms, i) => ms / floor[i]!));
  };

  const functions: ColdStartFunction[] = bundles.map((bundle) => {
    const floor = floors.get(bundle.name)!;
    const loadMs = median(samples.get(`fn:${bundle.name}`)!);
    const sdkFloorMs = median(samples.get(`floor:${bundle.name}`)!);
    const probe = checks.get(`fn:${bundle.name}`)!;
    return {
      name: bundle.name,
      kb: bundle.kb,
      clients: floor.specs.map((s) => s.label),
      loadMs: round(loadMs, 1),
      sdkFloorMs: round(sdkFloorMs, 1),
      sdkFloorKb: kb(floor.bytes),
      ratio: round(pairedRatio(bundle.name), 2),
      // The module's own file is read by Node's loader; anything else was read by the module.
      checks: { network: probe.network, timers: probe.timers, fileReads: probe.fileReads.filter((f) => !f.endsWith(`/${bundle.name}/index.mjs`)) },
      topPackages: bundle.packages.slice(0, 5).map((p) => ({ name: p.name, kb: kb(p.bytes) })),
    };
  });
  return {
    node: process.version,
    spawns,
    emptyFloor: { kb: kb(emptyBytes), loadMs: round(median(samples.get('empty')!), 1) },
    functions,
  };
}
