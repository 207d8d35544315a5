/**
 * Real local HTTP servers (port 0) for the auth tests: a JWKS endpoint whose answer a test can
 * change, and an SSM endpoint that answers GetParameter (awsJson1_1, as the SDK speaks it).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export interface TestServer {
  url: string;
  /** Requests served so far. */
  hits: number;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

const closer = (server: Server) => () =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/** Signs `claims` with a key; `header` overrides the protected header (e.g. another kid). */
export function sign(
  claims: JWTPayload,
  key: { privateKey: CryptoKey | Uint8Array; alg: string; kid?: string },
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface JwksServer extends TestServer {
  /** What the server answers: a key set, or an HTTP status. */
  answer: { keys: JWK[] } | { status: number };
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { hits: 0, answer: { keys } as JwksServer['answer'] };
  const { server, url } = await listen((_req, _body, res) => {
    state.hits++;
    if ('status' in state.answer) {
      res.writeHead(state.answer.status, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.answer.keys }));
  });
  return {
    url: `${url}/.well-known/jwks.json`,
    get hits() {
      return state.hits;
    },
    get answer() {
      return state.answer;
    },
    set answer(value) {
      state.answer = value;
    },
    close: closer(server),
  };
}

export interface SsmServer extends TestServer {
  parameters: Map<string, string>;
  /** When set, every request is answered with this status (an SSM outage). */
  failWith?: number;
  /** Names asked for, with the `WithDecryption` flag. */
  requests: { name: string; withDecryption: boolean; signed: boolean }[];
}

export async function startSsmServer(parameters: Record<string, string>): Promise<SsmServer> {
  const state: Omit<SsmServer, 'url' | 'close'> = { hits: 0, parameters: new Map(Object.entries(parameters)), requests: [] };
  const reply = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${state.hits}` }).end(JSON.stringify(body));
  const { server, url } = await listen((req, body, res) => {
    state.hits++;
    if (state.failWith) return reply(res, state.failWith, { __type: 'InternalServerError', message: 'unavailable' });
    if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter') {
      return reply(res, 400, { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) });
    }
    const input = JSON.parse(body) as { Name: string; WithDecryption?: boolean };
    state.requests.push({
      name: input.Name,
      withDecryption: input.WithDecryption === true,
      signed: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256'),
    });
    const value = state.parameters.get(input.Name);
    if (value === undefined) return reply(res, 400, { __type: 'ParameterNotFound', message: `${input.Name} not found` });
    reply(res, 200, { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1 } });
  });
  return Object.assign(state, { url, close: closer(server) }) as SsmServer;
}
