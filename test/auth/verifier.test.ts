/**
 * The token verifiers with real keys made by jose: HS256 secrets, RS256/ES256 key sets served by a
 * real HTTP server on port 0, and Cognito tokens through aws-jwt-verify. Every token the client
 * could have got wrong must come back as a ChatError `unauthorized` (a deny), and every failure of
 * the key source as something else (a fault that alarms).
 */
import { createPublicKey } from 'node:crypto';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JwtClaims } from '../../lambdas/auth/claims.js';
import { signHs256, verifyJwt } from '../../lambdas/auth/jwt.js';
import type { KeySource } from '../../lambdas/auth/settings.js';
import { createVerifier, type TokenVerifier } from '../../lambdas/auth/verifiers.js';
import { ChatError } from '../../lambdas/domain/errors.js';
import { type JwksServer, nowSeconds, type SigningKey, sign, signingKey, startJwksServer } from './servers.js';

const SECRET = 'an-hs256-secret-of-at-least-32-bytes-0123456789';
const HS = { privateKey: new TextEncoder().encode(SECRET), alg: 'HS256' };
const ISSUER = 'https://issuer.example.com';
const AUDIENCE = 'chat-api';
const noSsm = { loadSecret: async () => Promise.reject(new Error('no SSM in this test')) };

/** What a verification ended in: the claims, `unauthorized: <message>` or `fault: <error name>`. */
async function outcome(verifier: TokenVerifier, token: string): Promise<JwtClaims | string> {
  try {
    return await verifier.verify(token);
  } catch (error) {
    if (error instanceof ChatError) return `${error.code}: ${error.message}`;
    return `fault: ${(error as Error).constructor.name}`;
  }
}

const valid = (claims: Record<string, unknown> = {}) => ({ sub: 'alice', roles: ['admin'], exp: nowSeconds() + 600, ...claims });
/** The same token with another protected header (its signature no longer matches). */
const withHeader = (token: string, header: object) =>
  [Buffer.from(JSON.stringify(header)).toString('base64url'), ...token.split('.').slice(1)].join('.');
const unsigned = (header: object, payload: object) =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

describe('HS256 secret (jose)', () => {
  let verifier: TokenVerifier;
  let strict: TokenVerifier;

  beforeAll(async () => {
    verifier = await createVerifier({ kind: 'secret', secret: SECRET }, noSsm);
    strict = await createVerifier({ kind: 'secret', secret: SECRET, issuer: ISSUER, audience: AUDIENCE }, noSsm);
  });

  it('accepts a good token and returns subject, roles and expiry', async () => {
    const exp = nowSeconds() + 600;
    expect(await outcome(verifier, await sign({ sub: 'alice', roles: ['admin', 'mod'], exp }, HS))).toEqual({
      sub: 'alice',
      roles: ['admin', 'mod'],
      exp,
    });
  });

  it('accepts the dev signer tokens (the local runtime signs with it)', async () => {
    expect(await outcome(verifier, signHs256(valid(), SECRET))).toMatchObject({ sub: 'alice', roles: ['admin'] });
    await expect(verifyJwt(signHs256(valid(), SECRET), { secret: SECRET })).resolves.toMatchObject({ sub: 'alice' });
  });

  it.each([
    ['expired', () => sign(valid({ exp: nowSeconds() - 120 }), HS), 'unauthorized: Token has expired'],
    ['not valid yet', () => sign(valid({ nbf: nowSeconds() + 600 }), HS), 'unauthorized: Token is not valid yet'],
    ['signed with another secret', () => sign(valid(), { ...HS, privateKey: new TextEncoder().encode(`${SECRET}x`) }), 'unauthorized: Token signature is invalid'],
    ['without exp', () => sign({ sub: 'alice' }, HS), 'unauthorized: Token has no expiry'],
    ['without sub', () => sign({ exp: nowSeconds() + 600 }, HS), 'unauthorized: Token has no subject'],
    ['alg none', async () => unsigned({ alg: 'none', typ: 'JWT' }, valid()), 'unauthorized: Token algorithm is not accepted'],
    ['alg HS512', () => sign(valid(), { ...HS, alg: 'HS512' }), 'unauthorized: Token algorithm is not accepted'],
    ['garbage', async () => 'not.a.token', 'unauthorized: Token is malformed'],
    ['empty', async () => '', 'unauthorized: A bearer token is required'],
    ['too long', async () => `${'a'.repeat(9000)}.b.c`, 'unauthorized: Token is too long'],
  ])('rejects a token %s', async (_label, make, expected) => {
    expect(await outcome(verifier, await make())).toBe(expected);
  });

  it('an RS256 token is refused by an HS256 source (no algorithm confusion)', async () => {
    const rsa = await signingKey('RS256', 'k1');
    expect(await outcome(verifier, await sign(valid(), rsa))).toBe('unauthorized: Token algorithm is not accepted');
  });

  it('checks issuer and audience when configured', async () => {
    const good = valid({ iss: ISSUER, aud: AUDIENCE });
    expect(await outcome(strict, await sign(good, HS))).toMatchObject({ sub: 'alice' });
    expect(await outcome(strict, await sign({ ...good, iss: 'https://other.example.com' }, HS))).toBe(
      'unauthorized: Token issuer is not accepted',
    );
    expect(await outcome(strict, await sign({ ...good, aud: 'other-api' }, HS))).toBe('unauthorized: Token audience is not accepted');
    expect(await outcome(strict, await sign(valid(), HS))).toBe('unauthorized: Token issuer is not accepted');
  });

  it('roles: arrays, strings and Cognito groups; a role with a comma cannot smuggle another one in', async () => {
    const rolesOf = async (claims: Record<string, unknown>) => ((await verifier.verify(await sign(valid(claims), HS))) as JwtClaims).roles;
    expect(await rolesOf({ roles: 'admin, mod' })).toEqual(['admin', 'mod']);
    expect(await rolesOf({ roles: undefined, 'cognito:groups': ['admin'] })).toEqual(['admin']);
    expect(await rolesOf({ roles: ['user,admin', 'mod'] })).toEqual(['mod']);
    expect(await rolesOf({ roles: 42 })).toEqual([]);
  });

  it('an empty secret is a configuration fault, not a token error', async () => {
    await expect(createVerifier({ kind: 'secret', secret: '' }, noSsm)).rejects.toMatchObject({ name: 'AuthConfigError' });
  });
});

