/**
 * The route table: every REST route and WebSocket route of the service, and which function serves
 * it. The CDK stack creates API Gateway routes from it, the HTTP handler dispatches on it, and the
 * local runtime serves exactly these routes.
 */

/** Functions of the service; `entry` is the handler module under lambdas/handlers. */
export const FUNCTIONS = {
  http: { entry: 'http', memoryMb: 256, timeoutSeconds: 10 },
  wsConnect: { entry: 'ws-connect', memoryMb: 256, timeoutSeconds: 10 },
  wsDisconnect: { entry: 'ws-disconnect', memoryMb: 256, timeoutSeconds: 10 },
  wsMessage: { entry: 'ws-message', memoryMb: 256, timeoutSeconds: 10 },
  // 1,769 MB is one full vCPU: an image preview decodes a photo of up to 40 MP (lambdas/domain/preview-image.ts).
  tasks: { entry: 'tasks', memoryMb: 1769, timeoutSeconds: 30 },
  sse: { entry: 'sse', memoryMb: 256, timeoutSeconds: 900 },
  /** Lambda authorizer of both APIs (WebSocket `$connect` and the REST routes with auth 'user'). */
  authorizer: { entry: 'authorizer', memoryMb: 256, timeoutSeconds: 5 },
} as const;

export type FunctionName = keyof typeof FUNCTIONS;

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface HttpRoute {
  method: HttpMethod;
  path: string;
  /** Name of the operation inside the HTTP handler. */
  operation: HttpOperation;
  description: string;
  /**
   * 'user': API Gateway runs the Lambda authorizer (`Authorization: Bearer <token>`) before the
   * handler. 'none': public at the gateway; only the health check and the redirect to the SSE
   * stream, whose handler verifies the token itself (EventSource cannot send headers).
   */
  auth: 'none' | 'user';
}

export type HttpOperation =
  | 'health'
  | 'sendMessage'
  | 'broadcast'
  | 'publishEvent'
  | 'history'
  | 'eventsRedirect'
  | 'createUpload'
  | 'createRoom'
  | 'listRooms'
  | 'openDirect'
  | 'addMember'
  | 'removeMember'
  | 'presence';

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { method: 'GET', path: '/api/health', operation: 'health', description: 'Service health', auth: 'none' },
  {
    method: 'POST',
    path: '/api/message',
    operation: 'sendMessage',
    description: 'Send a message to a room',
    auth: 'user',
  },
  {
    method: 'POST',
    path: '/api/messages/broadcast',
    operation: 'broadcast',
    description: 'Broadcast a system message to every connection',
    auth: 'user',
  },
  {
    method: 'POST',
    path: '/api/events/publish',
    operation: 'publishEvent',
    description: 'Publish an event to SSE clients and WebSocket clients',
    auth: 'user',
  },
  {
    method: 'GET',
    path: '/api/messages',
    operation: 'history',
    description: 'Page back through a room history',
    auth: 'user',
  },
  {
    method: 'GET',
    path: '/api/events',
    operation: 'eventsRedirect',
    description: 'Redirects (307) to the SSE stream on the streaming Function URL',
    auth: 'none',
  },
  {
    method: 'POST',
    path: '/api/uploads',
    operation: 'createUpload',
    description: 'Presigned S3 POST for an attachment (image up to 10 MB, audio up to 25 MB)',
    auth: 'user',
  },
  { method: 'POST', path: '/api/rooms', operation: 'createRoom', description: 'Create a public or private room', auth: 'user' },
  { method: 'GET', path: '/api/rooms', operation: 'listRooms', description: 'List the rooms the caller may see', auth: 'user' },
  { method: 'POST', path: '/api/rooms/direct', operation: 'openDirect', description: 'Open the direct room of two users', auth: 'user' },
  { method: 'POST', path: '/api/rooms/{room}/members', operation: 'addMember', description: 'Add a member to a room', auth: 'user' },
  {
    method: 'DELETE',
    path: '/api/rooms/{room}/members/{user}',
    operation: 'removeMember',
    description: 'Remove a member from a room',
    auth: 'user',
  },
  {
    method: 'GET',
    path: '/api/rooms/{room}/presence',
    operation: 'presence',
    description: 'Who is online in a room',
    auth: 'user',
  },
];

/** The SSE stream path, served by the streaming function (path preserved on the Function URL). */
export const SSE_PATH = '/api/events';

/** Client actions of the WebSocket protocol; each becomes a route with route selection on body.action. */
export const WS_ACTIONS = ['message', 'send_text', 'send_image', 'send_audio', 'ping', 'join', 'leave', 'resume', 'presence', 'typing'] as const;
export type WsAction = (typeof WS_ACTIONS)[number];

/** Server events of the WebSocket protocol. */
export const WS_EVENTS = [
  'connected',
  'message',
  'message_received',
  'broadcast',
  'notification',
  'pong',
  'error',
  'joined',
  'left',
  'resumed',
  'removed',
  'presence',
  'presence_list',
  'typing',
] as const;
export type WsEvent = (typeof WS_EVENTS)[number];

export const WS_ROUTE_SELECTION_EXPRESSION = '$request.body.action';

/** WebSocket route keys and the function behind each. */
export const WS_ROUTES: ReadonlyArray<{ routeKey: string; fn: FunctionName }> = [
  { routeKey: '$connect', fn: 'wsConnect' },
  { routeKey: '$disconnect', fn: 'wsDisconnect' },
  { routeKey: '$default', fn: 'wsMessage' },
  ...WS_ACTIONS.map((action) => ({ routeKey: action, fn: 'wsMessage' as const })),
];
