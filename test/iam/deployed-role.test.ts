/**
 * `POST /api/message` through the local runtime exactly as deployed: auth on, every function from
 * the synthesized template in its own sandbox, its role enforced on every AWS call. The REST
 * function writes a rate-limit counter in the Connections table (dynamodb:UpdateItem), so its role
 * must allow that write, or the main REST route answers 500 on AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IamDecision } from '../../local/iam-gate.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { postJson, uniqueRoom } from '../local/helpers.js';

let rt: Runtime;

beforeAll(async () => {
  rt = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true });
});

afterAll(async () => {
  await rt?.stop();
});

describe('POST /api/message under the deployed role', () => {
  it('answers 201, and every AWS call the REST function made was allowed by its role', async () => {
    const token = rt.issueToken!('alice');
    const res = await postJson(`${rt.httpUrl}/api/message`, { type: 'text', content: 'hello', room: uniqueRoom('iam') }, { authorization: `Bearer ${token}` });
    const denied = rt.iam.decisions().filter((d: IamDecision) => d.fn === 'http' && !d.allowed);
    expect({ status: res.status, denied }).toEqual({ status: 201, denied: [] });
    expect(res.body.message).toMatchObject({ type: 'text', content: 'hello', sender: 'alice' });
  });
});
