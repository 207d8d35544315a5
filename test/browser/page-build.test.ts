/**
 * The committed chat page script (local/public/app.js) is a build of local/public/app.ts and of
 * what it imports (the service's limits and routes): it must equal a fresh build, or the page would
 * run with stale code or stale limits.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildPage, OUTFILE } from '../../local/page/build.js';

describe('chat page build', () => {
  it('local/public/app.js is up to date with its sources (else run: npx tsx local/page/build.ts)', async () => {
    const [fresh, committed] = await Promise.all([buildPage(), readFile(OUTFILE, 'utf8').catch(() => '')]);
    expect(committed.length, 'local/public/app.js is missing: run npx tsx local/page/build.ts').toBeGreaterThan(0);
    expect(committed === fresh, 'local/public/app.js is stale: run npx tsx local/page/build.ts').toBe(true);
  });
});
