/**
 * The task consumer's handling of preview tasks that cannot run: not started when too little of
 * the invocation is left (reported failed, so SQS redelivers it to a fresh invocation), and a task
 * for a format that gets no preview refused as malformed.
 */
import '../support/quiet.js';
import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PreviewTask } from '../../lambdas/domain/tasks.js';
import { logger } from '../../lambdas/handlers/common/observability.js';
import { processBatch } from '../../lambdas/handlers/tasks.js';

const record = (messageId: string, body: unknown) => ({ messageId, body: JSON.stringify(body) }) as SQSRecord;
const task: PreviewTask = { kind: 'preview', room: 'general', messageId: '01KB0000000000000000000000', attachmentId: '01KB0000000000000000000001', format: 'png' };

const warn = vi.spyOn(logger, 'warn');
afterEach(() => {
  warn.mockClear();
});

describe('preview tasks in the consumer', () => {
  it('leaves a preview for a later invocation when the time left is under its budget', async () => {
    const out = await processBatch({ Records: [record('a', task), record('b', { ...task, messageId: '01KB0000000000000000000002' })] }, { getRemainingTimeInMillis: () => 12_000 });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
    // Neither was started (no read of the image): each failed on the time check.
    const reasons = warn.mock.calls.map((call) => ((call[1] as { error?: Error }).error as Error).message);
    expect(reasons).toEqual(['no time left for a preview in this invocation', 'no time left for a preview in this invocation']);
  });

  it('reports a preview task of a format without previews as malformed', async () => {
    const out = await processBatch({ Records: [record('gif', { ...task, format: 'gif' })] }, { getRemainingTimeInMillis: () => 30_000 });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'gif' }]);
  });
});
