/**
 * IAM enforced on every AWS call a function makes. Each sandbox signs its SDK calls with its own
 * access key (credentialsFor), and each emulator endpoint (DynamoDB, SQS, SSM, @connections) sits
 * behind a gate: an HTTP proxy that reads the access key from the SigV4 `Authorization` header,
 * maps the request to the IAM action(s) and resource ARN(s) it needs (iam-requests.ts), evaluates
 * them with @cloud-copilot/iam-simulate against that function's role policies from the template,
 * and forwards the request, or answers exactly as the service answers a denied call, so the real
 * SDK raises its real AccessDeniedException. Unknown callers and unmapped requests are denied.
 *
 * Faults for resilience tests are injected here too, as real HTTP error responses.
 *
 * Every allowed call (function, action, resource, the statement that allowed it) and every denial
 * is recorded; with a log dir, also as JSONL lines that the test run's teardown reads to print the
 * grants no test used.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import path from 'node:path';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { FunctionName } from '../lambdas/shared/routes.js';
import type { FunctionTable, PolicyStatement, ResolvedFunction } from './function-table.js';
import { closeServer, listenHttp } from './http-api.js';
import { accessKeyOf, credentialScopeError, type ArnScope, type GatedService, type MappedRequest, mapRequest, type RequiredAction, type WireRequest } from './iam-requests.js';
import type { RuntimeLogger } from './log.js';

export interface IamDecision {
  fn: FunctionName;
  action: string;
  resource: string;
  allowed: boolean;
  /** `<policy logical id>#<1-based statement index>` of the statement that allowed it. */
  statement?: string;
}

export interface SandboxCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** Access key ids name the function's role, so a request says whose it is. */
export function credentialsFor(fn: ResolvedFunction): SandboxCredentials {
  return { accessKeyId: `ASIA${fn.roleName.toUpperCase().replace(/[^A-Z0-9]/g, '')}`, secretAccessKey: 'local-sandbox', sessionToken: `local-session-${fn.name}` };
}

export interface IamRecorder {
  record(decision: IamDecision): void;
  decisions(): IamDecision[];
}

/** Keeps each distinct decision once; with `logDir`, appends it to `<logDir>/<pid>.jsonl`. */
export function iamRecorder(table: FunctionTable, logDir?: string): IamRecorder {
  const seen = new Set<string>();
  const all: IamDecision[] = [];
  const file = logDir ? path.join(logDir, `${process.pid}-${randomUUID().slice(0, 8)}.jsonl`) : undefined;
  if (file) {
    mkdirSync(logDir!, { recursive: true });
    const grants = Object.values(table).map((fn) => ({ type: 'grants', fn: fn.name, policies: fn.policies }));
    appendFileSync(file, `${grants.map((g) => JSON.stringify(g)).join('\n')}\n`);
  }
  return {
    record(decision) {
      const key = decision.allowed
        ? `${decision.fn}|${decision.action}|${decision.statement}`
        : `${decision.fn}|${decision.action}|${decision.resource}|deny`;
      if (seen.has(key)) return;
      seen.add(key);
      all.push(decision);
      if (file) appendFileSync(file, `${JSON.stringify({ type: 'decision', ...decision })}\n`);
    },
    decisions: () => [...all],
  };
}

interface Principal {
  fn: ResolvedFunction;
  policies: Simulation['identityPolicies'];
  /** Whether a Resource or NotResource pattern could tell one connection id from another. */
  namesConnections: boolean;
}

/** The Resource and NotResource patterns of a statement. */
function resourcePatterns(statement: PolicyStatement): string[] {
  const st = statement as { Resource?: unknown; NotResource?: unknown };
  return [st.Resource, st.NotResource].flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])).map(String);
}

/** Whether a resource pattern can match an execute-api ARN: anything but an ARN of another service. */
function mayMatchExecuteApi(pattern: string): boolean {
  const [arn, partition, service] = pattern.split(':');
  if (arn !== 'arn' || partition === undefined || service === undefined || /[*?]/.test(partition)) return true;
  return service === 'execute-api' || /[*?]/.test(service);
}

/** Evaluates a function's calls against its role's policies (iam-simulate), with a decision cache. */
export class IamAuthority {
  private readonly byKey = new Map<string, Principal>();
  private readonly cache = new Map<string, Promise<IamDecision>>();

  constructor(
    table: FunctionTable,
    readonly scope: ArnScope,
    readonly recorder: IamRecorder,
  ) {
    for (const fn of Object.values(table)) {
      const policies = fn.policies.map((p) => ({ name: p.name, policy: { Version: '2012-10-17', Statement: p.statements as PolicyStatement[] } }));
      const patterns = fn.policies.flatMap((p) => (p.statements as PolicyStatement[]).flatMap((st) => resourcePatterns(st)));
      const namesConnections = !patterns.filter(mayMatchExecuteApi).every((r) => r === '*' || r.endsWith('/*'));
      this.byKey.set(credentialsFor(fn).accessKeyId, { fn, policies: policies as Simulation['identityPolicies'], namesConnections });
    }
  }