describe('JWKS by URL (jose, RS256/ES256)', () => {
  let rsa: SigningKey;
  let ec: SigningKey;
  let other: SigningKey;
  let jwks: JwksServer;
  let source: KeySource;
  let verifier: TokenVerifier;
  const claims = () => valid({ iss: ISSUER, aud: AUDIENCE });

  beforeAll(async () => {
    [rsa, ec, other] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-1'), signingKey('RS256', 'rsa-2')]);
    jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk]);
    source = { kind: 'jwks', jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE };
    verifier = await createVerifier(source, noSsm);
  });

  afterAll(() => jwks?.close());

  it('fetches the key set on first use and accepts RS256 and ES256 tokens, each by its kid', async () => {
    expect(jwks.hits).toBe(0);
    expect(await outcome(verifier, await sign(claims(), rsa))).toMatchObject({ sub: 'alice', roles: ['admin'] });
    expect(await outcome(verifier, await sign(claims(), ec))).toMatchObject({ sub: 'alice' });
    expect(jwks.hits).toBe(1);
  });

  it.each([
    ['expired', () => sign({ ...claims(), exp: nowSeconds() - 120 }, rsa), 'unauthorized: Token has expired'],
    ['from another issuer', () => sign({ ...claims(), iss: 'https://evil.example.com' }, rsa), 'unauthorized: Token issuer is not accepted'],
    ['for another audience', () => sign({ ...claims(), aud: 'another-app' }, ec), 'unauthorized: Token audience is not accepted'],
    ['with an unknown kid', () => sign(claims(), other), 'unauthorized: Token key is unknown'],
    ['signed by another key under a known kid', () => sign(claims(), { ...other, kid: rsa.kid }), 'unauthorized: Token signature is invalid'],
    ['whose RS256 header names the EC key', () => sign(claims(), rsa, { alg: 'RS256', kid: ec.kid }), 'unauthorized: Token key is unknown'],
    ['alg none', async () => unsigned({ alg: 'none', kid: rsa.kid }, claims()), 'unauthorized: Token algorithm is not accepted'],
    ['alg RS512 in the header', async () => withHeader(await sign(claims(), rsa), { alg: 'RS512', kid: rsa.kid }), 'unauthorized: Token algorithm is not accepted'],
  ])('rejects a token %s', async (_label, make, expected) => {
    expect(await outcome(verifier, await make())).toBe(expected);
  });

  it('HS256 signed with the public key as the secret (algorithm confusion) is refused', async () => {
    const pem = createPublicKey({ key: rsa.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const forged = await sign(claims(), { privateKey: new TextEncoder().encode(String(pem)), alg: 'HS256', kid: rsa.kid });
    expect(await outcome(verifier, forged)).toBe('unauthorized: Token algorithm is not accepted');
  });

  it('a JWKS endpoint that fails is a fault, not a deny', async () => {
    const down = await startJwksServer([]);
    down.answer = { status: 503 };
    const broken = await createVerifier({ ...source, jwksUrl: down.url } as KeySource, noSsm);
    expect(await outcome(broken, await sign(claims(), rsa))).toBe('fault: JOSEError');
    expect(down.hits).toBe(1);
    await down.close();
    // Nothing listens there any more: the fetch fails, still a fault.
    const gone = await createVerifier({ ...source, jwksUrl: down.url } as KeySource, noSsm);
    expect(await outcome(gone, await sign(claims(), rsa))).toMatch(/^fault: /);
  });

  it('a JWKS that is not a key set is a fault', async () => {
    const bad = await startJwksServer([]);
    bad.answer = { keys: 'nope' as never };
    const broken = await createVerifier({ ...source, jwksUrl: bad.url } as KeySource, noSsm);
    expect(await outcome(broken, await sign(claims(), rsa))).toBe('fault: JWKSInvalid');
    await bad.close();
  });
});

