/**
 * Invokes the functions as deployed (their bundles in sandboxes of the current test environment,
 * test/support/env.ts) with real event shapes, and decodes their results for assertions.
 */
import type { WsResult } from '../../lambdas/handlers/common/ws-event.js';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { expect } from 'vitest';
import {
  connectionId,
  type HttpEventInit,
  httpEvent,
  invokeFunction,
  type TestEnv,
  wsConnectEvent,
  wsDisconnectEvent,
  wsMessageEvent,
} from './env.js';
import type { ServerFrame } from './recording-gateway.js';

export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined for an empty body); each test asserts the shape it expects. */
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of many shapes, read field by field in assertions
  body: any;
  raw: string;
}

export interface ErrorShape {
  error: { code: string; message: string };
}

export async function rest(method: string, target: string, init: HttpEventInit = {}): Promise<RestResponse> {
  const result = (await invokeFunction('http', httpEvent(method, target, init))) as APIGatewayProxyStructuredResultV2;
  const raw = typeof result.body === 'string' ? result.body : '';
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(result.headers ?? {})) headers[key.toLowerCase()] = String(value);
  return { status: result.statusCode ?? 200, headers, body: raw === '' ? undefined : JSON.parse(raw), raw };
}

export function wsConnect(
  connectionId: string,
  options: { query?: Record<string, string>; authorizer?: Record<string, unknown> } = {},
): Promise<WsResult> {
  return invokeFunction('wsConnect', wsConnectEvent(connectionId, options)) as Promise<WsResult>;
}

export function wsDisconnect(connectionId: string): Promise<WsResult> {
  return invokeFunction('wsDisconnect', wsDisconnectEvent(connectionId)) as Promise<WsResult>;
}

/** Sends one client frame; returns the route response (the reply frame the sender receives). */
export async function wsSendRaw(connectionId: string, frame: unknown, options: { base64?: boolean } = {}): Promise<WsResult> {
  const event = wsMessageEvent(connectionId, frame);
  if (options.base64 && event.body) {
    event.body = Buffer.from(event.body, 'utf8').toString('base64');
    event.isBase64Encoded = true;
  }
  return invokeFunction('wsMessage', event) as Promise<WsResult>;
}

export async function wsSend(connectionId: string, frame: unknown, options: { base64?: boolean } = {}): Promise<ServerFrame> {
  const result = await wsSendRaw(connectionId, frame, options);
  if (result.statusCode !== 200 || result.body === undefined) {
    throw new Error(`ws-message answered ${result.statusCode} without a reply frame`);
  }
  return JSON.parse(result.body) as ServerFrame;
}

/** Connects clients (name → room), delivers their `connected` greetings, then forgets the recorded frames. */
export async function connectClients(env: TestEnv, rooms: Record<string, string>): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [name, room] of Object.entries(rooms)) {
    const id = connectionId(`${name}-`);
    expect((await wsConnect(id, { query: { room } })).statusCode).toBe(200);
    ids[name] = id;
  }
  await env.drainTasks();
  // Besides its greeting a connection may get `presence` (another user came online in its room).
  for (const id of Object.values(ids)) expect(env.gateway.eventsFor(id).map((f) => f.event).filter((e) => e !== 'presence')).toEqual(['connected']);
  env.gateway.reset();
  return ids;
}
