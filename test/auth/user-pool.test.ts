/**
 * The Cognito user pool a stack creates with `cognito=true` (createAuth): administrators create
 * users, a public app client signs them in, the `admin` group is the admin role, and the functions'
 * environment points aws-jwt-verify at exactly this pool and client. cdk-nag clean, with reasons.
 */
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ADMIN_ROLE, AUTH_ENV, readAuthSettings } from '../../lambdas/auth/settings.js';
import { authEnvironment, createAuth, type ResolvedAuth } from '../../lib/auth.js';
import { ACCESS_TOKEN_VALIDITY } from '../../lib/constructs/user-pool.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON is untyped.
type Json = Record<string, any>;

function synth(removalPolicy: RemovalPolicy): { stack: Stack; auth: ResolvedAuth; template: Json } {
  const stack = new Stack(new App(), 'Pool');
  const auth = createAuth(stack, { createUserPool: true }, { removalPolicy });
  return { stack, auth, template: Template.fromStack(stack).toJSON() };
}

const ofType = (template: Json, type: string) => Object.entries(template.Resources as Json).filter(([, r]) => r.Type === type);

describe('createAuth with createUserPool', () => {
  const { stack, auth, template } = synth(RemovalPolicy.RETAIN);
  const [[poolId, pool]] = ofType(template, 'AWS::Cognito::UserPool') as [[string, Json]];
  const [[clientId, client]] = ofType(template, 'AWS::Cognito::UserPoolClient') as [[string, Json]];

  it('makes the pool the key source: the environment names the pool and the app client, access tokens', () => {
    expect(auth.source).toBe('cognito');
    expect(stack.resolve(authEnvironment(auth))).toEqual({
      [AUTH_ENV.mode]: 'jwt',
      [AUTH_ENV.cognitoUserPoolId]: { Ref: poolId },
      [AUTH_ENV.audience]: { Ref: clientId },
      [AUTH_ENV.tokenUse]: 'access',
    });
  });

  it('the functions read that environment as a Cognito key source', () => {
    const env = { ...authEnvironment(auth), [AUTH_ENV.cognitoUserPoolId]: 'eu-west-1_Abc123', [AUTH_ENV.audience]: 'client-id' };
    expect(readAuthSettings(env)).toEqual({
      mode: 'jwt',
      source: { kind: 'cognito', userPoolId: 'eu-west-1_Abc123', clientId: 'client-id', tokenUse: 'access' },
    });
  });

  it('users are created by an administrator, with a strong password policy; users are retained', () => {
    expect(pool.DeletionPolicy).toBe('Retain');
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      DeletionProtection: 'ACTIVE',
      UserPoolTier: 'LITE',
    });
  });

  it('a public app client: no secret, password and SRP sign-in, no user enumeration, revocable tokens', () => {
    expect(client.Properties.UserPoolId).toEqual({ Ref: poolId });
    expect(client.Properties.GenerateSecret).toBe(false);
    expect(client.Properties.ExplicitAuthFlows.sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']);
    expect(client.Properties).toMatchObject({
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      AccessTokenValidity: ACCESS_TOKEN_VALIDITY.toMinutes(),
      TokenValidityUnits: { AccessToken: 'minutes' },
    });
  });

  it('the admin group is the admin role (cognito:groups)', () => {
    const groups = ofType(template, 'AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties);
    expect(groups).toEqual([expect.objectContaining({ GroupName: ADMIN_ROLE, UserPoolId: { Ref: poolId } })]);
  });

  it('outputs the pool and client ids under plain names', () => {
    expect(template.Outputs.UserPoolId.Value).toEqual({ Ref: poolId });
    expect(template.Outputs.UserPoolClientId.Value).toEqual({ Ref: clientId });
  });

  it('cdk-nag: nothing unacknowledged, and only MFA (COG2) and the feature plan (COG8) acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.keys(m.data as Json).map((id) => id.replace(/^Annotation::/, '')));
    expect(acknowledged.sort()).toEqual(['AwsSolutions-COG2', 'AwsSolutions-COG8']);
  });

  it('a throwaway stage may delete its users with the stack', () => {
    const { template: t } = synth(RemovalPolicy.DESTROY);
    const [[, p]] = ofType(t, 'AWS::Cognito::UserPool') as [[string, Json]];
    expect(p.DeletionPolicy).toBe('Delete');
    expect(p.Properties.DeletionProtection).toBe('INACTIVE');
  });

  it('refuses a second key source beside the pool', () => {
    const s = new Stack(new App(), 'Two');
    expect(() => createAuth(s, { createUserPool: true, jwksUrl: 'https://i/jwks', issuer: 'https://i' }, { removalPolicy: RemovalPolicy.RETAIN })).toThrow(
      /cognito=true and authJwksUrl are configured; exactly one key source/,
    );
  });
});
