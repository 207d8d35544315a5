/**
 * Where the generated documents live and the paths the local runtime serves them at. Kept apart
 * from the generator so serving them imports no zod-openapi and converts no schema.
 */
import { readFile } from 'node:fs/promises';

export const API_DOCUMENTS = {
  openapi: { file: 'docs/openapi.json', path: '/api/openapi.json' },
  asyncapi: { file: 'docs/asyncapi.json', path: '/api/asyncapi.json' },
} as const;

export type ApiDocumentName = keyof typeof API_DOCUMENTS;

const repoRoot = new URL('../../', import.meta.url);

/** The committed document served at `pathname`, or undefined when the path is not one of them. */
export async function apiDocumentAt(pathname: string): Promise<string | undefined> {
  const entry = Object.values(API_DOCUMENTS).find((doc) => doc.path === pathname);
  return entry ? readFile(new URL(entry.file, repoRoot), 'utf8') : undefined;
}

/** Both committed documents, file contents as they are. */
export async function apiDocuments(): Promise<Record<ApiDocumentName, string>> {
  return {
    openapi: (await apiDocumentAt(API_DOCUMENTS.openapi.path))!,
    asyncapi: (await apiDocumentAt(API_DOCUMENTS.asyncapi.path))!,
  };
}
