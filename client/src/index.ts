export { ChatClient, type ChatClientOptions, type ClientEvents, type ConnectionState, type SocketConstructor, type SocketLike } from './client.js';
export { ChatClientError, type ClientErrorCode } from './errors.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export type { HistoryOptions, HistoryPage, MessageDraft, TokenSource } from './rest.js';
export type { EventStreamOptions, StreamEvent } from './sse.js';
export {
  ATTACHMENT_FORMATS,
  attachmentMaxBytes,
  attachmentSpecOf,
  requestUpload,
  uploadAttachment,
  uploadForm,
  type AttachmentSpec,
  type AttachmentType,
  type UploadGrant,
  type UploadOptions,
} from './uploads.js';
export { type CreateRoomInput, type ListRoomsOptions, type RoomPage, RoomsApi } from './rooms.js';
export type { ConnectedData, ErrorData, MessageReceivedData, ResumedData, ServerEvents } from './protocol.js';
export {
  HTTP_PATHS,
  LIMITS,
  MESSAGE_TYPES,
  SSE_PATH,
  WS_ACTIONS,
  WS_EVENTS,
  type ChatMessage,
  type MessageAttachment,
  type ErrorCode,
  type MessageType,
  type PublishedEvent,
  type RoomInfo,
  type WsAction,
  type WsEvent,
} from './generated.js';
export type { PresenceChange, PresenceList, PresenceMember, TypingEvent, TypingState } from './presence.js';
