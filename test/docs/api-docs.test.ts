/**
 * The API descriptions in docs/ are generated (scripts/api-docs.ts): they must match what the
 * generator produces now, validate as OpenAPI 3.1 and AsyncAPI 3, carry only examples their
 * schemas accept, agree with the product's codecs and SSE framing, and describe what the handlers
 * really answer (every documented request example is sent to them).
 */
import '../support/quiet.js';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Parser } from '@asyncapi/parser';
import { WebSocketServer } from 'ws';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { connectedEvent } from '../../lambdas/domain/connections.js';
import { ChatError, toErrorBody } from '../../lambdas/domain/errors.js';
import { checkMedia } from '../../lambdas/domain/media.js';
import { buildMessage } from '../../lambdas/domain/messages.js';
import type { ChatMessage, PublishedEvent, StreamItem } from '../../lambdas/domain/model.js';
import { ulidFloor } from '../../lambdas/domain/ids.js';
import { formatSse } from '../../lambdas/domain/sse.js';
import { jsonCodec } from '../../lambdas/protocol/json-codec.js';
import { socketioCodec } from '../../lambdas/protocol/socketio-codec.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { HTTP_ROUTES, WS_ACTIONS, WS_EVENTS, type WsEvent } from '../../lambdas/shared/routes.js';
import { HTTP_DOCS } from '../../scripts/api-docs/http.js';
import { API_DOCUMENTS, apiDocumentAt, apiDocuments, generateApiDocuments } from '../../scripts/api-docs/index.js';
import { routeKeyOf } from '../../local/http-api.js';
import { CONNECTION_ID } from '../../scripts/api-docs/examples.js';
import { SOCKETIO_FRAMES } from '../../scripts/api-docs/socketio.js';
import { SSE_MESSAGE_DOCS } from '../../scripts/api-docs/sse.js';
import { WS_ACTION_DOCS, WS_EVENT_DOCS } from '../../scripts/api-docs/websocket.js';
import { ERROR_CODES, chatMessageSchema, connectedEventSchema, errorDetailSchema, publishedEventSchema } from '../../scripts/api-docs/wire.js';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { authorizeHttp } from '../../local/authorizers.js';
import { connectionId, functionUrlEvent, httpEvent, startTestEnv, type TestEnv } from '../support/env.js';
import { StreamCapture } from '../support/stream-capture.js';
import { wsConnect, wsSend, wsSendRaw } from '../support/invoke.js';

type Json = Record<string, unknown>;

const generated = generateApiDocuments();
const openapi = generated.documents.openapi as Json;
const asyncapi = generated.documents.asyncapi as Json;

function at(document: unknown, pointer: string): unknown {
  let node = document;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = (node as Json)[key];
  }
  return node;
}

const segment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** JSON pointers of every example value in a document, wherever it sits. */
function examplePointers(node: unknown, pointer = ''): string[] {
  if (node === null || typeof node !== 'object') return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    const here = `${pointer}/${segment(key)}`;
    if (key === 'example') found.push(here);
    else if (key === 'examples' && Array.isArray(value)) {
      value.forEach((item, index) => {
        const itemPointer = `${here}/${index}`;
        if (item && typeof item === 'object' && ('payload' in item || 'headers' in item)) {
          if ('payload' in item) found.push(`${itemPointer}/payload`);
          if ('headers' in item) found.push(`${itemPointer}/headers`);
        } else found.push(itemPointer);
      });
    } else if (key === 'examples' && value && typeof value === 'object') {
      for (const name of Object.keys(value)) found.push(`${here}/${segment(name)}/value`);
    } else found.push(...examplePointers(value, here));
  }
  return found;
}

const asyncMessage = (id: string) => (asyncapi.components as { messages: Record<string, Json> }).messages[id]!;
const messageExamples = (id: string) => (asyncMessage(id).examples ?? []) as Array<{ name: string; summary: string; payload: unknown; headers?: Json }>;

