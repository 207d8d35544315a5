/**
 * Fault injection for the reliability suites (test/faults, test/soak).
 *
 * - `FaultInjector.gateFaults()`: for `runtime.injectFaults()`. The functions run in sandboxes of
 *   their own, so faults are injected where their calls leave them: at the runtime's IAM gates in
 *   front of DynamoDB, SQS and @connections. An injected fault is a real HTTP error response that
 *   the SDK parses into its real exception class (`ProvisionedThroughputExceededException`,
 *   `GoneException`, ...) and retries, or not, exactly as it would the service's own answer. A
 *   `crash` (a call that throws in the handler, which the SDK does not retry) is answered with a
 *   non-retryable 400 `ValidationException`.
 * - `startFaultProxy()`: an edge router in front of the embedded emulators (LocalStack style,
 *   dispatching on `x-amz-target`) for calls that no handler client makes, e.g. the SQS event
 *   source's `ReceiveMessage`. Give its URL to `startRuntime({ awsEndpoint })`.
 * - Schedules are deterministic: every Nth matching call, with an offset derived from a seed.
 * - `DeliveryTally`: who should get which message, who did, how many times.
 *
 * Faults act on a rule's own counter of matching calls, so the same traffic gives the same faults.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionName } from '../../lambdas/shared/routes.js';
import type { FaultInjector as GateFaultInjector, GateCall } from '../../local/iam-gate.js';
import type { Runtime } from '../../local/runtime.js';

// ---------- seeded randomness and schedules ----------

/** mulberry32: a small seeded PRNG (reproducible fault schedules and traffic). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every `n`th call (1-based count of matching calls) fails, starting at a seeded offset. */
export function everyNth(n: number, seed = 0): (index: number) => boolean {
  const offset = Math.floor(createRng(seed)() * n);
  return (index) => (index + offset) % n === 0;
}

// ---------- the SDK middleware ----------

export type ServiceName = 'dynamodb' | 'sqs' | 'apigw';

export interface CallInfo {
  /** Where the call was seen: the handlers' SDK clients, or the fault proxy (every client). */
  layer: 'sdk' | 'proxy';
  service: ServiceName;
  /** Operation name without `Command` (PutItem, SendMessage, PostToConnection, ...). */
  operation: string;
  /** The wire input (DynamoDB values marshalled: `{ S: '...' }`). */
  input: Record<string, unknown>;
  /** 1 for the first attempt; the SDK's retries count up (`amz-sdk-request: attempt=N`). */
  attempt: number;
}

export type FaultAction =
  /** Answered with this error without reaching the service. */
  | { type: 'error'; status: number; errorType: string }
  /** The call reaches the service, then its answer is lost: the caller sees this error. */
  | { type: 'lost'; status: number; errorType: string }
  /** The call is held this long, then goes through. */
  | { type: 'delay'; ms: number }
  /** The caller gets a plain exception (no HTTP status): a crash the SDK does not retry. */
  | { type: 'crash'; message: string };

export interface FaultRule {
  /** Name reported in the counts (e.g. `dynamo-throttle`). */
  kind: string;
  /** Default `sdk`: the handlers' clients. `proxy`: calls through startFaultProxy (event source too). */
  layer?: 'sdk' | 'proxy';
  match(call: CallInfo): boolean;
  /** Decides per matching call (`index` counts this rule's matching calls from 1). */
  when?: (index: number, call: CallInfo) => boolean;
  action: FaultAction;
  /** At most this many injections. */
  limit?: number;
  /** Only the first attempt of a call (the SDK's retry then succeeds): bounded, no retry storm. */
  firstAttemptOnly?: boolean;
}

interface ActiveRule extends FaultRule {
  id: number;
  seen: number;
  hits: number;
}

