/**
 * What the Lambda authorizer (handlers/authorizer.ts, auth/authenticator.ts) calls: nothing but
 * the token key source, i.e. GetParameter on the HS256 secret when the stack uses one.
 */
import { READ_AUTH_SECRET } from '../shared/permissions.js';
import { declareRoot } from './wiring.js';

export const authorizerDeclaration = declareRoot([READ_AUTH_SECRET], 'verify');
