/** The parts of API Gateway's WebSocket event shapes the handlers read. */
export interface WsEvent {
  requestContext: {
    connectionId: string;
    routeKey: string;
    eventType?: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
    requestId?: string;
    domainName?: string;
    stage?: string;
    authorizer?: Record<string, unknown> | null;
  };
  queryStringParameters?: Record<string, string | undefined> | null;
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface WsResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
}
