/** ConnectionGateway on the API Gateway management API (`@connections`). */
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { type ConnectionGateway, type PostOutcome, TransientDeliveryError } from '../domain/ports.js';
import { MANAGE_CONNECTIONS, type MethodPermissions } from '../shared/permissions.js';

export const GATEWAY_PERMISSIONS: MethodPermissions<ConnectionGateway> = {
  post: MANAGE_CONNECTIONS,
  disconnect: MANAGE_CONNECTIONS,
};

const encoder = new TextEncoder();

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export class ApiGatewayConnectionGateway implements ConnectionGateway {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, payload: string): Promise<PostOutcome> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: encoder.encode(payload) }));
      return 'ok';
    } catch (error) {
      const name = (error as Error).name;
      const status = statusOf(error);
      if (name === 'GoneException' || status === 410) return 'gone';
      if (name === 'LimitExceededException' || name === 'ThrottlingException' || status === 429) {
        throw new TransientDeliveryError('PostToConnection throttled', 'throttled');
      }
      if (status !== undefined && status >= 500) throw new TransientDeliveryError(`PostToConnection ${status}`, 'server');
      if (status === undefined) throw new TransientDeliveryError(`PostToConnection failed: ${name}`, 'network');
      throw error;
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if ((error as Error).name !== 'GoneException' && statusOf(error) !== 410) throw error;
    }
  }
}