describe('Cognito user pool (aws-jwt-verify)', () => {
  const REGION = 'eu-west-1';
  const POOL = 'eu-west-1_TestPool1';
  const CLIENT = 'client1234567890';
  const POOL_ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${POOL}`;
  let key: SigningKey;
  let jwks: JwksServer;
  let verifier: TokenVerifier;
  let fetched: string[];

  /**
   * The pool's JWKS URL is fixed by the pool id (https); this fetcher sends the request to the local
   * server over http instead, failing as the library's own fetcher does (status ≠ 200 or network).
   */
  function cacheFor(server: JwksServer) {
    return new SimpleJwksCache({
      fetcher: {
        fetch: async (uri) => {
          fetched.push(uri);
          const response = await fetch(server.url).catch((error: Error) => {
            throw new FetchError(uri, error.message);
          });
          if (response.status !== 200) throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
          return response.arrayBuffer();
        },
      },
    });
  }

  const access = (claims: Record<string, unknown> = {}) => ({
    sub: '5f1e0c2a-user',
    iss: POOL_ISSUER,
    client_id: CLIENT,
    token_use: 'access',
    'cognito:groups': ['admin'],
    exp: nowSeconds() + 600,
    ...claims,
  });

  beforeAll(async () => {
    fetched = [];
    key = await signingKey('RS256', 'cognito-1');
    jwks = await startJwksServer([key.publicJwk]);
    verifier = await createVerifier(
      { kind: 'cognito', userPoolId: POOL, clientId: CLIENT, tokenUse: 'access' },
      { ...noSsm, cognitoJwksCache: cacheFor(jwks) },
    );
  });

  afterAll(() => jwks?.close());

  it('accepts an access token of the app client; the admin group becomes the admin role', async () => {
    expect(await outcome(verifier, await sign(access(), key))).toMatchObject({ sub: '5f1e0c2a-user', roles: ['admin'] });
    expect(fetched).toEqual([`${POOL_ISSUER}/.well-known/jwks.json`]);
  });

  it.each([
    ['an ID token where access tokens are expected', () => access({ token_use: 'id', aud: CLIENT, client_id: undefined }), 'unauthorized: Token use is not accepted'],
    ['of another app client', () => access({ client_id: 'someone-else' }), 'unauthorized: Token client is not accepted'],
    ['of another user pool', () => access({ iss: `https://cognito-idp.${REGION}.amazonaws.com/eu-west-1_Other` }), 'unauthorized: Token issuer is not accepted'],
    ['expired', () => access({ exp: nowSeconds() - 120 }), 'unauthorized: Token has expired'],
    ['without exp', () => access({ exp: undefined }), 'unauthorized: Token has no expiry'],
  ])('rejects a token %s', async (_label, claims, expected) => {
    expect(await outcome(verifier, await sign(claims(), key))).toBe(expected);
  });

  it('rejects unknown kids, foreign keys, alg none and HS256', async () => {
    const stranger = await signingKey('RS256', 'not-in-pool');
    expect(await outcome(verifier, await sign(access(), stranger))).toBe('unauthorized: Token key is unknown');
    expect(await outcome(verifier, await sign(access(), { ...stranger, kid: key.kid }))).toBe('unauthorized: Token signature is invalid');
    expect(await outcome(verifier, unsigned({ alg: 'none', kid: key.kid }, access()))).toMatch(/^unauthorized: /);
    expect(await outcome(verifier, await sign(access(), { privateKey: new TextEncoder().encode(SECRET), alg: 'HS256', kid: key.kid }))).toMatch(
      /^unauthorized: /,
    );
    expect(await outcome(verifier, 'x.y.z')).toBe('unauthorized: Token is malformed');
  });

  it('ID tokens when configured for them (audience = app client)', async () => {
    const ids = await createVerifier(
      { kind: 'cognito', userPoolId: POOL, clientId: CLIENT, tokenUse: 'id' },
      { ...noSsm, cognitoJwksCache: cacheFor(jwks) },
    );
    expect(await outcome(ids, await sign(access({ token_use: 'id', aud: CLIENT, client_id: undefined }), key))).toMatchObject({ sub: '5f1e0c2a-user' });
    expect(await outcome(ids, await sign(access({ token_use: 'id', aud: 'other' }), key))).toBe('unauthorized: Token client is not accepted');
  });

  it('an unreachable pool JWKS is a fault', async () => {
    const down = await startJwksServer([]);
    down.answer = { status: 500 };
    const broken = await createVerifier(
      { kind: 'cognito', userPoolId: POOL, clientId: CLIENT, tokenUse: 'access' },
      { ...noSsm, cognitoJwksCache: cacheFor(down) },
    );
    expect(await outcome(broken, await sign(access(), key))).toMatch(/^fault: .*FetchError$/);
    await down.close();
  });

  it('an invalid pool id is a configuration fault', async () => {
    await expect(
      createVerifier({ kind: 'cognito', userPoolId: 'not a pool', clientId: CLIENT, tokenUse: 'access' }, noSsm),
    ).rejects.toMatchObject({ name: 'AuthConfigError' });
  });
});
