/**
 * The API descriptions, generated from the route table and the zod schemas: OpenAPI 3.1 for the
 * REST API and AsyncAPI 3 for the WebSocket API (JSON envelope and Socket.IO) and the SSE stream.
 * `npm run docs:api` writes them to docs/; the local runtime serves the committed files.
 */
import { readFileSync } from 'node:fs';
import { buildAsyncApi } from './asyncapi.js';
import type { PlacedExample } from './openapi.js';
import { buildOpenApi } from './openapi.js';

export type { PlacedExample };

/** Where each document is written, and the path the local runtime serves it at. */
export const API_DOCUMENTS = {
  openapi: { file: 'docs/openapi.json', path: '/api/openapi.json' },
  asyncapi: { file: 'docs/asyncapi.json', path: '/api/asyncapi.json' },
} as const;

export type ApiDocumentName = keyof typeof API_DOCUMENTS;

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

const repoRoot = new URL('../../', import.meta.url);

/**
 * The committed documents, as the local runtime serves them (read once; no generator, zod-openapi
 * or schema conversion at run time).
 */
export function apiDocuments(): Record<ApiDocumentName, string> {
  return {
    openapi: readFileSync(new URL(API_DOCUMENTS.openapi.file, repoRoot), 'utf8'),
    asyncapi: readFileSync(new URL(API_DOCUMENTS.asyncapi.file, repoRoot), 'utf8'),
  };
}
