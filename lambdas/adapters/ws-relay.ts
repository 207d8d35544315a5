/**
 * A WebSocket client of the service's own WebSocket API, used by the SSE function: it joins the
 * stream's room like any client and relays what fan-out pushes to it, so an idle SSE stream costs
 * no database reads and a new message reaches it as fast as it reaches WebSocket clients.
 *
 * It uses the `ws` package rather than Node's global WebSocket: the global one runs its handshake
 * through undici's fetch machinery, whose first use cost the SSE cold start 20-40 ms more (measured
 * in the cold-start bench); `ws` opens it with the http and crypto modules the SDK has loaded.
 */
import WebSocket from 'ws';
import type { ServerEvent } from '../domain/model.js';

export interface RelayOptions {
  /** wss:// URL of the WebSocket API stage. */
  url: string;
  room: string;
  token?: string;
  /** Called for every server event pushed to the relay connection. */
  onEvent: (event: ServerEvent) => void;
  /** Called once when the connection closes for any reason. */
  onClose: () => void;
  /** How long to wait for the handshake. */
  timeoutMs?: number;
  /** Aborts the handshake (the promise rejects), or closes the connection if it is already open. */
  signal?: AbortSignal;
}

export interface Relay {
  /** Keeps the connection from API Gateway's 10-minute idle timeout. */
  ping(): void;
  close(): void;
  /** Settles once the connection has closed (whichever side closed it). */
  closed: Promise<void>;
}

/**
 * Opens the relay and resolves once the handshake completed. API Gateway completes it only after
 * `$connect` returned, i.e. once the connection's record is stored and the connection is postable:
 * from then on every fan-out that reads the room reaches it. The `connected` greeting comes later,
 * through a task (no fan-out waits for it), so the stream does not wait for it either.
 */
export async function openRelay(options: RelayOptions): Promise<Relay> {
  const url = new URL(options.url);
  url.searchParams.set('room', options.room);
  if (options.token) url.searchParams.set('token', options.token);
  // No permessage-deflate: API Gateway does not negotiate it.
  const socket = new WebSocket(url.toString(), { perMessageDeflate: false });
  let closed = false;
  let settleClosed!: () => void;
  const closedPromise = new Promise<void>((resolve) => {
    settleClosed = resolve;
  });
  return new Promise<Relay>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('relay connection timed out'));
      socket.close();
    }, options.timeoutMs ?? 5000);
    const relay: Relay = {
      ping: () => {
        if (socket.readyState === 1) socket.send(JSON.stringify({ action: 'ping', data: {} }));
      },
      close: () => {
        if (!closed) socket.close(1000, 'stream ended');
      },
      closed: closedPromise,
    };
    options.signal?.addEventListener('abort', () => relay.close(), { once: true });
    socket.addEventListener('open', () => {
      clearTimeout(timer);
      resolve(relay);
    });
    socket.addEventListener('message', (event) => {
      let frame: ServerEvent;
      try {
        frame = JSON.parse(String(event.data)) as ServerEvent;
      } catch {
        return;
      }
      // The greeting is for clients that show it; the relay has nothing to relay in it.
      if (frame.event === 'connected') return;
      options.onEvent(frame);
    });
    socket.addEventListener('close', () => {
      clearTimeout(timer);
      settleClosed();
      if (closed) return;
      closed = true;
      reject(new Error('relay connection closed'));
      options.onClose();
    });
    socket.addEventListener('error', () => {
      // 'close' follows and reports it.
    });
  });
}
