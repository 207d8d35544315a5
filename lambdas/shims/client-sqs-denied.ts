/**
 * `@aws-sdk/client-sqs` for functions without `sendTasks` (lib/access.ts); see ./denied.ts. Exports
 * the names lambdas/adapters imports: a new import fails the bundle until it is added here.
 */
import { DeniedCommand, deniedClient } from './denied.js';

export class SQSClient extends deniedClient('SQS', 'sendTasks') {}
export class SendMessageCommand extends DeniedCommand {}
export class SendMessageBatchCommand extends DeniedCommand {}
