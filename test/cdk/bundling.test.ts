/**
 * The Lambda bundles (lib/bundling.ts): what CDK deploys is what esbuildOptionsFor builds, every
 * bundle builds and loads in a fresh Node process, no module is swapped for a stand-in, each
 * bundle holds exactly the SDK clients its composition root wires, and the published SDK inside
 * the bundles works as deployed: environment credentials sign requests, and the authorizer reads
 * the HS256 secret with the SSM client.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignatureV4 } from '@smithy/signature-v4';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHs256 } from '../../lambdas/auth/jwt.js';
import { FUNCTIONS, type FunctionName } from '../../lambdas/shared/routes.js';
import { DECLARED } from '../../lib/access.js';
import { bundlingOptionsFor, esbuildOptionsFor } from '../../lib/bundling.js';
import { ChatFunction } from '../../lib/constructs/chat-function.js';

const run = promisify(execFile);

const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

const CREDENTIALS = { accessKeyId: 'AKIDBUNDLETEST', secretAccessKey: 'bundle-test-secret', sessionToken: 'bundle-session' };
const REGION = 'eu-west-1';

let dir: string;
const bundles = new Map<FunctionName, Uint8Array>();
/** Input files that contribute bytes to each bundle (esbuild metafile). */
const inputsOf = new Map<FunctionName, string[]>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chat-bundles-'));
  for (const name of FUNCTION_NAMES) {
    const file = join(dir, name, 'index.mjs');
    mkdirSync(join(dir, name), { recursive: true });
    const result = await build({ ...esbuildOptionsFor(name, file), write: false, metafile: true });
    const output = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!;
    writeFileSync(file, output.contents);
    bundles.set(name, output.contents);
    // Only inputs that put bytes in the bundle: esbuild also lists modules it parsed and shook out.
    inputsOf.set(
      name,
      Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([input]) => input)),
    );
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A node:crypto SHA-256 for the SDK's SignatureV4 (the reference signer). */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret ? createHmac('sha256', bytesOf(secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

const referenceSigner = (region = REGION) =>
  new SignatureV4({ credentials: CREDENTIALS, region, service: 'ssm', sha256: Sha256, applyChecksum: false });

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP endpoint that records requests and answers with `respond`. */
async function fakeEndpoint(
  respond: (req: Recorded, index: number) => { status: number; body: unknown; headers?: Record<string, string> },
): Promise<{ url: string; requests: Recorded[]; server: Server }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const out = respond(recorded, requests.length - 1);
      res.writeHead(out.status, { 'content-type': 'application/x-amz-json-1.1', ...out.headers });
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, server };
}

/** Re-signs a received request with the SDK's signer and compares the Authorization header. */
async function verifyWithReferenceSigner(req: Recorded, host: string): Promise<void> {
  const auth = String(req.headers.authorization);
  const signedNames = auth.match(/SignedHeaders=([^,]+)/)![1]!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedNames) headers[name] = String(req.headers[name]);
  const date = String(req.headers['x-amz-date']);
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const signed = await referenceSigner().sign(
    { method: req.method, protocol: 'http:', hostname: host, path: req.url, headers, body: req.body, query: {} },
    { signingDate },
  );
  expect(signed.headers.authorization).toBe(auth);
}

async function runBundle(
  name: FunctionName,
  event: unknown,
  env: Record<string, string>,
): Promise<{ result: unknown; stdout: string }> {
  const script = `
    const { handler } = await import(${JSON.stringify(join(dir, name, 'index.mjs'))});
    const context = { awsRequestId: 'req-1', functionName: 'test-${name}', getRemainingTimeInMillis: () => 5000 };
    try {
      const result = await handler(${JSON.stringify(event)}, context);
      console.log('RESULT:' + JSON.stringify({ ok: result }));
    } catch (error) {
      console.log('RESULT:' + JSON.stringify({ error: error.message }));
    }`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'SILENT', AWS_REGION: REGION, ...env },
    timeout: 30_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT:'));
  if (!line) throw new Error(`no result from ${name}: ${stdout}`);
  return { result: JSON.parse(line.slice('RESULT:'.length)), stdout };
}

const credentialEnv = {
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
};

