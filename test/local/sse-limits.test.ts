/**
 * The SSE stream's per-user cap. Lambda never tells a streaming function that its client left, so
 * a stream runs (and bills) until it ends by itself: the cap bounds how many one user holds, and a
 * stream the client abandoned keeps its slot until then. The SSE function gets an 18 s timeout
 * here, so each stream ends after about 8 s: long enough that opening seven streams on a busy
 * machine never outlasts the first, short enough to watch a slot come free.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { waitFor } from '../support/wait.js';
import { uniqueRoom } from './helpers.js';

let rt: Runtime;
const controllers: AbortController[] = [];

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true, sseTimeoutMs: 18_000, warm: true });
});

afterAll(async () => {
  for (const controller of controllers) controller.abort();
  await rt?.stop();
});

/** Opens a stream and reads its first bytes (the lease is taken before the status is sent). */
async function open(user: string, room: string): Promise<{ status: number; body: Response }> {
  const controller = new AbortController();
  controllers.push(controller);
  const token = rt.issueToken!(user);
  const res = await fetch(`${rt.sseStreamUrl}?room=${room}&token=${token}`, { signal: controller.signal });
  if (res.status === 200) await res.body!.getReader().read();
  return { status: res.status, body: res };
}

describe('SSE streams per user', () => {
  it(`admits ${LIMITS.sseStreamsPerUser} open streams per user, refuses the next with 429 rate_limited, and frees a slot when a stream ends`, async () => {
    const room = uniqueRoom('cap');
    const first = await open('alice', room);
    expect(first.status).toBe(200);
    for (let i = 1; i < LIMITS.sseStreamsPerUser; i++) expect((await open('alice', room)).status).toBe(200);

    const refused = await open('alice', room);
    expect(refused.status).toBe(429);
    expect(await refused.body.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringMatching(/open event streams per user/) } });
    // Another user is not affected.
    expect((await open('bob', room)).status).toBe(200);
    // Each stream's relay opens while its slot is taken; the refused one's relay was closed before
    // its answer: one relay connection per open stream, none left behind.
    await waitFor(() => rt.websocket.connections().length, (n) => n === LIMITS.sseStreamsPerUser + 1, { what: 'one relay connection per open stream' });

    // The client going away frees nothing (Lambda does not report it): abandoned streams hold
    // their slots until they end by themselves, about 8 s after they started.
    for (const controller of controllers) controller.abort();
    expect((await open('alice', room)).status).toBe(429);
    const deadline = Date.now() + 30_000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await open('alice', room)).status;
    }
    expect(status).toBe(200);
  });
});
