/**
 * A Cognito user pool that issues the service's tokens (context `cognito=true`): users are created
 * by an administrator (no self sign-up), sign in with a user name and password through a public app
 * client (no secret: browsers and the CLI), and members of the group `admin` get the `admin` role
 * (the `cognito:groups` claim). The functions verify its access tokens with aws-jwt-verify: issuer
 * and JWKS from the pool id, `token_use: access`, `client_id` = this app client.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ADMIN_ROLE } from '../../lambdas/auth/settings.js';

export interface ChatUserPoolProps {
  /** RETAIN keeps the users when the stack goes (and turns on deletion protection). */
  removalPolicy: RemovalPolicy;
}

/** How long an access token lives; API Gateway caches an authorizer decision for up to 5 minutes of it. */
export const ACCESS_TOKEN_VALIDITY = Duration.hours(1);

export class ChatUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly adminGroup: cognito.CfnUserPoolGroup;

  constructor(scope: Construct, id: string, props: ChatUserPoolProps) {
    super(scope, id);
    const retain = props.removalPolicy === RemovalPolicy.RETAIN;

    this.userPool = new cognito.UserPool(this, 'Pool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true },
      signInCaseSensitive: false,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Users may add an authenticator app; see the COG2 acknowledgement for why it is not forced.
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      // No e-mail or phone attributes: an administrator resets passwords (admin-set-user-password).
      accountRecovery: cognito.AccountRecovery.NONE,
      featurePlan: cognito.FeaturePlan.LITE,
      deletionProtection: retain,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional (authenticator apps, no SMS): users are created by an administrator and sign in with a 12-character password of four character classes; requiring MFA would turn the documented CLI sign-in (initiate-auth USER_PASSWORD_AUTH) into an MFA setup challenge for every new user. Set mfa to REQUIRED where the users are people with authenticator apps.',
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'The Lite feature plan covers what the service needs from the pool (password sign-in, groups in the access token, TOTP MFA). The Plus plan adds threat protection at a higher price per monthly active user; choose it with featurePlan when adaptive authentication is required.',
    });

    this.client = this.userPool.addClient('AppClient', {
      // A public client (browsers, CLI): no secret to leak. SRP for apps, password auth for the CLI.
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: ACCESS_TOKEN_VALIDITY,
      idTokenValidity: ACCESS_TOKEN_VALIDITY,
      refreshTokenValidity: Duration.days(30),
    });

    this.adminGroup = new cognito.CfnUserPoolGroup(this, 'AdminGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: ADMIN_ROLE,
      description: 'Members get the admin role: broadcast and publish events',
    });

    // Stack-level outputs so `aws cloudformation describe-stacks` shows them under plain names.
    const stack = Stack.of(this);
    new CfnOutput(stack, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Cognito user pool of the chat users' });
    new CfnOutput(stack, 'UserPoolClientId', {
      value: this.client.userPoolClientId,
      description: 'App client id: initiate-auth --client-id, and the client_id the functions accept',
    });
  }

  get userPoolId(): string {
    return this.userPool.userPoolId;
  }

  get clientId(): string {
    return this.client.userPoolClientId;
  }
}
