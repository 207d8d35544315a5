/** HTTP responses: JSON bodies, and every error mapped to `{"error": {"code", "message"}}` here. */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { toErrorBody } from '../../domain/errors.js';
import { logger } from './observability.js';

export type HttpResult = Exclude<APIGatewayProxyResultV2, string>;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(error: unknown): HttpResult {
  const { status, body } = toErrorBody(error);
  if (status >= 500) logger.error('request failed', { error: error as Error });
  else logger.info('request rejected', { code: body.code });
  return json(status, { error: body });
}
