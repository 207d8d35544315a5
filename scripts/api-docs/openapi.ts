/** OpenAPI 3.1 document of the REST API, built by zod-openapi from HTTP_ROUTES and the schemas. */
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import * as z from 'zod/mini';
import type { ErrorCode } from '../../lambdas/domain/errors.js';
import { messageInputSchema, publishEventSchema } from '../../lambdas/domain/schemas.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { HTTP_ROUTES, type HttpRoute } from '../../lambdas/shared/routes.js';
import { type Example, example } from './checked.js';
import { errorExample, statusOf } from './errors.js';
import { HTTP_DOCS, type HttpOperationDoc } from './http.js';
import { applyDocMeta } from './meta.js';
import { API_INFO } from './info.js';
import { chatMessageSchema, errorResponseSchema, gatewayErrorSchema, publishedEventSchema } from './wire.js';

export const BEARER = 'bearerAuth';

const forbiddenSchema = z.union([errorResponseSchema, gatewayErrorSchema]);

type Status = `${1 | 2 | 3 | 4 | 5}${string}`;
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'No valid token',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  429: 'Too many requests',
  500: 'Internal error',
};

/** Every example that went into the document, with where it sits (a JSON pointer). */
export type PlacedExample = Example & { pointer: string };

const mediaExamples = (examples: Example[], pointer: string, placed: PlacedExample[]) => {
  if (examples.length === 0) return undefined;
  const out: Record<string, { summary: string; value: unknown }> = {};
  for (const ex of examples) {
    if (out[ex.name]) throw new Error(`API docs: two examples named "${ex.name}" at ${pointer}`);
    out[ex.name] = { summary: ex.summary, value: ex.value };
    placed.push({ ...ex, pointer: `${pointer}/examples/${ex.name}/value` });
  }
  return out;
};

const pointerSegment = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * What API Gateway answers itself on routes behind the Lambda authorizer (identity source
 * `$request.header.Authorization`), before the handler runs.
 */
const GATEWAY_ANSWERS: Record<401 | 403, { message: 'Unauthorized' | 'Forbidden'; text: string }> = {
  401: { message: 'Unauthorized', text: 'No `Authorization` header: API Gateway answers `{"message": "Unauthorized"}` without calling the authorizer' },
  403: { message: 'Forbidden', text: 'A bad, expired or foreign token: the authorizer denies it and API Gateway answers `{"message": "Forbidden"}`' },
};

function errorResponses(route: HttpRoute, doc: HttpOperationDoc, base: string, placed: PlacedExample[]): ZodOpenApiResponsesObject {
  const codes: ErrorCode[] = [...doc.errors, 'internal_error'];
  if (route.auth === 'user') codes.push('unauthorized');
  const byStatus = new Map<number, ErrorCode[]>();
  if (route.auth === 'user') byStatus.set(403, []);
  for (const code of new Set(codes)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  const responses: ZodOpenApiResponsesObject = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const list = byStatus.get(status)!;
    const pointer = `${base}/responses/${status}/content/application~1json`;
    const gateway = route.auth === 'user' && (status === 401 || status === 403) ? GATEWAY_ANSWERS[status] : undefined;
    const schema = !gateway ? errorResponseSchema : list.length > 0 ? forbiddenSchema : gatewayErrorSchema;
    const what = `${route.method} ${route.path} ${status}`;
    const examples: Example[] = [];
    if (gateway) examples.push(example(schema, what, `gateway_${gateway.message.toLowerCase()}`, `API Gateway: ${gateway.message}`, { message: gateway.message } as never));
    for (const code of list) {
      examples.push(example(schema, what, code, `\`${code}\``, { error: errorExample(code, doc.errorMessages?.[code]).body } as never));
    }
    const parts = gateway ? [gateway.text] : [];
    if (list.length > 0) parts.push(`${STATUS_TEXT[status] ?? 'Error'}: ${list.map((c) => `\`${c}\``).join(', ')}`);
    if (status === 413) parts.push(`Bodies over ${LIMITS.httpBodyMaxBytes} bytes are rejected before parsing`);
    responses[`${status}` as Status] = {
      description: parts.join('. '),
      content: { 'application/json': { schema, examples: mediaExamples(examples, pointer, placed) } },
    };
  }
  return responses;
}

function operationOf(route: HttpRoute, placed: PlacedExample[]): ZodOpenApiOperationObject {
  const doc = HTTP_DOCS[route.operation];
  if (!doc) {
    throw new Error(
      `API docs: no description for ${route.method} ${route.path} (operation "${route.operation}"); add it to HTTP_DOCS in scripts/api-docs/http.ts`,
    );
  }
  const base = `/paths/${pointerSegment(route.path)}/${route.method.toLowerCase()}`;
  const responses: ZodOpenApiResponsesObject = {};
  for (const answer of doc.answers) {
    const pointer = `${base}/responses/${answer.status}/content/application~1json`;
    responses[`${answer.status}` as Status] = {
      description: answer.description,
      ...(answer.headers ? { headers: answer.headers } : {}),
      ...(answer.schema ? { content: { 'application/json': { schema: answer.schema, examples: mediaExamples(answer.examples, pointer, placed) } } } : {}),
    };
  }
  Object.assign(responses, errorResponses(route, doc, base, placed));
  const operation: ZodOpenApiOperationObject = {
    operationId: route.operation,
    summary: doc.summary,
    description: doc.admin ? `${doc.description}\n\nNeeds a token whose \`roles\` include \`admin\`, else \`403 forbidden\`.` : doc.description,
    tags: [doc.tag],
    security: route.auth === 'user' ? [{ [BEARER]: [] }] : [],
    responses,
  };
  if (doc.body) {
    operation.requestBody = {
      required: true,
      content: {
        'application/json': { schema: doc.body.schema, examples: mediaExamples(doc.body.examples, `${base}/requestBody/content/application~1json`, placed) },
      },
    };
  }
  if (doc.query || doc.path) {
    operation.requestParams = { ...(doc.query ? { query: doc.query.schema } : {}), ...(doc.path ? { path: doc.path.schema } : {}) };
  }
  return operation;
}

