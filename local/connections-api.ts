/**
 * The stage's `@connections` management API (POST sends a message, GET describes the connection,
 * DELETE closes it; 410 GoneException for a connection that is gone), as the handlers reach it
 * through the real ApiGatewayManagementApiClient. Paths with the stage prefix work too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { PayloadTooLargeError, readBody, sendJson } from './http-event.js';
import type { Connection, PostFault } from './websocket-api.js';

const CONNECTIONS_PATH = /^(?:\/[^/]+)?\/@connections\/([^/]+)\/?$/;

export function awsError(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { message }, { 'x-amzn-ErrorType': errorType });
}

export interface ManagementDeps {
  stage: string;
  messageLimit: number;
  connections: Map<string, Connection>;
  faults: Array<PostFault & { hits: number }>;
  sendMessage(ws: WebSocket, data: Buffer | string): Promise<void>;
  closeConnection(conn: Connection, code: number, reason: string): void;
}

/**
 * Serves one `@connections` request. `body`: the request body when the caller has read it already
 * (the IAM gate in front of this endpoint reads it to authorize the call, then hands the request
 * on in process rather than over a second loopback HTTP hop).
 */
export type ManagementHandler = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => Promise<void>;

export function managementHandler(deps: ManagementDeps): ManagementHandler {
  const { stage, messageLimit, connections, faults, sendMessage, closeConnection } = deps;
  return async (req: IncomingMessage, res: ServerResponse, preRead?: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const match = CONNECTIONS_PATH.exec(pathname);
    if (!match) {
      if (req.method === 'GET' && (pathname === '/' || pathname === `/${stage}`)) {
        sendJson(res, 426, { message: 'Upgrade Required: connect with a WebSocket client' });
      } else {
        awsError(res, 404, 'NotFoundException', 'Not Found');
      }
      return;
    }
    let connectionId: string;
    try {
      connectionId = decodeURIComponent(match[1]!);
    } catch {
      awsError(res, 400, 'BadRequestException', 'Invalid connection id');
      return;
    }
    const conn = connections.get(connectionId);
    switch (req.method) {
      case 'POST': {
        let data: Buffer;
        try {
          if (preRead && preRead.length > messageLimit) throw new PayloadTooLargeError(messageLimit);
          data = preRead ?? (await readBody(req, messageLimit));
        } catch (error) {
          if (error instanceof PayloadTooLargeError) {
            awsError(res, 413, 'PayloadTooLargeException', `Message is larger than ${messageLimit} bytes`);
            return;
          }
          throw error;
        }
        const fault = faults.find((f) => f.hits < (f.times ?? 1) && f.match(connectionId, data));
        if (fault) {
          fault.hits++;
          awsError(res, fault.status, fault.errorType, 'Injected fault');
          return;
        }
        if (!conn || conn.closing) {
          awsError(res, 410, 'GoneException', `Connection ${connectionId} is gone`);
          return;
        }
        try {
          await sendMessage(conn.ws, data);
        } catch {
          awsError(res, 410, 'GoneException', `Connection ${connectionId} is gone`);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0' });
        res.end();
        return;
      }
      case 'GET': {
        if (!conn || conn.closing) {
          awsError(res, 410, 'GoneException', `Connection ${connectionId} is gone`);
          return;
        }
        sendJson(res, 200, {
          connectedAt: new Date(conn.connectedAt).toISOString(),
          identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
          lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
        });
        return;
      }
      case 'DELETE': {
        if (!conn || conn.closing) {
          awsError(res, 410, 'GoneException', `Connection ${connectionId} is gone`);
          return;
        }
        closeConnection(conn, 1000, '');
        res.writeHead(204);
        res.end();
        return;
      }
      default:
        awsError(res, 405, 'MethodNotAllowedException', 'Method Not Allowed');
    }
  };
}
