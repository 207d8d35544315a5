/**
 * Writes docs/openapi.json and docs/asyncapi.json from the route table and the zod schemas.
 *   npm run docs:api              regenerate
 *   npm run docs:api -- --check   exit 1 when the committed files are stale
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { API_DOCUMENTS, type ApiDocumentName, generateApiDocuments } from './api-docs/index.js';

const root = new URL('../', import.meta.url);
const check = process.argv.includes('--check');
const { files } = generateApiDocuments();
let stale = 0;
for (const name of Object.keys(API_DOCUMENTS) as ApiDocumentName[]) {
  const target = new URL(API_DOCUMENTS[name].file, root);
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === files[name]) {
    console.log(`${API_DOCUMENTS[name].file}: up to date`);
    continue;
  }
  if (check) {
    console.error(`${API_DOCUMENTS[name].file}: stale; run npm run docs:api`);
    stale++;
    continue;
  }
  mkdirSync(new URL('.', target), { recursive: true });
  writeFileSync(target, files[name]);
  console.log(`${API_DOCUMENTS[name].file}: written`);
}
if (stale > 0) process.exitCode = 1;