/** Parameter examples: zod-openapi builds the parameters, the query example fills their `example`. */
function addParameterExamples(document: Record<string, unknown>, placed: PlacedExample[]): void {
  const paths = document.paths as Record<string, Record<string, { parameters?: Array<{ name: string; example?: unknown }> }>>;
  for (const route of HTTP_ROUTES) {
    const query = HTTP_DOCS[route.operation].query;
    const first = query?.examples[0];
    if (!query || !first) continue;
    const operation = paths[route.path]![route.method.toLowerCase()]!;
    for (const [index, parameter] of (operation.parameters ?? []).entries()) {
      const value = (first.value as Record<string, unknown>)[parameter.name];
      if (value === undefined) continue;
      parameter.example = value;
      const pointer = `/paths/${pointerSegment(route.path)}/${route.method.toLowerCase()}/parameters/${index}/example`;
      const field = query.schema._zod.def.shape[parameter.name];
      if (!field) throw new Error(`API docs: parameter ${parameter.name} of ${route.path} is not in its query schema`);
      placed.push({ ...example(field, `${first.what} ?${parameter.name}=`, first.name, first.summary, value as never), pointer });
    }
  }
}

export function buildOpenApi(): { document: Record<string, unknown>; examples: PlacedExample[] } {
  const placed: PlacedExample[] = [];
  const paths: ZodOpenApiPathsObject = {};
  for (const route of HTTP_ROUTES) {
    const item = (paths[route.path] ?? {}) as Record<string, ZodOpenApiOperationObject>;
    item[route.method.toLowerCase()] = operationOf(route, placed);
    paths[route.path] = item;
  }
  const document = createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: `${API_INFO.title} REST API`,
        version: API_INFO.version,
        description: `${API_INFO.description}\n\nErrors are \`{"error": {"code", "message"}}\` with the HTTP status of their code. Request bodies are at most ${LIMITS.httpBodyMaxBytes} bytes. Real-time delivery (WebSocket API, Socket.IO, SSE) is described by the AsyncAPI document, \`/api/asyncapi.json\`.`,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [
        {
          url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
          description: 'The HTTP API (stack output `HttpApiUrl`)',
          variables: { apiId: { default: 'abc123' }, region: { default: 'us-east-1' } },
        },
        { url: 'http://127.0.0.1:3000', description: 'The local runtime (`npm start`)' },
      ],
      tags: [
        { name: 'messages', description: 'Chat messages and history' },
        { name: 'events', description: 'Published events and the SSE stream' },
        { name: 'service', description: 'Operations' },
        { name: 'rooms', description: 'Private rooms, direct rooms, their members, and who is online' },
      ],
      paths,
      components: {
        securitySchemes: {
          [BEARER]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              "`Authorization: Bearer <token>`, checked by the HTTP API's Lambda authorizer: HS256 with the stack's secret, or RS256/ES256 from the configured issuer's JWKS. `sub` is the user id; the `roles` claim (or Cognito groups) grants `admin`.",
          },
        },
        schemas: {
          MessageInput: messageInputSchema,
          PublishEventInput: publishEventSchema,
          ChatMessage: chatMessageSchema,
          PublishedEvent: publishedEventSchema,
          ErrorResponse: errorResponseSchema,
          GatewayError: gatewayErrorSchema,
        },
      },
    },
    { override: normalizeSchema },
  ) as unknown as Record<string, unknown>;
  addParameterExamples(document, placed);
  return { document, examples: placed };
}

/** Documentation metadata, and no 300-character regular expression next to `format: date-time`. */
export function normalizeSchema(ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }): void {
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
  applyDocMeta(ctx);
}
