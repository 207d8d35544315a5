/**
 * Auth fails closed: a function without AUTH_MODE, or with an incomplete key source, refuses every
 * call as a fault; only an explicit AUTH_MODE=off lets callers in (as the anonymous identity).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  AUTH_ENV,
  AuthConfigError,
  authEnabled,
  identityFromAuthorizer,
  resetAuth,
  resolveSender,
  verifyToken,
} from '../../lambdas/auth/authenticator.js';
import { signHs256 } from '../../lambdas/auth/jwt.js';
import { readAuthSettings } from '../../lambdas/auth/settings.js';
import { ChatError } from '../../lambdas/domain/errors.js';

const SECRET = 'fail-closed-secret-0123456789abcdef';
const token = () => signHs256({ sub: 'alice', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);
const saved = process.env[AUTH_ENV.mode];

afterEach(() => {
  if (saved === undefined) delete process.env[AUTH_ENV.mode];
  else process.env[AUTH_ENV.mode] = saved;
  resetAuth();
});

describe('settings', () => {
  it.each([
    ['no AUTH_MODE', {}, /AUTH_MODE is not set/],
    ['an empty AUTH_MODE', { AUTH_MODE: ' ' }, /AUTH_MODE is not set/],
    ['an unknown AUTH_MODE', { AUTH_MODE: 'none' }, /AUTH_MODE=none is not one of jwt, off/],
    ['jwt without a key source', { AUTH_MODE: 'jwt' }, /needs a key source/],
    ['two key sources', { AUTH_MODE: 'jwt', AUTH_SECRET: 's', AUTH_SECRET_PARAMETER: '/p' }, /exactly one key source.*AUTH_SECRET_PARAMETER and AUTH_SECRET/],
    ['a JWKS URL without an issuer', { AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'https://i.example.com/jwks' }, /needs AUTH_ISSUER/],
    ['a user pool without a client id', { AUTH_MODE: 'jwt', AUTH_COGNITO_USER_POOL_ID: 'eu-west-1_x' }, /needs AUTH_AUDIENCE/],
    ['an unknown token use', { AUTH_MODE: 'jwt', AUTH_COGNITO_USER_POOL_ID: 'eu-west-1_x', AUTH_AUDIENCE: 'c', AUTH_TOKEN_USE: 'refresh' }, /access or id/],
  ])('%s is a configuration error', (_label, env, message) => {
    expect(() => readAuthSettings(env)).toThrow(AuthConfigError);
    expect(() => readAuthSettings(env)).toThrow(message);
  });

  it('reads each key source', () => {
    expect(readAuthSettings({ AUTH_MODE: 'off' })).toEqual({ mode: 'off' });
    expect(readAuthSettings({ AUTH_MODE: 'off', AUTH_SECRET: 's' })).toEqual({ mode: 'off', source: { kind: 'secret', secret: 's' } });
    expect(readAuthSettings({ AUTH_MODE: 'jwt', AUTH_COGNITO_USER_POOL_ID: 'eu-west-1_x', AUTH_AUDIENCE: 'client' })).toEqual({
      mode: 'jwt',
      source: { kind: 'cognito', userPoolId: 'eu-west-1_x', clientId: 'client', tokenUse: 'access' },
    });
    expect(readAuthSettings({ AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'https://i/jwks', AUTH_ISSUER: 'https://i', AUTH_AUDIENCE: 'a' })).toEqual({
      mode: 'jwt',
      source: { kind: 'jwks', jwksUrl: 'https://i/jwks', issuer: 'https://i', audience: 'a' },
    });
    expect(readAuthSettings({ AUTH_MODE: 'jwt', AUTH_SECRET_PARAMETER: '/chat/dev/jwt-secret' })).toMatchObject({
      source: { kind: 'secretParameter', parameterName: '/chat/dev/jwt-secret' },
    });
  });
});

describe('without AUTH_MODE', () => {
  it('counts as auth on, and the identity check refuses the call as a fault even with an authorizer context', () => {
    delete process.env[AUTH_ENV.mode];
    expect(authEnabled()).toBe(true);
    const attempt = () => identityFromAuthorizer({ userId: 'alice', roles: 'admin' }, 'hint');
    expect(attempt).toThrow(AuthConfigError);
    expect(attempt).not.toThrow(ChatError);
  });

  it('never verifies a token, however well signed', async () => {
    await expect(verifyToken(token(), { [AUTH_ENV.secret]: SECRET })).rejects.toBeInstanceOf(AuthConfigError);
  });

  it('a sender is bound to the identity (auth counts as on)', () => {
    delete process.env[AUTH_ENV.mode];
    expect(() => resolveSender({ userId: 'alice', roles: [] }, 'mallory')).toThrow(/own user id/);
  });
});

describe('AUTH_MODE=jwt', () => {
  it('takes the identity from the authorizer context, and refuses a request without one (401)', () => {
    process.env[AUTH_ENV.mode] = 'jwt';
    expect(identityFromAuthorizer({ userId: 'alice', roles: 'admin,mod' }, 'hint')).toEqual({ userId: 'alice', roles: ['admin', 'mod'] });
    expect(() => identityFromAuthorizer({}, 'Send a token')).toThrow(new ChatError('unauthorized', 'Send a token'));
  });

  it('verifies with the configured key source; a configuration error is retried, not cached', async () => {
    await expect(verifyToken(token(), { [AUTH_ENV.mode]: 'jwt' })).rejects.toBeInstanceOf(AuthConfigError);
    await expect(verifyToken(token(), { [AUTH_ENV.mode]: 'jwt', [AUTH_ENV.secret]: SECRET })).resolves.toMatchObject({ sub: 'alice' });
  });
});

describe('AUTH_MODE=off (explicit local opt-out)', () => {
  it('lets every caller in as the anonymous identity and takes the sender as sent', () => {
    process.env[AUTH_ENV.mode] = 'off';
    expect(authEnabled()).toBe(false);
    expect(identityFromAuthorizer(undefined, 'hint')).toBe(ANONYMOUS);
    expect(resolveSender(ANONYMOUS, 'bob')).toBe('bob');
  });

  it('still verifies a token it is given when a key source is configured, and cannot without one', async () => {
    await expect(verifyToken(token(), { [AUTH_ENV.mode]: 'off', [AUTH_ENV.secret]: SECRET })).resolves.toMatchObject({ sub: 'alice' });
    resetAuth();
    await expect(verifyToken('forged.token.x', { [AUTH_ENV.mode]: 'off', [AUTH_ENV.secret]: SECRET })).rejects.toBeInstanceOf(ChatError);
    resetAuth();
    await expect(verifyToken(token(), { [AUTH_ENV.mode]: 'off' })).rejects.toThrow(/AUTH_MODE=off and no key source/);
  });
});
