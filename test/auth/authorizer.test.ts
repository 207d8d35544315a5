/**
 * The authorizer answers a bad token with a deny (never a function error, so the Errors alarm
 * only sees faults) and throws only on faults. Its HS256 secret comes from a real SSM endpoint
 * (port 0) through the real SDK client, found by AWS_ENDPOINT_URL_SSM as the local runtime sets it.
 */
import '../support/quiet.js';
import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUTH_ENV, resetAuth } from '../../lambdas/auth/authenticator.js';
import { signHs256 } from '../../lambdas/auth/jwt.js';
import { authorize, DENIED_PRINCIPAL } from '../../lambdas/handlers/authorizer.js';
import { type SsmServer, startSsmServer } from './servers.js';

const PARAMETER = '/chat/test/jwt-secret';
const SECRET = 'authorizer-test-secret-0123456789abcdef';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/test/$connect';
const ENV_KEYS = [
  AUTH_ENV.mode,
  AUTH_ENV.secretParameter,
  AUTH_ENV.secret,
  'AWS_ENDPOINT_URL_SSM',
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
];
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

let ssm: SsmServer;

const tokenFor = (sub: string, roles: string[] = [], ttl = 600) =>
  signHs256({ sub, roles, exp: Math.floor(Date.now() / 1000) + ttl }, SECRET);

const httpEvent = (authorization?: string): APIGatewayRequestAuthorizerEventV2 =>
  ({
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/POST/api/message',
    identitySource: authorization ? [authorization] : [],
    routeKey: 'POST /api/message',
    headers: authorization ? { authorization } : {},
    requestContext: {},
  }) as unknown as APIGatewayRequestAuthorizerEventV2;

const connectEvent = (token?: string): APIGatewayRequestAuthorizerEvent =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    queryStringParameters: token === undefined ? {} : { token },
    headers: {},
    requestContext: {},
  }) as unknown as APIGatewayRequestAuthorizerEvent;

const denyPolicy = {
  principalId: DENIED_PRINCIPAL,
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN }] },
};

beforeAll(async () => {
  ssm = await startSsmServer({ [PARAMETER]: SECRET });
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await ssm?.close();
});

beforeEach(() => {
  for (const k of ['AWS_ENDPOINT_URL', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', AUTH_ENV.secret]) delete process.env[k];
  Object.assign(process.env, {
    [AUTH_ENV.mode]: 'jwt',
    [AUTH_ENV.secretParameter]: PARAMETER,
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTESTAUTHORIZER',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
  });
  ssm.failWith = undefined;
  ssm.requests.length = 0;
  resetAuth();
});

afterEach(() => resetAuth());

describe('HTTP API (simple responses)', () => {
  it('allows a good token with the identity as context; the secret is read from SSM once, decrypted, signed', async () => {
    await expect(authorize(httpEvent(`Bearer ${tokenFor('alice', ['admin'])}`))).resolves.toEqual({
      isAuthorized: true,
      context: { userId: 'alice', roles: 'admin' },
    });
    await expect(authorize(httpEvent(`Bearer ${tokenFor('bob')}`))).resolves.toMatchObject({ context: { userId: 'bob', roles: '' } });
    expect(ssm.requests).toEqual([{ name: PARAMETER, withDecryption: true, signed: true }]);
  });

  it.each([
    ['an expired token', () => `Bearer ${tokenFor('alice', [], -120)}`],
    ['a forged token', () => `Bearer ${signHs256({ sub: 'alice', exp: 9_999_999_999 }, 'guessed')}`],
    ['garbage', () => 'Bearer not.a.token'],
    ['another scheme', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
  ])('denies %s without throwing (API Gateway answers 403)', async (_label, header) => {
    await expect(authorize(httpEvent(header()))).resolves.toEqual({ isAuthorized: false, context: { userId: '', roles: '' } });
  });
});

describe('WebSocket $connect (IAM policy)', () => {
  it('allows a good token: Allow on the method ARN, the user as principal, the identity as context', async () => {
    await expect(authorize(connectEvent(tokenFor('carol', ['admin', 'mod'])))).resolves.toEqual({
      principalId: 'carol',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }] },
      context: { userId: 'carol', roles: 'admin,mod' },
    });
  });

  it.each([
    ['an expired token', () => tokenFor('carol', [], -120)],
    ['a forged token', () => signHs256({ sub: 'carol', exp: 9_999_999_999 }, 'guessed')],
    ['garbage', () => 'garbage'],
    ['no token', () => undefined],
  ])('denies %s with a Deny policy, without throwing (API Gateway answers 403)', async (_label, token) => {
    await expect(authorize(connectEvent(token()))).resolves.toEqual(denyPolicy);
  });

  it('never throws for any token a client can send', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 300 }).map((s) => `${s}.${s}.${s}`)), async (token) => {
        const result = await authorize(connectEvent(token));
        expect(result).toEqual(denyPolicy);
        const http = await authorize(httpEvent(`Bearer ${token}`));
        expect(http).toMatchObject({ isAuthorized: false });
      }),
      { seed: 20261201, numRuns: 200 },
    );
  });
});

describe('faults throw (a function error: alarmed, answered 500, never cached as a deny)', () => {
  it('an SSM outage at cold start; the next call after it recovers verifies again', async () => {
    ssm.failWith = 500;
    await expect(authorize(connectEvent(tokenFor('dave')))).rejects.toThrow();
    await expect(authorize(httpEvent(`Bearer ${tokenFor('dave')}`))).rejects.toThrow();
    ssm.failWith = undefined;
    await expect(authorize(connectEvent(tokenFor('dave')))).resolves.toMatchObject({ principalId: 'dave' });
  });

  it('a missing parameter', async () => {
    process.env[AUTH_ENV.secretParameter] = '/chat/test/missing';
    await expect(authorize(httpEvent(`Bearer ${tokenFor('erin')}`))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('no AUTH_MODE: every call refused, good token or not', async () => {
    delete process.env[AUTH_ENV.mode];
    await expect(authorize(httpEvent(`Bearer ${tokenFor('frank')}`))).rejects.toMatchObject({ name: 'AuthConfigError' });
    await expect(authorize(connectEvent(tokenFor('frank')))).rejects.toMatchObject({ name: 'AuthConfigError' });
    expect(ssm.requests).toEqual([]);
  });
});
