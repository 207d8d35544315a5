/**
 * Replaces `@smithy/core/event-streams` in the Lambda bundles (esbuild alias, see lib/bundling.ts).
 * The SDK loads it with a dynamic import, only for operations with an event stream member
 * (S3 SelectObjectContent, Bedrock, Transcribe streaming, ...); esbuild inlines dynamic imports,
 * so every bundle carried ~15 KB of event stream codecs that DynamoDB, SQS, the @connections API
 * and SSM never use. Should a client that needs them be added, its first event stream call fails
 * with the error below (and a static import of another name fails the build).
 */
const unsupported = (): never => {
  throw new Error(
    'Event streams are not bundled in this function (lambdas/shims/event-streams-unsupported.ts); remove the @smithy/core/event-streams alias in lib/bundling.ts',
  );
};

export const eventStreamSerdeProvider = unsupported;

export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}
