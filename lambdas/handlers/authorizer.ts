/**
 * Lambda authorizer for both APIs. WebSocket `$connect` (REQUEST type): the token comes from the
 * `token` query string parameter (browsers cannot set headers on the handshake); a bad token
 * throws `Unauthorized`, which API Gateway answers with 401. HTTP API (payload 2.0, simple
 * responses): `Authorization: Bearer <token>`. The identity reaches the handlers as the
 * authorizer context `{ userId, roles }` (roles comma-separated: context values are strings).
 */
import type {
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayAuthorizerResult,
} from 'aws-lambda';
import { bearerToken, verifyToken } from '../auth/authenticator.js';
import { ChatError } from '../domain/errors.js';
import { logger } from './common/observability.js';

export interface AuthContext {
  [key: string]: string;
  userId: string;
  roles: string;
}

type AuthorizerEvent = APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;
type AuthorizerResult = APIGatewayAuthorizerResult | APIGatewaySimpleAuthorizerWithContextResult<AuthContext>;

const isHttpApi = (event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 =>
  (event as APIGatewayRequestAuthorizerEventV2).version === '2.0';

export async function authorize(event: AuthorizerEvent): Promise<AuthorizerResult> {
  if (isHttpApi(event)) {
    try {
      const claims = await verifyToken(bearerToken(event.headers) ?? '');
      return { isAuthorized: true, context: { userId: claims.sub, roles: claims.roles.join(',') } };
    } catch (error) {
      // A key-source outage (SSM, JWKS) is a server fault, not a bad token: it must not be
      // answered (and cached by API Gateway) as a deny.
      if (!(error instanceof ChatError)) {
        logger.error('token verification failed', { error: error as Error });
        throw error;
      }
      logger.info('http request not authorized', { reason: error.message });
      return { isAuthorized: false, context: { userId: '', roles: '' } };
    }
  }
  let claims: Awaited<ReturnType<typeof verifyToken>>;
  try {
    claims = await verifyToken(event.queryStringParameters?.token ?? '');
  } catch (error) {
    if (!(error instanceof ChatError)) {
      logger.error('token verification failed', { error: error as Error });
      throw error;
    }
    logger.info('websocket connect not authorized', { reason: error.message });
    // API Gateway maps this exact message to 401 Unauthorized.
    throw new Error('Unauthorized');
  }
  return {
    principalId: claims.sub,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    context: { userId: claims.sub, roles: claims.roles.join(',') },
  };
}

export const handler = authorize;
