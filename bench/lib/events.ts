/** Lambda event shapes for the bench's direct invocations (API Gateway v2, WebSocket, SQS). */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

const WS_DOMAIN = 'benchws001.execute-api.us-east-1.amazonaws.com';

/** A connection id in API Gateway's style (`aB3xK9mQ2rT7vW1=`). */
export function connectionId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (const byte of randomBytes(15)) out += alphabet[byte % alphabet.length];
  return `${out}=`;
}

function wsContext(connectionId: string, routeKey: string, eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT') {
  const now = Date.now();
  return {
    routeKey,
    eventType,
    messageDirection: 'IN',
    stage: 'bench',
    connectedAt: now,
    requestTimeEpoch: now,
    identity: { sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: randomUUID(),
    domainName: WS_DOMAIN,
    connectionId,
    apiId: 'benchws001',
  };
}

export function wsConnectEvent(connectionId: string, room: string) {
  return {
    headers: { Host: WS_DOMAIN, 'Sec-WebSocket-Version': '13' },
    queryStringParameters: { room },
    requestContext: wsContext(connectionId, '$connect', 'CONNECT'),
    isBase64Encoded: false,
  };
}

export function wsMessageEvent(connectionId: string, action: string, data: unknown) {
  return {
    requestContext: { ...wsContext(connectionId, action, 'MESSAGE'), messageId: randomUUID().slice(0, 12) },
    body: JSON.stringify({ action, data }),
    isBase64Encoded: false,
  };
}

export function wsDisconnectEvent(connectionId: string) {
  return {
    headers: { Host: WS_DOMAIN },
    requestContext: { ...wsContext(connectionId, '$disconnect', 'DISCONNECT'), disconnectStatusCode: 1000, disconnectReason: '' },
    isBase64Encoded: false,
  };
}

/** HTTP API payload 2.0. */
export function httpEvent(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'benchhttp.execute-api.us-east-1.amazonaws.com', ...headers },
    requestContext: {
      accountId: '000000000000',
      apiId: 'benchhttp',
      domainName: 'benchhttp.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'benchhttp',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
}

/** The `$connect` REQUEST authorizer event (token in the query string). */
export function wsAuthorizerEvent(token: string) {
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:000000000000:benchws001/bench/$connect',
    headers: { Host: WS_DOMAIN },
    queryStringParameters: { token },
    requestContext: wsContext(connectionId(), '$connect', 'CONNECT'),
  };
}

/** An HS256 JWT the handlers accept with AUTH_SECRET=secret. */
export function hs256Token(secret: string, claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iat: now, exp: now + 3600, ...claims })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** SQS records as the event source mapping hands them to the tasks function. */
export function sqsEvent(messages: Array<{ MessageId?: string; ReceiptHandle?: string; Body?: string; Attributes?: Record<string, string> }>, queueArn: string) {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId ?? randomUUID(),
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    })),
  };
}
