/**
 * AsyncAPI 3 document of the real-time APIs: the WebSocket API in both of its wire protocols (the
 * JSON envelope and Socket.IO v5 over Engine.IO v4) and the SSE stream. Payloads are converted
 * from the same zod schemas with `z.toJSONSchema` (draft-07, the base of AsyncAPI's schema
 * format). Written from a client's point of view: `send` is a frame the client sends, `receive`
 * one it receives.
 */
import * as z from 'zod/mini';
import { MESSAGE_TYPES } from '../../lambdas/domain/schemas.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { SSE_PATH, WS_ACTIONS, WS_EVENTS } from '../../lambdas/shared/routes.js';
import { type Example, example } from './checked.js';
import { API_INFO } from './info.js';
import { normalizeSchema, type PlacedExample } from './openapi.js';
import { SOCKETIO_FRAMES } from './socketio.js';
import { SSE_MESSAGE_DOCS, sseQuerySchema } from './sse.js';
import { connectQuerySchema, socketIoConnectQuerySchema, WS_ACTION_DOCS, WS_EVENT_DOCS } from './websocket.js';
import { chatMessageSchema, publishedEventSchema } from './wire.js';

type Json = Record<string, unknown>;

const minutes = (ms: number) => ms / 60_000;
type Io = 'input' | 'output';

const ref = (pointer: string) => ({ $ref: pointer });
const schemaRef = (id: string) => ref(`#/components/schemas/${id}`);

/** Schemas to put under components.schemas, by the direction they travel (defaults differ). */
class SchemaSet {
  private readonly registries: Record<Io, z.core.$ZodRegistry<{ id: string }>> = { input: z.registry(), output: z.registry() };
  private readonly owners = new Map<string, z.core.$ZodType>();

  add(id: string, schema: z.core.$ZodType, io: Io): string {
    const owner = this.owners.get(id);
    if (owner !== undefined && owner !== schema) throw new Error(`API docs: two different schemas named "${id}"`);
    if (owner === undefined) {
      this.owners.set(id, schema);
      this.registries[io].add(schema, { id });
    }
    return id;
  }

  toJson(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const io of ['input', 'output'] as const) {
      const { schemas } = z.toJSONSchema(this.registries[io], {
        target: 'draft-07',
        io,
        uri: (id) => `#/components/schemas/${id}`,
        override: normalizeSchema,
      });
      for (const [id, schema] of Object.entries(schemas)) {
        if (!this.owners.has(id)) throw new Error(`API docs: unexpected shared schema "${id}"`);
        const { $schema: _s, $id: _i, ...rest } = schema as Json;
        out[id] = rest;
      }
    }
    return Object.fromEntries(Object.keys(out).sort().map((id) => [id, out[id]!]));
  }
}

const inlineSchema = (schema: z.core.$ZodType, io: Io): Json => {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', io, override: normalizeSchema }) as Json;
  return rest;
};

interface MessageOut {
  id: string;
  message: Json;
}