describe('bundles as deployed', () => {
  it('CDK bundles a function byte for byte like esbuildOptionsFor (the benchmark measures what deploys)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'chat-cdk-bundle-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'BundleOnly');
      new ChatFunction(stack, 'Fn', {
        name: 'authorizer',
        environment: {},
        logRetention: RetentionDays.ONE_WEEK,
        logRemovalPolicy: RemovalPolicy.DESTROY,
      });
      app.synth();
      const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
      expect(assets).toHaveLength(1);
      const deployed = readFileSync(join(outdir, assets[0]!, 'index.mjs'));
      expect(Buffer.compare(deployed, Buffer.from(bundles.get('authorizer')!))).toBe(0);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });


  it('no module is swapped for a stand-in: no alias, no project file outside lambdas/ code', () => {
    for (const name of FUNCTION_NAMES) {
      expect(esbuildOptionsFor(name).alias, name).toBeUndefined();
      expect(Object.keys(bundlingOptionsFor(name).esbuildArgs ?? {}), name).toEqual(['--tree-shaking']);
      const project = inputsOf.get(name)!.filter((i) => !i.includes('node_modules/'));
      expect(project.filter((i) => !/^lambdas\/(handlers|roots|adapters|domain|protocol|shared|auth)\//.test(i)), name).toEqual([]);
    }
  });

  it.each(FUNCTION_NAMES)('%s: holds exactly the SDK clients its composition root declares', (name) => {
    const inputs = inputsOf.get(name)!.join('\n');
    const resources = DECLARED[name].permissions.map((p) => p.resource);
    expect(inputs.includes('@aws-sdk/client-dynamodb/'), 'DynamoDB').toBe(resources.some((r) => r.startsWith('table/')));
    expect(inputs.includes('@aws-sdk/client-sqs/'), 'SQS').toBe(resources.some((r) => r.startsWith('queue/')));
    expect(inputs.includes('@aws-sdk/client-apigatewaymanagementapi/'), '@connections').toBe(resources.includes('websocket/@connections'));
    // The SSM client is held by the bundles that verify tokens (an HS256 secret parameter).
    expect(inputs.includes('@aws-sdk/client-ssm/'), 'SSM').toBe(resources.includes('parameter/auth-secret'));
  });

  it.each(FUNCTION_NAMES)('%s: loads in a fresh node process without network or config', async (name) => {
    // The Lambda runtime's response streaming global, as the sse handler expects it.
    const awslambda = 'globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };';
    const script = `${awslambda} const m = await import(${JSON.stringify(join(dir, name, 'index.mjs'))}); console.log(typeof m.handler);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'SILENT' },
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('function');
  });
});

describe('bundled authorizer with the SSM secret', () => {
  const secret = 'a-long-random-hs256-secret-for-the-bundle-test';
  let ssm: Awaited<ReturnType<typeof fakeEndpoint>>;

  beforeAll(async () => {
    ssm = await fakeEndpoint((req) =>
      req.headers['x-amz-target'] === 'AmazonSSM.GetParameter'
        ? { status: 200, body: { Parameter: { Name: JSON.parse(req.body).Name, Type: 'SecureString', Value: secret } } }
        : { status: 400, body: { __type: 'UnknownOperationException' } },
    );
  });
  afterAll(() => ssm?.server.close());

  const env = () => ({
    ...credentialEnv,
    AUTH_MODE: 'jwt',
    AUTH_SECRET_PARAMETER: '/chat/test/jwt-secret',
    AWS_ENDPOINT_URL_SSM: ssm.url,
  });
  const token = (claims: Record<string, unknown>, key = secret) =>
    signHs256({ sub: 'alice', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 600, ...claims }, key);

  it('HTTP API: a valid bearer token is authorized with {userId, roles}; the secret came from SSM, signed', async () => {
    const event = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:api/$default/POST/api/message',
      identitySource: [`Bearer ${token({})}`],
      headers: { authorization: `Bearer ${token({})}` },
      requestContext: {},
    };
    const { result } = await runBundle('authorizer', event, env());
    expect(result).toEqual({ ok: { isAuthorized: true, context: { userId: 'alice', roles: 'admin' } } });
    const request = ssm.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(JSON.parse(request.body)).toEqual({ Name: '/chat/test/jwt-secret', WithDecryption: true });
    expect(String(request.headers.authorization)).toContain(`Credential=${CREDENTIALS.accessKeyId}/`);
    expect(String(request.headers.authorization)).toContain(`/${REGION}/ssm/aws4_request`);
    expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    await verifyWithReferenceSigner(request, new URL(ssm.url).host);
  });

  it('HTTP API: a token signed with another key is not authorized', async () => {
    const event = { version: '2.0', type: 'REQUEST', headers: { authorization: `Bearer ${token({}, 'another-secret')}` } };
    const { result } = await runBundle('authorizer', event, env());
    expect(result).toEqual({ ok: { isAuthorized: false, context: { userId: '', roles: '' } } });
  });

  it('WebSocket $connect: the query string token yields an Allow policy; a bad one a Deny policy', async () => {
    const methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc/dev/$connect';
    const good = await runBundle('authorizer', { type: 'REQUEST', methodArn, queryStringParameters: { token: token({}) } }, env());
    expect(good.result).toMatchObject({
      ok: {
        principalId: 'alice',
        policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }] },
        context: { userId: 'alice', roles: 'admin' },
      },
    });
    const bad = await runBundle('authorizer', { type: 'REQUEST', methodArn, queryStringParameters: { token: 'x.y.z' } }, env());
    expect(bad.result).toEqual({
      ok: {
        principalId: 'unauthenticated',
        policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: methodArn }] },
      },
    });
  });
});

describe('bundled SDK clients use the environment credentials (the default credential chain)', () => {
  it('wsDisconnect signs its DynamoDB call with AWS_ACCESS_KEY_ID / AWS_SESSION_TOKEN', async () => {
    const dynamo = await fakeEndpoint(() => ({ status: 200, body: {}, headers: { 'content-type': 'application/x-amz-json-1.0' } }));
    try {
      const event = { requestContext: { connectionId: 'conn-1', routeKey: '$disconnect', eventType: 'DISCONNECT', requestId: 'r1' } };
      await runBundle('wsDisconnect', event, { ...credentialEnv, AWS_ENDPOINT_URL: dynamo.url });
      expect(dynamo.requests.length).toBeGreaterThan(0);
      for (const request of dynamo.requests) {
        expect(String(request.headers['x-amz-target'])).toMatch(/^DynamoDB_20120810\./);
        expect(String(request.headers.authorization)).toContain(`Credential=${CREDENTIALS.accessKeyId}/`);
        expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
      }
    } finally {
      dynamo.server.close();
    }
  });
});