/** The error response each service's protocol sends, so the SDK parses it into its real exception. */
export function errorResponse(service: ServiceName, status: number, errorType: string) {
  const message = `Injected fault: ${errorType}`;
  let headers: Record<string, string>;
  let body: string;
  if (service === 'dynamodb') {
    headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': errorType };
    body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${errorType}`, message });
  } else if (service === 'sqs') {
    headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-error': `${errorType};${status >= 500 ? 'Receiver' : 'Sender'}`,
    };
    body = JSON.stringify({ __type: `com.amazonaws.sqs#${errorType}`, message });
  } else {
    headers = { 'content-type': 'application/json', 'x-amzn-errortype': errorType };
    body = JSON.stringify({ message });
  }
  return { statusCode: status, headers, body };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function attemptOf(headers: Record<string, string> | undefined): number {
  const value = headers?.['amz-sdk-request'] ?? '';
  const match = /attempt=(\d+)/.exec(value);
  return match ? Number(match[1]) : 1;
}

/** A DynamoDB attribute of a marshalled input (`{ S: 'x' }` or `{ N: '1' }`) as a string. */
export function attr(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? value : undefined;
  const v = value as { S?: string; N?: string };
  return v.S ?? v.N;
}

/** A `@connections` call as the SDK command's input: `{ ConnectionId, Data }`. */
function connectionInput(call: GateCall): Record<string, unknown> {
  const id = /@connections\/([^/?]+)/.exec(call.request.path)?.[1] ?? '';
  return { ConnectionId: decodeURIComponent(id), Data: new Uint8Array(call.request.body) };
}

export interface ObservedCall extends CallInfo {
  status: number;
}

export class FaultInjector {
  private readonly rules: ActiveRule[] = [];
  private nextId = 1;
  /** Faults injected, by kind. */
  readonly counts: Record<string, number> = {};
  /** Calls by `service.operation`, and responses by status (`apigw.PostToConnection.410`). */
  readonly calls: Record<string, number> = {};
  /** Off: every call goes through untouched (setup, verification). */
  enabled = true;
  private readonly observers = new Set<(call: ObservedCall) => void>();

  add(rule: FaultRule): () => void {
    const active: ActiveRule = { ...rule, id: this.nextId++, seen: 0, hits: 0 };
    this.rules.push(active);
    return () => {
      const i = this.rules.indexOf(active);
      if (i >= 0) this.rules.splice(i, 1);
    };
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** Called with every completed call and its HTTP status (observed, not altered). */
  observe(listener: (call: ObservedCall) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  count(kind: string, n = 1): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + n;
  }

  total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** The rule that fires for this call, if any (counts matching calls per rule). */
  decide(call: CallInfo): ActiveRule | undefined {
    if (!this.enabled) return undefined;
    for (const rule of this.rules) {
      if ((rule.layer ?? 'sdk') !== call.layer || !rule.match(call)) continue;
      if (rule.firstAttemptOnly && call.attempt > 1) continue;
      rule.seen++;
      if (rule.limit !== undefined && rule.hits >= rule.limit) continue;
      if (rule.when && !rule.when(rule.seen, call)) continue;
      rule.hits++;
      this.count(rule.kind);
      return rule;
    }
    return undefined;
  }

  private tally(key: string): void {
    this.calls[key] = (this.calls[key] ?? 0) + 1;
  }

  /** The injector for `runtime.injectFaults()`: the rules applied at the IAM gates (layer `sdk`). */
  gateFaults(): GateFaultInjector {
    const serviceOf = (call: GateCall): ServiceName | undefined =>
      call.service === 'execute-api' ? 'apigw' : call.service === 'dynamodb' || call.service === 'sqs' ? call.service : undefined;
    const info = (call: GateCall, service: ServiceName): CallInfo => ({
      layer: 'sdk',
      service,
      operation: call.operation,
      input: service === 'apigw' ? connectionInput(call) : (call.input ?? {}),
      attempt: attemptOf(call.request.headers as Record<string, string>),
    });
    const response = (service: ServiceName, status: number, errorType: string) => {
      const { statusCode, headers, body } = errorResponse(service, status, errorType);
      return { status: statusCode, headers, body };
    };
    return {
      decide: (call) => {
        const service = serviceOf(call);
        if (!service) return undefined;
        const callInfo = info(call, service);
        this.tally(`${service}.${callInfo.operation}`);
        const action = this.decide(callInfo)?.action;
        if (!action) return undefined;
        if (action.type === 'error') return { type: 'respond', response: response(service, action.status, action.errorType) };
        if (action.type === 'lost') return { type: 'lost', response: response(service, action.status, action.errorType) };
        if (action.type === 'crash') return { type: 'respond', response: response(service, 400, 'ValidationException') };
        return { type: 'delay', ms: action.ms };
      },
      completed: (call, status) => {
        const service = serviceOf(call);
        if (!service) return;
        const callInfo = info(call, service);
        this.tally(`${service}.${callInfo.operation}.${status}`);
        for (const listener of [...this.observers]) listener({ ...callInfo, status });
      },
    };
  }
}

// ---------- a fault proxy in front of the emulators ----------

export interface FaultProxy {
  url: string;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * One endpoint for DynamoDB and SQS (as LocalStack's edge port), forwarding on `x-amz-target`,
 * with the injector's rules applied to calls that reach it (service `dynamodb` or `sqs`).
 */
export async function startFaultProxy(upstream: { dynamoEndpoint: string; sqsEndpoint: string }, injector: FaultInjector): Promise<FaultProxy> {
  const forward = (target: string, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const url = new URL(req.url ?? '/', target);
      const up = request(url, { method: req.method, headers: req.headers }, (res) => {
        readBody(res).then((data) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data }), reject);
      });
      up.on('error', reject);
      up.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const service: ServiceName | undefined = target.startsWith('DynamoDB_') ? 'dynamodb' : target.startsWith('AmazonSQS.') ? 'sqs' : undefined;
    const body = await readBody(req);
    if (!service) {
      // Anything else (S3: attachments) goes to the emulator that serves it, with no faults.
      const answer = await forward(upstream.sqsEndpoint, req, body);
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    let input: Record<string, unknown> = {};
    try {
      input = JSON.parse(body.toString() || '{}') as Record<string, unknown>;
    } catch {
      // not JSON: forwarded as is
    }
    const call: CallInfo = {
      layer: 'proxy',
      service,
      operation: target.slice(target.indexOf('.') + 1),
      input,
      attempt: attemptOf(req.headers as Record<string, string>),
    };
    const rule = injector.decide(call);
    const upstreamUrl = service === 'dynamodb' ? upstream.dynamoEndpoint : upstream.sqsEndpoint;
    const sendError = (status: number, errorType: string) => {
      const out = errorResponse(service, status, errorType);
      res.writeHead(out.statusCode, { ...out.headers, 'content-length': Buffer.byteLength(out.body) }).end(out.body);
    };
    if (rule?.action.type === 'error') return sendError(rule.action.status, rule.action.errorType);
    if (rule?.action.type === 'crash') {
      res.destroy();
      return;
    }
    if (rule?.action.type === 'delay') await sleep(rule.action.ms);
    const answer = await forward(upstreamUrl, req, body);
    if (rule?.action.type === 'lost') return sendError(rule.action.status, rule.action.errorType);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------- Lambda timeouts ----------

/**
 * Shortens a function's timeout in a running runtime (its sandboxes: the Context's
 * getRemainingTimeInMillis and the invocation's own timeout). Returns the restore.
 */
export function setFunctionTimeout(rt: Runtime, fn: FunctionName, ms: number): () => void {
  return rt.setFunctionTimeout(fn, ms);
}

// ---------- delivery accounting ----------

export interface DeliverySummary {
  /** (message, recipient) pairs that had to arrive. */
  expected: number;
  /** Of those, how many arrived at least once. */
  delivered: number;
  lost: number;
  /** Extra copies beyond the first, over the expected pairs. */
  duplicated: number;
  /** Lost pairs (first few), for the failure message. */
  missing: string[];
}

/**
 * Expected and observed deliveries. Observations may come before the expectation is known (a
 * fan-out can beat the sender's reply), so both are kept and matched at the end.
 */
export class DeliveryTally {
  private readonly expectedPairs = new Set<string>();
  private readonly seen = new Map<string, number>();
  private readonly outstanding = new Set<string>();
  private readonly waiters = new Set<() => void>();

  private static key(recipient: string, id: string): string {
    return `${recipient} ${id}`;
  }

  expect(id: string, recipients: Iterable<string>): void {
    for (const recipient of recipients) {
      const key = DeliveryTally.key(recipient, id);
      if (this.expectedPairs.has(key)) continue;
      this.expectedPairs.add(key);
      if (!this.seen.has(key)) this.outstanding.add(key);
    }
    this.notify();
  }

  observe(recipient: string, id: string): void {
    const key = DeliveryTally.key(recipient, id);
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    if (this.outstanding.delete(key)) this.notify();
  }

  get pending(): number {
    return this.outstanding.size;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves true once every expected pair arrived, false at the timeout (no throw: the summary tells). */
  whenComplete(timeoutMs: number): Promise<boolean> {
    if (this.outstanding.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const check = () => {
        if (this.outstanding.size === 0) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  summary(): DeliverySummary {
    let delivered = 0;
    let duplicated = 0;
    const missing: string[] = [];
    for (const key of this.expectedPairs) {
      const n = this.seen.get(key) ?? 0;
      if (n > 0) delivered++;
      else if (missing.length < 20) missing.push(key);
      if (n > 1) duplicated += n - 1;
    }
    return { expected: this.expectedPairs.size, delivered, lost: this.expectedPairs.size - delivered, duplicated, missing };
  }
}

/** `kind=n` pairs, sorted by kind, for summary lines. */
export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind}=${n}`)
    .join(' ');
}
