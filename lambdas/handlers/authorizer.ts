/**
 * Lambda authorizer for both APIs. WebSocket `$connect` (REQUEST type): the token comes from the
 * `token` query string parameter (browsers cannot set headers on the handshake). HTTP API (payload
 * 2.0, simple responses): `Authorization: Bearer <token>`. The identity reaches the handlers as the
 * authorizer context `{ userId, roles }` (roles comma-separated: context values are strings).
 *
 * A bad, expired or foreign token is the client's mistake, not a function error: it is answered
 * with a deny (HTTP API `isAuthorized: false`, WebSocket an IAM Deny policy; API Gateway answers
 * 403 to both), so it never counts in the function's Errors metric. Only faults throw: a missing
 * configuration or an unreachable key source (SSM, JWKS), which API Gateway answers with 500 and
 * does not cache.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { bearerToken, type JwtClaims, verifyToken } from '../auth/authenticator.js';
import { ChatError } from '../domain/errors.js';
import { logger } from './common/observability.js';

export interface AuthContext {
  [key: string]: string;
  userId: string;
  roles: string;
}

type AuthorizerEvent = APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;
type AuthorizerResult = APIGatewayAuthorizerResult | APIGatewaySimpleAuthorizerWithContextResult<AuthContext>;

/** principalId of a denied `$connect` (API Gateway requires one in every policy result). */
export const DENIED_PRINCIPAL = 'unauthenticated';

const isHttpApi = (event: AuthorizerEvent): event is APIGatewayRequestAuthorizerEventV2 =>
  (event as APIGatewayRequestAuthorizerEventV2).version === '2.0';

const contextOf = (claims: JwtClaims): AuthContext => ({ userId: claims.sub, roles: claims.roles.join(',') });

function policy(effect: 'Allow' | 'Deny', event: APIGatewayRequestAuthorizerEvent, principalId: string): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
    },
  };
}

export async function authorize(event: AuthorizerEvent): Promise<AuthorizerResult> {
  const http = isHttpApi(event);
  const token = http ? bearerToken(event.headers) : event.queryStringParameters?.token;
  let claims: JwtClaims;
  try {
    claims = await verifyToken(token ?? '');
  } catch (error) {
    if (!(error instanceof ChatError)) {
      logger.error('token verification failed', { error: error as Error });
      throw error;
    }
    logger.info(http ? 'http request not authorized' : 'websocket connect not authorized', { reason: error.message });
    if (http) return { isAuthorized: false, context: { userId: '', roles: '' } };
    return policy('Deny', event, DENIED_PRINCIPAL);
  }
  if (http) return { isAuthorized: true, context: contextOf(claims) };
  return { ...policy('Allow', event, claims.sub), context: contextOf(claims) };
}

export const handler = authorize;
