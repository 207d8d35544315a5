/**
 * A recording `@connections` endpoint: a real HTTP server on loopback that answers the API Gateway
 * management API the way AWS does, for the SDK's ApiGatewayManagementApiClient.
 *
 * - `POST {stage}/@connections/{id}` (id URL-encoded by the SDK) records the body per connection
 *   and answers 200; a connection marked gone answers 410 with `x-amzn-ErrorType: GoneException`.
 * - `GET` answers the connection's metadata (or 410), `DELETE` closes it (204, then it is gone).
 * - Faults: `failNext(id, status, n)` answers the next n requests for that id with
 *   LimitExceededException (429), an internal error (500), GoneException (410, a connection not
 *   postable yet), BadRequestException (400) or ForbiddenException (403), then behaves normally.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  connectionId: string;
  /** Status the gateway answered with. */
  status: number;
  /** Request body as UTF-8 (POST only). */
  body: string;
  /** Whether the request carried a SigV4 Authorization header. */
  signed: boolean;
  contentType: string | undefined;
}

export interface ServerFrame {
  event: string;
  data: unknown;
}

/** 410 models a connection that is not postable yet (before `$connect` returns); 400/403 are permanent errors. */
export type FaultStatus = 400 | 403 | 410 | 429 | 500;

interface Fault {
  status: FaultStatus;
  remaining: number;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestException',
  410: 'GoneException',
  429: 'LimitExceededException',
  500: 'InternalServerErrorException',
  403: 'ForbiddenException',
  404: 'NotFoundException',
};

export class RecordingGateway {
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  private readonly gone = new Set<string>();
  private readonly faults = new Map<string, Fault>();
  private readonly connectedAt = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    /** Base URL including the stage path, as API Gateway's stage callback URL. */
    readonly endpoint: string,
    private readonly stagePath: string,
  ) {}

  static async start(options: { stage?: string } = {}): Promise<RecordingGateway> {
    const stage = options.stage ?? 'dev';
    const stagePath = stage ? `/${stage}` : '';
    let gateway: RecordingGateway | undefined;
    const server = createServer((req, res) => {
      gateway?.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ message: String(error) }));
      });
    });
    server.keepAliveTimeout = 1000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    gateway = new RecordingGateway(server, `http://127.0.0.1:${port}${stagePath}`, stagePath);
    return gateway;
  }

  /** Marks a connection as closed: every request for it answers 410 GoneException. */
  markGone(connectionId: string): void {
    this.gone.add(connectionId);
  }

  isGone(connectionId: string): boolean {
    return this.gone.has(connectionId);
  }

  /** The next `times` requests for this connection answer `status`. */
  failNext(connectionId: string, status: FaultStatus, times: number): void {
    this.faults.set(connectionId, { status, remaining: times });
  }

  /** Forgets recorded requests, gone marks and faults. */
  reset(): void {
    this.requests.length = 0;
    this.gone.clear();
    this.faults.clear();
    this.connectedAt.clear();
  }

  /** Bodies of the POSTs that were accepted (200) for a connection, in order. */
  framesFor(connectionId: string): string[] {
    return this.requests
      .filter((r) => r.method === 'POST' && r.connectionId === connectionId && r.status === 200)
      .map((r) => r.body);
  }

  /** Accepted frames of a connection, parsed as the JSON envelope `{"event", "data"}`. */
  eventsFor(connectionId: string): ServerFrame[] {
    return this.framesFor(connectionId).map((frame) => JSON.parse(frame) as ServerFrame);
  }

  /** Every attempt (any status) to post to a connection. */
  attemptsFor(connectionId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.connectionId === connectionId);
  }

  /** Connection ids that got at least one accepted frame. */
  recipients(): string[] {
    return [...new Set(this.requests.filter((r) => r.method === 'POST' && r.status === 200).map((r) => r.connectionId))];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connectionIdOf(url: string): string | undefined {
    const path = url.split('?')[0] ?? '';
    const prefix = `${this.stagePath}/`;
    if (!path.startsWith(prefix)) return undefined;
    const [resource, encodedId, ...rest] = path.slice(prefix.length).split('/');
    if (rest.length > 0 || !encodedId) return undefined;
    if (resource !== '@connections' && resource !== '%40connections') return undefined;
    try {
      return decodeURIComponent(encodedId);
    } catch {
      return undefined;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const connectionId = this.connectionIdOf(req.url ?? '');
    if (connectionId === undefined) {
      this.reply(res, 404, { message: `No resource at ${req.url}` });
      return;
    }
    const status = this.statusFor(method, connectionId);
    this.requests.push({
      method,
      connectionId,
      status,
      body: method === 'POST' ? body : '',
      signed: typeof req.headers.authorization === 'string' && req.headers.authorization.startsWith('AWS4-HMAC-SHA256'),
      contentType: req.headers['content-type'],
    });
    if (status !== 200) {
      this.reply(res, status, { message: ERROR_TYPES[status] ?? 'Error' });
      return;
    }
    if (method === 'POST') {
      if (!this.connectedAt.has(connectionId)) this.connectedAt.set(connectionId, new Date().toISOString());
      this.reply(res, 200);
    } else if (method === 'GET') {
      const at = this.connectedAt.get(connectionId) ?? new Date().toISOString();
      // The wire names are camelCase (jsonName), as API Gateway answers.
      this.reply(res, 200, {
        connectedAt: at,
        lastActiveAt: new Date().toISOString(),
        identity: { sourceIp: '127.0.0.1', userAgent: 'recording-gateway' },
      });
    } else if (method === 'DELETE') {
      this.gone.add(connectionId);
      res.statusCode = 204;
      res.end();
    } else {
      this.reply(res, 404, { message: `Unsupported method ${method}` });
    }
  }

  private statusFor(method: string, connectionId: string): number {
    if (this.gone.has(connectionId)) return 410;
    const fault = this.faults.get(connectionId);
    if (fault && fault.remaining > 0) {
      fault.remaining--;
      if (fault.remaining === 0) this.faults.delete(connectionId);
      return fault.status;
    }
    return method === 'POST' || method === 'GET' || method === 'DELETE' ? 200 : 404;
  }

  private reply(res: ServerResponse, status: number, body?: unknown): void {
    res.statusCode = status;
    res.setHeader('x-amzn-RequestId', `req-${this.requests.length}`);
    if (status >= 400) res.setHeader('x-amzn-ErrorType', ERROR_TYPES[status] ?? 'UnknownError');
    if (body === undefined) {
      res.setHeader('content-length', '0');
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  }
}
