/** Title, version and summary shared by both documents (version from package.json). */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

export const API_INFO = {
  title: 'Chat service',
  version: pkg.version,
  description: pkg.description,
} as const;
