import type { Context } from 'aws-lambda';

/**
 * What a handler reads of its invocation: the time left before the function's deadline (to hand
 * work on, or end a stream, in time). Tests may call a handler without a context.
 */
export type Invocation = Partial<Pick<Context, 'getRemainingTimeInMillis'>>;