describe('API documents', () => {
  it('are committed as the generator writes them now', async () => {
    const committed = await apiDocuments();
    for (const name of Object.keys(API_DOCUMENTS) as Array<keyof typeof API_DOCUMENTS>) {
      expect(committed[name] === generated.files[name], `${API_DOCUMENTS[name].file} is stale: run npm run docs:api`).toBe(true);
    }
  });

  it('are generated deterministically', () => {
    expect(generateApiDocuments().files).toEqual(generated.files);
  });

  it('validate as OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openapi));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('parse as AsyncAPI 3 with no error or warning', async () => {
    const { document, diagnostics } = await new Parser().parse(generated.files.asyncapi);
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.message} at ${d.path.join('/')}`)).toEqual([]);
    expect(document?.version()).toMatch(/^3\./);
    const operations = document!.operations().all().map((op) => op.id());
    for (const action of WS_ACTIONS) expect(operations).toContain(`send.${action}`);
    for (const event of WS_EVENTS) expect(operations).toContain(`receive.${event}`);
    expect(document!.channels().all().map((c) => c.id()).sort()).toEqual(['socketio', 'sse', 'websocket']);
  });

  it('document every REST route, WebSocket action and server event of the route table', () => {
    const paths = openapi.paths as Record<string, Record<string, { operationId: string; security: unknown[] }>>;
    for (const route of HTTP_ROUTES) {
      const operation = paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(route.operation);
      expect(operation!.security.length > 0).toBe(route.auth === 'user');
    }
    expect(Object.values(paths).flatMap((item) => Object.keys(item))).toHaveLength(HTTP_ROUTES.length);
    for (const action of WS_ACTIONS) {
      expect(asyncMessage(`action.${action}`).name).toBe(action);
      expect(asyncMessage(`socketio.action.${action}`).name).toBe(action);
    }
    for (const event of WS_EVENTS) {
      expect(asyncMessage(`event.${event}`).name).toBe(event);
      expect(asyncMessage(`socketio.event.${event}`).name).toBe(event);
    }
  });

  it('fail to generate, naming what is missing, when a route, action or event has no description', () => {
    const routes = HTTP_ROUTES as unknown as Array<(typeof HTTP_ROUTES)[number]>;
    routes.push({ method: 'GET', path: '/api/rooms', operation: 'rooms' as never, description: 'Rooms', auth: 'user' });
    try {
      expect(() => generateApiDocuments()).toThrow('no description for GET /api/rooms (operation "rooms"); add it to HTTP_DOCS');
    } finally {
      routes.pop();
    }
    const actions = WS_ACTIONS as unknown as string[];
    actions.push('wave');
    try {
      expect(() => generateApiDocuments()).toThrow('no description for WebSocket action "wave"; add it to WS_ACTION_DOCS');
    } finally {
      actions.pop();
    }
    const events = WS_EVENTS as unknown as string[];
    events.push('wave');
    try {
      expect(() => generateApiDocuments()).toThrow('no description for WebSocket event "wave"; add it to WS_EVENT_DOCS');
    } finally {
      events.pop();
    }
    expect(generateApiDocuments().files).toEqual(generated.files);
  });

  it('contain no example that did not go through its schema, and every one parses', () => {
    for (const name of ['openapi', 'asyncapi'] as const) {
      const document = generated.documents[name];
      const placed = generated.examples[name];
      expect(examplePointers(document).sort(), name).toEqual(placed.map((e) => e.pointer).sort());
      for (const ex of placed) {
        expect(at(document, ex.pointer), `${name} ${ex.pointer}`).toEqual(ex.value);
        const result = z.safeParse(ex.schema, ex.value);
        expect(result.success, `${ex.what} "${ex.name}": ${result.error?.message}`).toBe(true);
      }
    }
    expect(generated.examples.openapi.length).toBeGreaterThan(20);
    expect(generated.examples.asyncapi.length).toBeGreaterThan(40);
  });

  it('state the limits of limits.ts as constraints', () => {
    const schemas = (openapi.components as { schemas: Record<string, { properties: Record<string, Json> }> }).schemas;
    expect(schemas.MessageInput!.properties.room!.maxLength).toBe(LIMITS.roomMaxChars);
    expect(schemas.MessageInput!.properties.sender!.maxLength).toBe(LIMITS.senderMaxChars);
    expect(schemas.PublishEventInput!.properties.event_type!.maxLength).toBe(LIMITS.eventTypeMaxChars);
    expect(String(schemas.MessageInput!.properties.content!.description)).toContain(String(LIMITS.mediaMaxBytes));
    expect(String(schemas.MessageInput!.properties.content!.description)).toContain(String(LIMITS.textMaxChars));
    const history = (openapi.paths as Record<string, Record<string, { parameters: Array<{ name: string; schema: Json }> }>>)['/api/messages']!.get!;
    const limit = history.parameters.find((p) => p.name === 'limit')!.schema;
    expect([limit.minimum, limit.maximum, limit.default]).toEqual([1, LIMITS.historyMaxPage, LIMITS.historyDefaultPage]);
    expect(at(openapi, '/components/schemas/ErrorResponse/properties/error/properties/code/enum')).toEqual([...ERROR_CODES]);
    expect(at(asyncapi, '/components/schemas/Error/properties/code/enum')).toEqual([...ERROR_CODES]);
  });

  it('carry JSON-envelope examples that the product codec reads and writes as shown', () => {
    for (const action of WS_ACTIONS) {
      for (const ex of messageExamples(`action.${action}`)) {
        const decoded = jsonCodec.decode(JSON.stringify(ex.payload));
        expect(decoded).toMatchObject({ kind: 'action', action });
        const data = (decoded as { data: unknown }).data;
        expect(z.safeParse(WS_ACTION_DOCS[action].data, data).success, `${action} ${ex.name}`).toBe(true);
      }
    }
    for (const event of WS_EVENTS) {
      for (const ex of messageExamples(`event.${event}`)) {
        const { data } = ex.payload as { data: unknown };
        expect(jsonCodec.encode({ event, data })).toBe(JSON.stringify(ex.payload));
      }
    }
  });

  it('carry Socket.IO examples that the product codec reads and writes as shown', () => {
    for (const action of WS_ACTIONS) {
      for (const ex of messageExamples(`socketio.action.${action}`)) {
        const frame = `42${JSON.stringify(ex.payload)}`;
        expect(ex.summary.endsWith(frame)).toBe(true);
        const decoded = socketioCodec.decode(frame);
        expect(decoded).toMatchObject({ kind: 'action', action, data: (ex.payload as unknown[])[1] });
        // And with an acknowledgement id, as `emit(name, data, callback)` sends it.
        expect(socketioCodec.decode(`427${JSON.stringify(ex.payload)}`)).toMatchObject({ action, ackId: 7 });
      }
    }
    for (const event of WS_EVENTS) {
      for (const ex of messageExamples(`socketio.event.${event}`)) {
        const [name, data] = ex.payload as [string, unknown];
        expect(socketioCodec.encode({ event: name, data })).toBe(`42${JSON.stringify(ex.payload)}`);
        expect(ex.summary.endsWith(`42${JSON.stringify(ex.payload)}`)).toBe(true);
      }
    }
    const frames = (name: keyof typeof SOCKETIO_FRAMES) => SOCKETIO_FRAMES[name]!.examples;
    const open = frames('open')[0]!;
    expect(socketioCodec.openingFrames(CONNECTION_ID)).toEqual([`0${JSON.stringify(open.payload)}`]);
    const connect = frames('connect')[0]!;
    expect(socketioCodec.decode(`40${JSON.stringify(connect.payload)}`)).toEqual({ kind: 'control', replies: [], connect: { auth: connect.payload } });
    const accepted = frames('connect_accepted')[0]!;
    expect(socketioCodec.acceptConnect!(CONNECTION_ID)).toEqual([`40${JSON.stringify(accepted.payload)}`]);
    const refused = frames('connect_error')[0]!;
    expect(socketioCodec.decode('40/admin,')).toEqual({ kind: 'control', replies: [`${refused.prefix}${JSON.stringify(refused.payload)}`] });
    const [pong, rejected] = frames('ack');
    expect(socketioCodec.encodeReply({ event: 'pong', data: (pong!.payload as unknown[])[0] }, 1)).toBe(`${pong!.prefix}${JSON.stringify(pong!.payload)}`);
    const error = ((rejected!.payload as unknown[])[0] as { error: unknown }).error;
    expect(socketioCodec.encodeReply({ event: 'error', data: error }, 2)).toBe(`${rejected!.prefix}${JSON.stringify(rejected!.payload)}`);
    expect(() => socketioCodec.decode(`422["join",{}]`)).not.toThrow();
  });

  it('carry SSE examples exactly as the stream frames them', () => {
    for (const id of ['sse.message', 'sse.broadcast', 'sse.published']) {
      for (const ex of messageExamples(id)) {
        const headers = ex.headers as { id: string; event: string };
        const item: StreamItem =
          id === 'sse.published'
            ? { kind: 'event', stream: 'global', event: ex.payload as PublishedEvent }
            : { kind: id === 'sse.message' ? 'message' : 'broadcast', stream: 'x', message: ex.payload as ChatMessage };
        expect(formatSse(item)).toBe(`id: ${headers.id}\nevent: ${headers.event}\ndata: ${JSON.stringify(ex.payload)}\n\n`);
      }
    }
  });

  it('carry media examples that pass the media checks, and message examples the service accepts', () => {
    const drafts: Array<{ type: string; content: string; format?: string }> = [];
    for (const doc of Object.values(HTTP_DOCS)) for (const ex of doc.body?.examples ?? []) if ('content' in (ex.value as Json)) drafts.push(ex.value as never);
    for (const ex of WS_ACTION_DOCS.message.examples) drafts.push(ex.data as never);
    for (const ex of WS_ACTION_DOCS.send_image.examples) drafts.push({ type: 'image', content: (ex.data as { image: string }).image, format: (ex.data as { format: string }).format });
    for (const ex of WS_ACTION_DOCS.send_audio.examples) drafts.push({ type: 'audio', content: (ex.data as { audio: string }).audio, format: (ex.data as { format: string }).format });
    expect(drafts.filter((d) => d.type !== 'text').length).toBeGreaterThanOrEqual(4);
    for (const draft of drafts) {
      if (draft.type !== 'text') expect(() => checkMedia(draft.type as 'image', draft.content, draft.format)).not.toThrow();
      expect(chatMessageSchema.safeParse(buildMessage({ ...draft, sender: 'alice' }, 'general', Date.now())).success).toBe(true);
    }
  });

  it('describe the shapes the domain builds: messages, the greeting, every error code', () => {
    const greeting = connectedEvent({ connectionId: CONNECTION_ID, room: 'general', userId: 'alice' });
    expect(connectedEventSchema.safeParse(greeting.data).success).toBe(true);
    for (const code of ERROR_CODES) {
      expect(errorDetailSchema.safeParse(toErrorBody(new ChatError(code, 'x')).body).success, code).toBe(true);
    }
    expect(errorDetailSchema.safeParse(toErrorBody(new Error('boom')).body).success).toBe(true);
  });

  it('are served at paths that no route of the HTTP API claims', async () => {
    for (const { path } of Object.values(API_DOCUMENTS)) {
      expect(HTTP_ROUTES.some((route) => route.path === path)).toBe(false);
      expect(routeKeyOf('GET', path)).toBe('$default');
    }
    expect(JSON.parse((await apiDocumentAt('/api/openapi.json'))!).openapi).toBe('3.1.0');
    expect(JSON.parse((await apiDocumentAt('/api/asyncapi.json'))!).asyncapi).toMatch(/^3\./);
    expect(await apiDocumentAt('/api/health')).toBeUndefined();
  });
});

/**
 * Every documented request example goes to the real handlers (on dynalite + fauxqs, auth on as in
 * AWS: the authorizer's context names the caller) and must get the documented status and a body
 * the documented answer schema accepts.
 */
describe('API documents against the handlers', () => {
  let env: TestEnv;
  let relayApi: WebSocketServer;
  const caller = { userId: 'alice', roles: 'admin' };

  beforeAll(async () => {
    // Stands in for the WebSocket API the SSE stream subscribes through: it greets the relay, and
    // the stream then reads the history after Last-Event-ID.
    relayApi = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(relayApi, 'listening');
    relayApi.on('connection', (socket) => socket.send(JSON.stringify({ event: 'connected', data: { connection_id: 'relay', room: 'general' } })));
    // Auth as deployed: the functions verify tokens signed with the environment's secret.
    env = await startTestEnv({ auth: true, webSocketBase: `ws://127.0.0.1:${(relayApi.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await env?.stop();
    for (const client of relayApi?.clients ?? []) client.terminate();
    await new Promise((resolve) => relayApi?.close(resolve));
  });

  const restCall = async (method: string, path: string, body?: unknown) => {
    const event = httpEvent(method, path, body === undefined ? {} : { body });
    (event.requestContext as { authorizer?: unknown }).authorizer = { lambda: caller };
    return (await env.invoke('http', event)) as APIGatewayProxyStructuredResultV2;
  };
  const authorizer = (event: unknown) => env.invoke('authorizer', event);

  it('answers every REST request example as documented', async () => {
    let sent = 0;
    for (const route of HTTP_ROUTES) {
      const doc = HTTP_DOCS[route.operation];
      const success = doc.answers[0]!;
      const queries = doc.query?.examples.map((e) => new URLSearchParams(e.value as Record<string, string>).toString()) ?? [''];
      const bodies = doc.body?.examples.map((e) => e.value) ?? [undefined];
      for (const query of queries) {
        for (const body of bodies) {
          // Templated paths (`/api/rooms/{room}/members`) get the values of their documented example.
          const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(doc.path?.example[name] ?? name));
          const result = await restCall(route.method, query ? `${path}?${query}` : path, body);
          const label = `${route.method} ${route.path} ${JSON.stringify(body ?? query)}: ${result.body}`;
          expect(result.statusCode, label).toBe(success.status);
          if (success.schema) {
            const parsed = z.safeParse(success.schema, JSON.parse(String(result.body)));
            expect(parsed.success, `${label} ${parsed.error?.message}`).toBe(true);
          }
          for (const header of Object.keys(success.headers?._zod.def.shape ?? {})) expect(result.headers?.[header], label).toBeDefined();
          sent++;
        }
      }
    }
    expect(sent).toBeGreaterThanOrEqual(HTTP_ROUTES.length);
  });

  it('answers every WebSocket action example with the documented reply, and greets as documented', async () => {
    const id = connectionId('docs-');
    expect((await wsConnect(id, { query: { room: 'general' }, authorizer: caller })).statusCode).toBe(200);
    await env.drainTasks();
    const greeting = env.gateway.eventsFor(id).find((f) => f.event === 'connected');
    expect(z.safeParse(WS_EVENT_DOCS.connected.data, greeting?.data).success).toBe(true);
    // resume needs an id that exists: send one message first.
    const first = await wsSend(id, { action: 'send_text', data: { text: 'first' } });
    for (const action of WS_ACTIONS) {
      const doc = WS_ACTION_DOCS[action];
      for (const ex of doc.examples) {
        const data = action === 'resume' ? { ...(ex.data as Json), after: (first.data as { id: string }).id } : ex.data;
        if (!doc.reply) {
          // An action without a reply (typing) answers with no frame at all.
          const raw = await wsSendRaw(id, { action, data });
          expect([raw.statusCode, raw.body], `${action} ${ex.name}`).toEqual([200, undefined]);
          continue;
        }
        const reply = await wsSend(id, { action, data });
        expect(reply.event, `${action} ${ex.name}: ${JSON.stringify(reply.data)}`).toBe(doc.reply);
        const parsed = z.safeParse(WS_EVENT_DOCS[doc.reply as WsEvent].data, reply.data);
        expect(parsed.success, `${action} → ${doc.reply}: ${parsed.error?.message}`).toBe(true);
      }
      if (action === 'leave') expect((await wsSend(id, { action: 'join', data: { room: 'general' } })).event).toBe('joined');
    }
    const rejected = await wsSend(id, { action: 'shout', data: {} });
    expect(rejected.event).toBe('error');
    expect(z.safeParse(WS_EVENT_DOCS.error.data, rejected.data).success).toBe(true);
  });

  it('documents the answers API Gateway gives before the handler on routes behind the authorizer', async () => {
    const token = env.tokens!.issue({ sub: 'alice' }).token;
    const responses = openapi.paths as Record<string, Record<string, { responses: Record<string, { content: Json }> }>>;
    for (const route of HTTP_ROUTES.filter((r) => r.auth === 'user')) {
      const documented = responses[route.path]![route.method.toLowerCase()]!.responses;
      const event = (authorization?: string) => {
        const e = httpEvent(route.method, route.path, authorization ? { headers: { authorization } } : {});
        return { ...e, routeKey: `${route.method} ${route.path}` };
      };
      const cases = [
        { authorization: undefined, status: 401 },
        { authorization: 'Bearer not-a-token', status: 403 },
      ];
      for (const { authorization, status } of cases) {
        const decision = await authorizeHttp(authorizer, event(authorization));
        expect(decision, `${route.method} ${route.path} with ${authorization}`).toMatchObject({ allowed: false, status });
        const body = { message: (decision as { message: string }).message };
        const examples = at(documented, `/${status}/content/application~1json/examples`) as Record<string, { value: unknown }>;
        expect(Object.values(examples).map((e) => e.value)).toContainEqual(body);
      }
      expect(await authorizeHttp(authorizer, event(`Bearer ${token}`))).toMatchObject({ allowed: true, context: { userId: 'alice' } });
    }
  });

  it('streams SSE events with the documented fields and payloads, taking the documented query', async () => {
    const start = ulidFloor(Date.now() - 1000);
    for (const op of ['sendMessage', 'broadcast', 'publishEvent'] as const) {
      const route = HTTP_ROUTES.find((r) => r.operation === op)!;
      expect((await restCall(route.method, route.path, HTTP_DOCS[op].body!.examples[0]!.value)).statusCode).toBe(201);
    }
    const token = env.tokens!.issue({ sub: 'alice' }).token;
    const stream = new StreamCapture();
    const idLines = () => stream.body.match(/^id: /gm)?.length ?? 0;
    const body = () => stream.body;
    const query = new URLSearchParams({ room: 'general', token, lastEventId: start });
    // A stream of 3 s (the function keeps 10 s before its timeout): the events are read at once.
    const restore = env.setFunctionTimeout('sse', 13_000);
    try {
      await env.invokeStreaming('sse', functionUrlEvent('GET', `/api/events?${query}`), stream);
    } finally {
      restore();
    }
    expect(idLines(), body()).toBeGreaterThanOrEqual(3);
    const events = body()
      .split('\n\n')
      .filter((block) => block.startsWith('id: '))
      .map((block) => Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)])));
    const kinds = new Set<string>();
    for (const event of events) {
      const id = event.event === 'message' ? 'sse.message' : event.event === 'broadcast' ? 'sse.broadcast' : 'sse.published';
      const doc = SSE_MESSAGE_DOCS[id];
      kinds.add(id);
      expect(doc.fields.safeParse({ id: event.id, event: event.event }).success, JSON.stringify(event)).toBe(true);
      const payload = doc.payload === 'ChatMessage' ? chatMessageSchema : publishedEventSchema;
      expect(payload.safeParse(JSON.parse(event.data!)).success, event.data).toBe(true);
    }
    expect([...kinds].sort()).toEqual(Object.keys(SSE_MESSAGE_DOCS).sort());
  });
});