  principalOf(accessKeyId: string | undefined): ResolvedFunction | undefined {
    return accessKeyId ? this.byKey.get(accessKeyId)?.fn : undefined;
  }

  /** The caller's session ARN, as IAM names it in a denial. */
  sessionArn(fn: ResolvedFunction): string {
    return `arn:aws:sts::${this.scope.account}:assumed-role/${fn.roleName}/${fn.functionName}`;
  }

  async authorize(accessKeyId: string, required: RequiredAction): Promise<IamDecision> {
    const principal = this.byKey.get(accessKeyId);
    if (!principal) throw new Error(`unknown access key ${accessKeyId}`);
    const key = `${accessKeyId}|${required.action}|${this.cacheResource(principal, required.resource)}`;
    let decision = this.cache.get(key);
    if (!decision) {
      decision = this.evaluate(principal, required);
      this.cache.set(key, decision);
    }
    const cached = await decision;
    const result = cached.resource === required.resource ? cached : { ...cached, resource: required.resource };
    this.recorder.record(result);
    return result;
  }

  /**
   * The resource part of a decision's cache key. Every post names a new connection id, and a
   * simulation costs milliseconds of the runtime's one event loop. When every Resource and
   * NotResource pattern of the role that can match an execute-api ARN is `*` or ends in `/*`, and
   * the id holds no `/`, no pattern can match one id and not another (the id is the ARN's last path
   * segment), so all ids share one entry.
   */
  private cacheResource(principal: Principal, resource: string): string {
    const at = resource.indexOf('/@connections/');
    if (at < 0 || principal.namesConnections || resource.indexOf('/', at + '/@connections/'.length) >= 0) return resource;
    return `${resource.slice(0, at)}/@connections/*`;
  }

  private async evaluate(principal: Principal, required: RequiredAction): Promise<IamDecision> {
    const response = await runSimulation(
      {
        identityPolicies: principal.policies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action: required.action,
          principal: principal.fn.roleArn,
          resource: { resource: required.resource, accountId: this.scope.account },
          contextVariables: {},
        },
      } as Simulation,
      {},
    );
    const base = { fn: principal.fn.name, action: required.action, resource: required.resource };
    if (response.resultType !== 'single' || response.overallResult !== 'Allowed') return { ...base, allowed: false };
    const allow = response.result.analysis?.identityAnalysis?.allowStatements?.[0];
    return { ...base, allowed: true, statement: allow ? `${allow.policyId}#${allow.explain?.identifier ?? '?'}` : undefined };
  }
}

/** An error response written by the gate (a denial or an injected fault). */
export interface GateResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface GateCall {
  service: GatedService;
  fn: FunctionName;
  operation: string;
  request: WireRequest;
  /** Parsed JSON body (undefined for none or non-JSON). */
  input: Record<string, unknown> | undefined;
}

/**
 * A fault for one call (resilience tests), as the network or the service would cause it:
 * - `respond`: this error answers the call, which never reaches the service;
 * - `lost`: the call reaches the service, then its answer is lost and the caller gets this error;
 * - `delay`: the call is held this long, then goes through;
 * - `hold`: the call is held until `until` settles, then goes through (a test orders a race).
 */
export type GateFault =
  | { type: 'respond'; response: GateResponse }
  | { type: 'lost'; response: GateResponse }
  | { type: 'delay'; ms: number }
  | { type: 'hold'; until: Promise<unknown> };

export interface FaultInjector {
  /** The fault for this call, or undefined to let it through. */
  decide(call: GateCall): GateFault | undefined;
  /** Every call the gate let through or faulted, with the status its caller got. */
  completed?(call: GateCall, status: number): void;
}

/** A refusal in the service's own error format: AccessDenied, or a bad signature (InvalidSignature). */
function denial(service: GatedService, message: string, kind: 'AccessDenied' | 'InvalidSignature' = 'AccessDenied'): GateResponse {
  const requestId = randomUUID();
  const errorType = `${kind}Exception`;
  switch (service) {
    case 'dynamodb':
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: `com.amazon.coral.service#${errorType}`, Message: message }),
      };
    case 'sqs':
      return {
        status: kind === 'AccessDenied' ? 400 : 403,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId, 'x-amzn-query-error': `${kind === 'AccessDenied' ? 'AccessDenied' : 'SignatureDoesNotMatch'};Sender` },
        body: JSON.stringify({ __type: `com.amazon.coral.service#${errorType}`, message }),
      };
    case 'ssm':
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: errorType, message }),
      };
    case 'execute-api':
      return {
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': errorType },
        body: JSON.stringify({ message }),
      };
  }
}

export interface GateOptions {
  service: GatedService;
  /** Base URL of the emulator behind the gate. */
  upstream: string;
  authority: IamAuthority;
  /** WebSocket API id in execute-api ARNs. */
  apiId?: string;
  logger: RuntimeLogger;
  faults?: () => FaultInjector | undefined;
  /**
   * The service names resources by URLs on its own origin (SQS queue URLs): rewrite the gate's
   * origin to the emulator's in request bodies and back in responses, as if both were one host.
   */
  rewriteOrigin?: boolean;
  /**
   * The endpoint behind the gate, when it runs in this process (`@connections`): an authorized
   * request is handed to it directly, with the body the gate has read, instead of over a second
   * loopback HTTP connection. The SDK still calls an HTTP endpoint that answers as the service
   * does; only the proxy hop behind it goes. While a fault injector is set, requests take the
   * HTTP path (a `lost` fault needs the upstream's answer).
   */
  local?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void>;
}

