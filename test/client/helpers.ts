/**
 * Helpers of the client's tests: the local runtime with auth on, clients whose events are recorded
 * from the start (a test can wait for what already happened), and a server-side connection drop
 * through the @connections API with the SDK's client.
 */
import { ApiGatewayManagementApiClient, DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  ChatClient,
  type ChatClientOptions,
  type ChatMessage,
  type ClientEvents,
  type ConnectionState,
  type SocketConstructor,
  type SocketLike,
} from '../../client/src/index.js';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../local/runtime.js';

export function uniqueRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function startAuthRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return startRuntime({
    httpPort: 0,
    wsPort: 0,
    ssePort: 0,
    quiet: true,
    auth: true,
    ...options,
    context: { ratePerUser: 100_000, ratePerConnection: 100_000, ...options.context },
  });
}

/** Values as they arrive, kept from the start; `waitFor` resolves on one already seen or still to come. */
export class Log<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<{ test: (items: T[]) => boolean; resolve: () => void }>();

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(this.items)) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Resolves when `test(items)` holds; rejects after `timeoutMs` with what was seen. */
  until(test: (items: T[]) => boolean, what: string, timeoutMs = 15_000): Promise<T[]> {
    if (test(this.items)) return Promise.resolve(this.items);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.items);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; seen ${this.items.length}: ${JSON.stringify(this.items).slice(-600)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

/** A ChatClient with every event it emits recorded. */
export class RecordedClient {
  readonly messages = new Log<ChatMessage>();
  readonly broadcasts = new Log<ChatMessage>();
  readonly states = new Log<ConnectionState>();
  readonly connections = new Log<ClientEvents['connected']>();
  readonly errors = new Log<ClientEvents['error']>();
  readonly resumes = new Log<ClientEvents['resumed']>();

  constructor(readonly client: ChatClient) {
    client.on('message', (m) => this.messages.push(m));
    client.on('broadcast', (m) => this.broadcasts.push(m));
    client.on('state', ({ state }) => this.states.push(state));
    client.on('connected', (c) => this.connections.push(c));
    client.on('error', (e) => this.errors.push(e));
    client.on('resumed', (r) => this.resumes.push(r));
  }

  /** Waits for the `open` state number `n` (1: first connection, 2: after one reconnect, ...). */
  opened(n = 1, timeoutMs?: number): Promise<ConnectionState[]> {
    return this.states.until((s) => s.filter((x) => x === 'open').length >= n, `open #${n}`, timeoutMs);
  }

  /** Waits for the greeting of connection number `n` and returns its connection id. */
  async connectionId(n = 1): Promise<string> {
    const seen = await this.connections.until((c) => c.length >= n, `connected #${n}`);
    return seen[n - 1]!.connection_id;
  }

  ids(): string[] {
    return this.messages.items.map((m) => m.id);
  }
}

const open: RecordedClient[] = [];

export function recordedClient(rt: Runtime, options: Partial<ChatClientOptions> & { room: string }): RecordedClient {
  const recorded = new RecordedClient(
    new ChatClient({
      wsUrl: rt.wsUrl,
      httpUrl: rt.httpUrl,
      sseUrl: rt.sseUrl,
      reconnect: { baseMs: 50, maxMs: 1000 },
      ...options,
    }),
  );
  open.push(recorded);
  return recorded;
}

export function closeClients(): void {
  for (const recorded of open.splice(0)) recorded.client.close();
}

/** Closes a connection from the service side: `DELETE @connections/{id}`, signed by the SDK. */
export async function dropConnection(rt: Runtime, connectionId: string): Promise<void> {
  const management = new ApiGatewayManagementApiClient({
    endpoint: rt.managementUrl,
    region: rt.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
  } finally {
    management.destroy();
  }
}

/**
 * A WebSocket (Node's global one) that shows each server frame to `intercept` first: returning
 * false hides the frame from the client, as a lost reply would be. `intercept` may also close the
 * socket.
 */
export function interceptedSocket(intercept: (frame: { event?: string; data?: unknown }, socket: WebSocket) => boolean): SocketConstructor {
  return class InterceptedSocket implements SocketLike {
    private readonly inner: WebSocket;
    onopen: SocketLike['onopen'] = null;
    onmessage: SocketLike['onmessage'] = null;
    onclose: SocketLike['onclose'] = null;
    onerror: SocketLike['onerror'] = null;

    constructor(url: string) {
      this.inner = new WebSocket(url);
      this.inner.onopen = (event) => this.onopen?.(event);
      this.inner.onclose = (event) => this.onclose?.(event);
      this.inner.onerror = (event) => this.onerror?.(event);
      this.inner.onmessage = (event) => {
        if (intercept(JSON.parse(String(event.data)), this.inner)) this.onmessage?.(event);
      };
    }
    get readyState() {
      return this.inner.readyState;
    }
    send(data: string) {
      this.inner.send(data);
    }
    close(code?: number, reason?: string) {
      this.inner.close(code, reason);
    }
  };
}