export function buildAsyncApi(): { document: Json; examples: PlacedExample[] } {
  const schemas = new SchemaSet();
  const placed: PlacedExample[] = [];
  const messages: Record<string, Json> = {};

  const addMessage = (id: string, message: Json, examples: Array<{ ex: Example; headers?: Example; summary?: string }>): MessageOut => {
    if (messages[id]) throw new Error(`API docs: two messages named "${id}"`);
    const list = examples.map(({ ex, headers, summary }, index) => {
      placed.push({ ...ex, pointer: `/components/messages/${id}/examples/${index}/payload` });
      if (headers) placed.push({ ...headers, pointer: `/components/messages/${id}/examples/${index}/headers` });
      return { name: ex.name, summary: summary ?? ex.summary, ...(headers ? { headers: headers.value } : {}), payload: ex.value };
    });
    messages[id] = { ...message, ...(list.length > 0 ? { examples: list } : {}) };
    return { id, message: messages[id]! };
  };

  // --- WebSocket API, JSON envelope and Socket.IO events ---
  const jsonMessages: string[] = [];
  const sioMessages: string[] = [];
  const operations: Record<string, Json> = {};

  for (const action of WS_ACTIONS) {
    const doc = WS_ACTION_DOCS[action];
    if (!doc) throw new Error(`API docs: no description for WebSocket action "${action}"; add it to WS_ACTION_DOCS in scripts/api-docs/websocket.ts`);
    const dataId = schemas.add(doc.dataName, doc.data, 'input');
    const frame = z.object({ action: z.literal(action), data: doc.data });
    const tuple = z.tuple([z.literal(action), doc.data]);
    const jsonId = `action.${action}`;
    const sioId = `socketio.action.${action}`;
    schemas.add(jsonId, frame, 'input');
    schemas.add(sioId, tuple, 'input');
    void dataId;
    addMessage(
      jsonId,
      { name: action, title: action, summary: doc.summary, description: doc.description, payload: schemaRef(jsonId) },
      doc.examples.map((e) => ({ ex: example(frame, `WebSocket action ${action}`, e.name, e.summary, { action, data: e.data } as never) })),
    );
    addMessage(
      sioId,
      {
        name: action,
        title: `${action} (Socket.IO)`,
        summary: doc.summary,
        description: `${doc.description}\n\nFrame: \`42\` followed by this array (\`42<id>\` asks for the reply as an ACK). \`socket.emit('${action}', data)\`.`,
        payload: schemaRef(sioId),
        'x-frame-prefix': '42',
      },
      doc.examples.map((e) => {
        const ex = example(tuple, `Socket.IO event ${action}`, e.name, e.summary, [action, e.data] as never);
        return { ex, summary: `${e.summary}: 42${JSON.stringify(ex.value)}` };
      }),
    );
    jsonMessages.push(jsonId);
    sioMessages.push(sioId);
  }

  for (const event of WS_EVENTS) {
    const doc = WS_EVENT_DOCS[event];
    if (!doc) throw new Error(`API docs: no description for WebSocket event "${event}"; add it to WS_EVENT_DOCS in scripts/api-docs/websocket.ts`);
    schemas.add(doc.dataName, doc.data, 'output');
    const frame = z.object({ event: z.literal(event), data: doc.data });
    const tuple = z.tuple([z.literal(event), doc.data]);
    const jsonId = `event.${event}`;
    const sioId = `socketio.event.${event}`;
    schemas.add(jsonId, frame, 'output');
    schemas.add(sioId, tuple, 'output');
    addMessage(
      jsonId,
      { name: event, title: event, summary: doc.summary, description: doc.description, payload: schemaRef(jsonId) },
      doc.examples.map((e) => ({ ex: example(frame, `WebSocket event ${event}`, e.name, e.summary, { event, data: e.data } as never) })),
    );
    addMessage(
      sioId,
      {
        name: event,
        title: `${event} (Socket.IO)`,
        summary: doc.summary,
        description: `${doc.description}\n\nFrame: \`42\` followed by this array. \`socket.on('${event}', (data) => ...)\`.`,
        payload: schemaRef(sioId),
        'x-frame-prefix': '42',
      },
      doc.examples.map((e) => {
        const ex = example(tuple, `Socket.IO event ${event}`, e.name, e.summary, [event, e.data] as never);
        return { ex, summary: `${e.summary}: 42${JSON.stringify(ex.value)}` };
      }),
    );
    jsonMessages.push(jsonId);
    sioMessages.push(sioId);
  }

  for (const [name, frame] of Object.entries(SOCKETIO_FRAMES)) {
    const id = `socketio.${name}`;
    schemas.add(frame.payloadName, frame.payload, frame.direction === 'send' ? 'input' : 'output');
    addMessage(
      id,
      {
        name,
        title: frame.title,
        description: `${frame.description}\n\nFrame: \`${frame.prefix}\` followed by this JSON.`,
        payload: schemaRef(frame.payloadName),
        'x-frame-prefix': frame.prefix,
      },
      frame.examples.map((e) => {
        const ex = example(frame.payload, `Socket.IO ${frame.title}`, e.name, e.summary, e.payload as never);
        return { ex, summary: `${e.summary}: ${e.prefix ?? frame.prefix}${JSON.stringify(e.payload)}` };
      }),
    );
    sioMessages.push(id);
  }

  // --- SSE ---
  schemas.add('ChatMessage', chatMessageSchema, 'output');
  schemas.add('PublishedEvent', publishedEventSchema, 'output');
  const sseMessages = SSE_MESSAGE_DOCS;
  for (const [id, m] of Object.entries(sseMessages)) {
    schemas.add(m.fieldsId, m.fields, 'output');
    const payloadSchema = m.payload === 'ChatMessage' ? chatMessageSchema : publishedEventSchema;
    addMessage(
      id,
      {
        name: m.title,
        title: m.title,
        description: `${m.description} Sent as the lines \`id: <id>\`, \`event: <name>\`, \`data: <JSON payload>\`; the headers below are those two fields.`,
        contentType: 'application/json',
        headers: schemaRef(m.fieldsId),
        payload: schemaRef(m.payload),
      },
      [
        {
          ex: example(payloadSchema, `SSE ${m.title}`, m.ex.event, m.ex.summary, m.ex.payload as never),
          headers: example(m.fields, `SSE ${m.title} fields`, m.ex.event, m.ex.summary, { id: m.ex.id, event: m.ex.event }),
        },
      ],
    );
  }

  const channelMessages = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, ref(`#/components/messages/${id}`)]));
  const wsQuery = inlineSchema(connectQuerySchema, 'input');

  const channels: Json = {
    websocket: {
      address: '/',
      title: 'WebSocket API, JSON envelope',
      description: `Client frames are \`{"action": "<action>", "data": {...}}\`, server frames \`{"event": "<event>", "data": {...}}\`. A frame that is not JSON or names an unknown action gets \`error\`; the connection stays open. Delivery is at least once: de-duplicate by \`id\`. A message is at most ${LIMITS.wsMessageBytes} bytes (API Gateway closes the socket with 1009 above that), a frame ${LIMITS.wsFrameBytes} bytes. Connections close after ${minutes(LIMITS.wsIdleTimeoutMs)} minutes idle and after ${minutes(LIMITS.wsMaxConnectionMs)} minutes in all. The handshake is refused with 401 without a token, 403 when the \`$connect\` authorizer denies the token or the Origin is not an allowed one, 400 for a bad \`room\`.`,
      servers: [ref('#/servers/aws'), ref('#/servers/local')],
      messages: channelMessages(jsonMessages),
      bindings: { ws: { method: 'GET', query: wsQuery, bindingVersion: '0.1.0' } },
    },
    socketio: {
      address: '/',
      title: 'WebSocket API, Socket.IO v5 over Engine.IO v4',
      description:
        "socket.io-client v4 with `transports: ['websocket']`, `path: '/{stage}'`, `addTrailingSlash: false` and `query: {room, token}`; `EIO=4` in the query string selects this protocol. One WebSocket frame carries one Engine.IO packet: events are `42[\"<event>\",<data>]`. Only the default namespace `/`; no binary attachments (`unsupported_packet`), no long-polling. The same rooms, limits and errors as the JSON envelope; JSON and Socket.IO clients see each other's messages.",
      servers: [ref('#/servers/aws'), ref('#/servers/local')],
      messages: channelMessages(sioMessages),
      bindings: { ws: { method: 'GET', query: inlineSchema(socketIoConnectQuerySchema, 'input'), bindingVersion: '0.1.0' } },
    },
    sse: {
      address: SSE_PATH,
      title: 'Server-Sent Events',
      description: `\`GET ${SSE_PATH}?room=<room>&token=<JWT>\` on the streaming Function URL (\`GET /api/events\` on the HTTP API redirects there). Every event has an \`id:\` line; reconnecting with \`Last-Event-ID\` (the header EventSource sends, or \`?lastEventId=\`) resumes with no gap and no duplicate. A \`: heartbeat\` comment comes every ${LIMITS.sseHeartbeatMs / 1000} s; after ${LIMITS.sseMaxStreamMs / 60_000} minutes the stream sends \`retry: ${LIMITS.sseRetryHintMs}\` and ends, and EventSource reconnects and resumes. A bad token or query is answered with a JSON error (\`{"error": {"code", "message"}}\`) before any event.`,
      servers: [ref('#/servers/sseAws'), ref('#/servers/sseLocal')],
      messages: channelMessages(Object.keys(sseMessages)),
    },
  };

  const channelOf = (id: string) => (id.startsWith('socketio.') ? 'socketio' : id.startsWith('sse.') ? 'sse' : 'websocket');
  const messageRef = (id: string) => ref(`#/channels/${channelOf(id)}/messages/${id}`);

  for (const action of WS_ACTIONS) {
    const doc = WS_ACTION_DOCS[action];
    for (const [prefix, channel] of [['', 'websocket'], ['socketio.', 'socketio']] as const) {
      operations[`${prefix}send.${action}`] = {
        action: 'send',
        channel: ref(`#/channels/${channel}`),
        title: `${action}${prefix ? ' (Socket.IO)' : ''}`,
        summary: doc.summary,
        messages: [messageRef(`${prefix}action.${action}`)],
        reply: {
          channel: ref(`#/channels/${channel}`),
          messages: [...(doc.reply ? [messageRef(`${prefix}event.${doc.reply}`)] : []), messageRef(`${prefix}event.error`)],
        },
      };
    }
  }
  for (const event of WS_EVENTS) {
    for (const [prefix, channel] of [['', 'websocket'], ['socketio.', 'socketio']] as const) {
      operations[`${prefix}receive.${event}`] = {
        action: 'receive',
        channel: ref(`#/channels/${channel}`),
        title: `${event}${prefix ? ' (Socket.IO)' : ''}`,
        summary: WS_EVENT_DOCS[event].summary,
        messages: [messageRef(`${prefix}event.${event}`)],
      };
    }
  }
  for (const [name, frame] of Object.entries(SOCKETIO_FRAMES)) {
    operations[`socketio.${frame.direction}.${name}`] = {
      action: frame.direction,
      channel: ref('#/channels/socketio'),
      title: frame.title,
      messages: [messageRef(`socketio.${name}`)],
    };
  }
  operations['sse.receive'] = {
    action: 'receive',
    channel: ref('#/channels/sse'),
    title: 'Stream events',
    summary: "The room's messages, broadcasts and published events",
    messages: Object.keys(sseMessages).map(messageRef),
    bindings: { http: { method: 'GET', query: inlineSchema(sseQuerySchema, 'input'), bindingVersion: '0.3.0' } },
  };

  const tokenScheme = (description: string) => ({ type: 'httpApiKey', name: 'token', in: 'query', description });
  const document: Json = {
    asyncapi: '3.1.0',
    info: {
      title: `${API_INFO.title} real-time API`,
      version: API_INFO.version,
      description: `${API_INFO.description}\n\nThe WebSocket API speaks two wire protocols on the same routes (a plain JSON envelope, and Socket.IO for socket.io-client apps) and the SSE stream serves EventSource clients. Described from a client's point of view: \`send\` operations are frames a client sends, \`receive\` operations frames it receives. Message types: ${MESSAGE_TYPES.join(', ')}. The REST API is described by \`/api/openapi.json\`.`,
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      aws: {
        host: '{apiId}.execute-api.{region}.amazonaws.com',
        pathname: '/{stage}',
        protocol: 'wss',
        title: 'WebSocket API',
        description: 'The deployed stage (stack output `WebSocketUrl`).',
        variables: { apiId: { default: 'abc123' }, region: { default: 'us-east-1' }, stage: { default: 'dev' } },
        security: [ref('#/components/securitySchemes/wsToken')],
      },
      local: {
        host: '127.0.0.1:3001',
        pathname: '/',
        protocol: 'ws',
        title: 'WebSocket API (local runtime)',
        description: '`npm start`; stage `local` (Socket.IO clients use `path: "/local"`).',
        security: [ref('#/components/securitySchemes/wsToken')],
      },
      sseAws: {
        host: '{urlId}.lambda-url.{region}.on.aws',
        protocol: 'https',
        title: 'SSE Function URL',
        description: 'The streaming Function URL (stack output `SseUrl`).',
        variables: { urlId: { default: 'abcdefghij' }, region: { default: 'us-east-1' } },
        security: [ref('#/components/securitySchemes/sseToken'), ref('#/components/securitySchemes/sseBearer')],
      },
      sseLocal: {
        host: '127.0.0.1:3002',
        protocol: 'http',
        title: 'SSE Function URL (local runtime)',
        security: [ref('#/components/securitySchemes/sseToken'), ref('#/components/securitySchemes/sseBearer')],
      },
    },
    channels,
    operations,
    components: {
      schemas: schemas.toJson(),
      messages,
      securitySchemes: {
        wsToken: tokenScheme('The JWT in `?token=`, checked by the `$connect` Lambda authorizer before the connection exists (browsers cannot set headers on a WebSocket handshake).'),
        sseToken: tokenScheme('The JWT in `?token=` (EventSource cannot send headers), verified by the function before it streams a byte.'),
        sseBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: '`Authorization: Bearer <token>` also works for clients that can set headers.' },
      },
    },
  };
  return { document, examples: placed };
}
