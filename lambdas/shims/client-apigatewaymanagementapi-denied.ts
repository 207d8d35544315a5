/**
 * `@aws-sdk/client-apigatewaymanagementapi` for functions without `manageConnections`
 * (lib/access.ts); see ./denied.ts. Exports the names lambdas/adapters imports: a new import fails
 * the bundle until it is added here.
 */
import { DeniedCommand, deniedClient } from './denied.js';

export class ApiGatewayManagementApiClient extends deniedClient('@connections', 'manageConnections') {}
export class PostToConnectionCommand extends DeniedCommand {}
export class DeleteConnectionCommand extends DeniedCommand {}
export class GetConnectionCommand extends DeniedCommand {}
