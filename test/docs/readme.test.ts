/**
 * The README documents the API from the single sources of truth: every route, action, event and
 * the main limits must appear in it, so a change to routes.ts or limits.ts that is not documented
 * fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIMITS, MEDIA_MAX_BASE64_CHARS, RATE_LIMITS, TASK_QUEUE_SETTINGS } from '../../lambdas/shared/limits.js';
import { HTTP_ROUTES, WS_ACTIONS, WS_EVENTS } from '../../lambdas/shared/routes.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const thousands = (n: number) => n.toLocaleString('en-US');

describe('README', () => {
  it('documents every REST route with its method', () => {
    for (const route of HTTP_ROUTES) expect(readme).toContain(`${route.method} ${route.path}`);
  });

  it('documents every WebSocket action and server event', () => {
    for (const action of WS_ACTIONS) expect(readme).toContain(`\`${action}\``);
    for (const event of WS_EVENTS) expect(readme).toContain(`\`${event}\``);
  });

  it('states the limits that limits.ts enforces', () => {
    expect(readme).toContain(thousands(LIMITS.mediaMaxBytes));
    expect(readme).toContain(thousands(MEDIA_MAX_BASE64_CHARS));
    expect(readme).toContain(thousands(LIMITS.textMaxChars));
    expect(readme).toContain(`${LIMITS.senderMaxChars} characters`);
    expect(readme).toContain(`${LIMITS.httpBodyMaxBytes / 1024} KB`);
    expect(readme).toContain(`1–${LIMITS.historyMaxPage} (default ${LIMITS.historyDefaultPage})`);
    expect(readme).toContain(`${RATE_LIMITS.perConnection} messages per connection and ${RATE_LIMITS.perUser} per user every ${RATE_LIMITS.windowSeconds} s`);
    expect(readme).toContain(`${LIMITS.fanoutConcurrency} concurrent PostToConnection`);
    expect(readme).toContain(`visibility timeout ${TASK_QUEUE_SETTINGS.visibilityTimeoutSeconds} s`);
    expect(readme).toContain(`DLQ after ${TASK_QUEUE_SETTINGS.maxReceiveCount} receives`);
    expect(readme).toContain(`longest side ${LIMITS.previewLongestSidePx} px, at most ${thousands(LIMITS.previewMaxChars)} characters`);
    expect(readme).toContain(`over ${LIMITS.previewMaxPixels / 1_000_000} MP get none`);
  });

  it('keeps the two-command quick start', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test\b/m);
  });
});
