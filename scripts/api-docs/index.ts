/**
 * The API descriptions, generated from the route table and the zod schemas: OpenAPI 3.1 for the
 * REST API and AsyncAPI 3 for the WebSocket API (JSON envelope and Socket.IO) and the SSE stream.
 * `npm run docs:api` writes them to docs/; the local runtime serves the committed files
 * (`files.ts`).
 */
import { buildAsyncApi } from './asyncapi.js';
import type { ApiDocumentName } from './files.js';
import { buildOpenApi, type PlacedExample } from './openapi.js';

export { API_DOCUMENTS, type ApiDocumentName, apiDocumentAt, apiDocuments } from './files.js';
export type { PlacedExample };

export interface GeneratedDocuments {
  /** File contents, byte for byte as committed. */
  files: Record<ApiDocumentName, string>;
  documents: Record<ApiDocumentName, Record<string, unknown>>;
  /** Every example placed in the documents, with the schema that parsed it. */
  examples: Record<ApiDocumentName, PlacedExample[]>;
}

/** Stable output: the builders insert keys in a fixed order and nothing depends on time. */
export const serialize = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;

export function generateApiDocuments(): GeneratedDocuments {
  const openapi = buildOpenApi();
  const asyncapi = buildAsyncApi();
  return {
    files: { openapi: serialize(openapi.document), asyncapi: serialize(asyncapi.document) },
    documents: { openapi: openapi.document, asyncapi: asyncapi.document },
    examples: { openapi: openapi.examples, asyncapi: asyncapi.examples },
  };
}
