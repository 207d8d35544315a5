/** Helpers of the room suites: signed-in callers of the local runtime (auth on, as deployed). */
import { expect } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { getJson, type JsonResponse, openWs, postJson, type WsClient } from '../local/helpers.js';

export async function tokenFor(rt: Runtime, sub: string, roles: string[] = []): Promise<string> {
  const res = await postJson(`${rt.httpUrl}/api/dev/token`, { sub, roles });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

/** One signed-in user: REST calls with their bearer token, WebSocket and SSE URLs with `?token=`. */
export class User {
  private constructor(
    readonly rt: Runtime,
    readonly id: string,
    readonly token: string,
  ) {}

  static async signIn(rt: Runtime, id: string, roles: string[] = []): Promise<User> {
    return new User(rt, id, await tokenFor(rt, id, roles));
  }

  /** Users signed in under names unique to this run (`alice-x1y2z3`), in the order given. */
  static signInAll(rt: Runtime, names: readonly (string | readonly [string, string[]])[]): Promise<User[]> {
    const suffix = Math.random().toString(36).slice(2, 8);
    return Promise.all(names.map((n) => (typeof n === 'string' ? User.signIn(rt, `${n}-${suffix}`) : User.signIn(rt, `${n[0]}-${suffix}`, n[1]))));
  }

  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  post(path: string, body: unknown): Promise<JsonResponse> {
    return postJson(`${this.rt.httpUrl}${path}`, body, this.auth);
  }

  get(path: string): Promise<JsonResponse> {
    return getJson(`${this.rt.httpUrl}${path}`, this.auth);
  }

  async delete(path: string): Promise<JsonResponse> {
    const res = await fetch(`${this.rt.httpUrl}${path}`, { method: 'DELETE', headers: this.auth });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  /** Connects to `room` and waits for `connected`; rejects with the handshake's status when refused. */
  async connect(room: string): Promise<WsClient> {
    const client = await openWs(`${this.rt.wsUrl}/?room=${encodeURIComponent(room)}&token=${this.token}`);
    await client.nextEvent('connected');
    return client;
  }

  sseUrl(room: string): string {
    return `${this.rt.sseStreamUrl}?room=${encodeURIComponent(room)}&token=${this.token}`;
  }
}
