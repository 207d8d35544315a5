/**
 * Every limit the service enforces, in one place. The CDK stack, the handlers, the local runtime,
 * the tests and the README all read these values; change them here and nowhere else.
 *
 * The media and text sizes are derived from API Gateway's WebSocket limits: a server frame must fit
 * one 128 KB WebSocket message (API Gateway closes the socket with 1009 above that), so the largest
 * base64 payload plus the JSON envelope must stay under 128 KB.
 */
export const LIMITS = {
  /** API Gateway WebSocket: largest single frame (32 KB) and largest message (128 KB). */
  wsFrameBytes: 32 * 1024,
  wsMessageBytes: 128 * 1024,
  /** Room for the envelope (id, sender, room, timestamps, event name) around the content. */
  envelopeReserveBytes: 4 * 1024,
  /** Decoded media bytes: 90 KB raw is 122,880 base64 characters, which fits one WS message. */
  mediaMaxBytes: 90 * 1024,
  /** Text messages: characters (UTF-16 code units) after trimming. */
  textMaxChars: 8000,
  senderMaxChars: 64,
  roomMaxChars: 64,
  eventTypeMaxChars: 64,
  /** Published event `data`, serialized as JSON. */
  eventDataMaxBytes: 32 * 1024,
  /** REST request bodies are rejected before parsing above this size. */
  httpBodyMaxBytes: 160 * 1024,
  /** History paging. */
  historyDefaultPage: 50,
  historyMaxPage: 100,
  /** A history page stops here (then `next_before`): a Lambda response is at most 6 MB. */
  historyPageMaxBytes: 4 * 1024 * 1024,
  /**
   * Fan-out: most PostToConnection calls in flight per invocation (halved on 429, regrown on
   * success), and the page size of room and shard queries.
   */
  fanoutConcurrency: 128,
  fanoutPageSize: 500,
  /**
   * Connections per part task. An SQS batch of up to 10 parts lands in one invocation, so a part is
   * a tenth of what one invocation should post: 10 x 100 posts is about half a second of a vCPU.
   */
  fanoutPartSize: 100,
  /** Rooms with at most this many members are fanned out inline by the WebSocket/REST handler. */
  inlineFanoutMaxMembers: 128,
  /** PostToConnection retries on throttling / 5xx (exponential backoff with full jitter). */
  postRetries: 6,
  postRetryBaseMs: 50,
  postRetryMaxMs: 2000,
  /** Follow-up tasks for deliveries that kept failing; after that the task fails into the DLQ. */
  fanoutRetryGenerations: 5,
  /** `connected` greeting: retries while API Gateway has not yet made the connection postable. */
  greetRetries: 8,
  greetRetryBaseMs: 50,
  /** A 410 from a connection younger than this is API Gateway still finishing its handshake. */
  staleGraceMs: 10_000,
  /** Connection records expire a little after API Gateway's 2 h maximum connection duration. */
  connectionTtlSeconds: 2 * 60 * 60 + 10 * 60,
  /** API Gateway WebSocket timeouts (emulated by the local runtime). */
  wsIdleTimeoutMs: 10 * 60 * 1000,
  wsMaxConnectionMs: 2 * 60 * 60 * 1000,
  /** SSE stream: heartbeat, and how long before the function timeout it ends. */
  sseHeartbeatMs: 15_000,
  sseMaxStreamMs: 14 * 60 * 1000,
  sseRetryHintMs: 1000,
  sseResumeMaxItems: 500,
  /**
   * Open SSE streams per user. A Function URL stream is a running invocation until it ends: Lambda
   * never tells the function that its client left, so streams a client abandons keep running (and
   * billing) to their end, and this cap bounds what one user can hold open.
   */
  sseStreamsPerUser: 5,
  /** Reserved concurrency of the SSE function (context `sseReservedConcurrency`; 0: none). */
  sseReservedConcurrency: 50,
  /** A WebSocket `resume` reads what it replays this many items at a time. */
  resumeReadItems: 50,
  /** Time kept before a function's deadline to answer its route (a replay stops then). */
  replyMarginMs: 1_000,
  /**
   * The message path's inline fan-out starts no post later than this before the function's
   * deadline: what is left goes to a follow-up task (one SQS batch) and the sender gets its reply.
   */
  fanoutHandOnMarginMs: 2_000,
  /** A retried send with the same (sender, client_id) within this window is the same message. */
  clientIdWindowSeconds: 24 * 3600,
  /** Messages, broadcasts and events are kept this many days (DynamoDB TTL). */
  defaultRetentionDays: 30,
  /**
   * Attachments (uploaded to S3 with a presigned POST, referenced by `attachment_id`): a phone photo
   * is 2-5 MB, a minute of voice about 1 MB.
   */
  attachmentImageMaxBytes: 10 * 1024 * 1024,
  attachmentAudioMaxBytes: 25 * 1024 * 1024,
  /** How long a presigned upload (POST policy) stays usable, and its record kept. */
  uploadUrlExpirySeconds: 15 * 60,
  /** How long a presigned download URL in a delivered message works (signed on every read). */
  downloadUrlExpirySeconds: 60 * 60,
  /** Bytes read from the start of an upload to check its magic number. */
  attachmentSniffBytes: 64,
  /** Uploads never referenced by a message are deleted by the bucket lifecycle after this many days. */
  unreferencedUploadDays: 1,
  /** Rooms: `GET /api/rooms` page sizes, members named when a room is created, user id length. */
  roomsDefaultPage: 50,
  roomsMaxPage: 100,
  roomInitialMembersMax: 50,
  userIdMaxChars: 128,
  /**
   * Presence: `offline` is decided this long after a user's last connection left (an SQS delay,
   * at most 900 s), so a reconnect in between announces nothing.
   */
  presenceGraceSeconds: 15,
  /**
   * Presence and typing events are pushed only to rooms of at most this many connections: each
   * is a post to every member, so a room of N costs N posts per change and N^2 as it fills up.
   * Larger rooms still answer presence reads. (Pusher caps presence channels at 100 members.)
   */
  presenceBroadcastMaxConnections: 100,
  /** A presence answer lists at most this many users; `next_cursor` continues. */
  presencePageUsers: 100,
  /** Connections read per Query page of a presence read, and at most per answer. */
  presenceQueryPage: 200,
  presenceReadMaxConnections: 1000,
  /** Typing: one event per user and room in this interval (a shared conditional write). */
  typingIntervalMs: 2000,
  /** A `start` lapses this long after it was sent unless another follows (the event says so). */
  typingLapseMs: 6000,
  /**
   * Rooms: a member's removal runs its cut-off again this long after (an SQS delay), catching a
   * connection the first pass could not see yet (index propagation) or could not reach (a failure).
   */
  roomCutoffSweepSeconds: 10,
  /**
   * Image previews (png/jpg attachments): a JPEG thumbnail made by a task after the message is
   * stored, kept on the message as a `data:` URL. Images over the pixel cap are not decoded (a
   * 40 MP RGBA frame is 160 MB of the tasks function's memory).
   */
  previewLongestSidePx: 64,
  previewJpegQuality: 50,
  /** Largest `data:image/jpeg;base64,...` URL stored; a thumbnail over it is dropped. */
  previewMaxChars: 6 * 1024,
  previewMaxPixels: 40_000_000,
  /** jpeg-js's own allocation cap while decoding: a 40 MP JPEG needs about 800 MB of it at 4:4:4, 450 MB at 4:2:0. */
  previewDecodeMaxMemoryMb: 1024,
} as const;

/** Largest content string a message may carry, derived from the media limit. */
export const MEDIA_MAX_BASE64_CHARS = Math.ceil(LIMITS.mediaMaxBytes / 3) * 4;

/** SQS / Lambda event source settings shared by the stack and the local runtime. */
export const TASK_QUEUE_SETTINGS = {
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  /** AWS recommends at least six times the consumer's timeout (FUNCTIONS.tasks: 30 s). */
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  dlqRetentionDays: 14,
} as const;

/**
 * Message rate limits (fixed windows). A chatty human types a few messages in ten seconds; these
 * only stop scripts. Configurable per deployment through the env vars named in ENV.
 */
export const RATE_LIMITS: RateLimitSettings = {
  windowSeconds: 10,
  perConnection: 20,
  perUser: 40,
};

export interface RateLimitSettings {
  windowSeconds: number;
  perConnection: number;
  perUser: number;
}