export interface Gate {
  url: string;
  stop(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: GateResponse): void {
  res.writeHead(response.status, { ...response.headers, 'content-length': String(Buffer.byteLength(response.body)) });
  res.end(response.body);
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Decides one call: the denial to send, or undefined to forward it. */
async function decide(options: GateOptions, wire: WireRequest): Promise<{ deny?: GateResponse; fn?: ResolvedFunction; mapped?: MappedRequest }> {
  const { authority, service } = options;
  const accessKeyId = accessKeyOf(wire);
  const fn = authority.principalOf(accessKeyId);
  if (!fn) {
    return { deny: denial(service, `The local IAM gate does not know the access key '${accessKeyId ?? '(unsigned)'}': only function sandboxes may call ${service} here`) };
  }
  const badScope = credentialScopeError(wire, { region: authority.scope.region, service }, Date.now());
  if (badScope) {
    options.logger.error(`IAM gate: ${fn.functionName} signed a ${service} request AWS would refuse: ${badScope}`);
    return { fn, deny: denial(service, badScope, 'InvalidSignature') };
  }
  const mapped = mapRequest(service, wire, authority.scope, options.apiId);
  if (!mapped) {
    const what = `${wire.method} ${wire.path} ${String(wire.headers['x-amz-target'] ?? '')}`.trim();
    options.logger.error(`IAM gate: ${fn.functionName} made a ${service} request the gate cannot map to an IAM action (${what}); denied`);
    return { fn, deny: denial(service, `User: ${authority.sessionArn(fn)} made a request the local IAM gate cannot map to an IAM action (${what}); denied`) };
  }
  for (const required of mapped.required) {
    const decision = await authority.authorize(accessKeyOf(wire)!, required);
    if (decision.allowed) continue;
    const message = `User: ${authority.sessionArn(fn)} is not authorized to perform: ${required.action} on resource: ${required.resource} because no identity-based policy allows the ${required.action} action`;
    options.logger.error(`AccessDenied: ${message}`);
    return { fn, mapped, deny: denial(service, message) };
  }
  return { fn, mapped };
}

export async function startGate(options: GateOptions): Promise<Gate> {
  const upstream = new URL(options.upstream);
  const basePath = upstream.pathname.replace(/\/$/, '');
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    const wire: WireRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    const { deny, fn, mapped } = await decide(options, wire);
    if (deny) {
      send(res, deny);
      return;
    }
    const injector = options.faults?.();
    if (options.local && !injector) {
      req.url = `${basePath}${wire.path}`;
      await options.local(req, res, body);
      return;
    }
    const call: GateCall | undefined = injector ? { service: options.service, fn: fn!.name, operation: mapped!.operation, request: wire, input: parseJson(body) } : undefined;
    const fault = call ? injector!.decide(call) : undefined;
    const answer = (response: GateResponse) => {
      send(res, response);
      if (call) injector!.completed?.(call, response.status);
    };
    if (fault?.type === 'respond') {
      answer(fault.response);
      return;
    }
    if (fault?.type === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.type === 'hold') await fault.until.catch(() => undefined);
    if (call && fault?.type !== 'lost') res.on('finish', () => injector!.completed?.(call, res.statusCode));
    const origin = gateOrigin ?? '';
    const rewrite = options.rewriteOrigin === true && origin !== '';
    const outgoing = rewrite ? Buffer.from(body.toString('utf8').split(origin).join(upstream.origin)) : body;
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: wire.method,
        path: `${basePath}${wire.path}`,
        headers: { ...req.headers, host: upstream.host, 'content-length': String(outgoing.length) },
      },
      (upstreamRes) => {
        if (fault?.type === 'lost') {
          // The service did the work; its answer never reaches the caller.
          upstreamRes.resume();
          upstreamRes.on('end', () => answer(fault.response));
          return;
        }
        if (!rewrite) {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
          return;
        }
        readAll(upstreamRes).then((answer) => {
          const text = Buffer.from(answer.toString('utf8').split(upstream.origin).join(origin));
          res.writeHead(upstreamRes.statusCode ?? 502, { ...upstreamRes.headers, 'content-length': String(text.length) });
          res.end(text);
        }, () => res.destroy());
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) send(res, { status: 502, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: error.message }) });
      else res.destroy();
    });
    forward.end(outgoing);
  };
  let gateOrigin: string | undefined;
  const { server, url } = await listenHttp(handle, { host: '127.0.0.1', port: 0 }, options.logger, `${options.service} IAM gate`, { message: 'Internal error' });
  gateOrigin = new URL(url).origin;
  return { url, stop: () => closeServer(server) };
}
