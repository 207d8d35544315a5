/**
 * The Scan-per-message design of aws-samples/simple-websockets-chat-app (its `sendmessage`
 * function), written again for the bench with the same SDK version as this service: one Scan of
 * the connections table per message, then PostToConnection to every connection (the sender too)
 * with an unbounded Promise.all, a management client built per invocation, no route response.
 * `addClientMiddleware` lets the bench host count its requests like the service's.
 */
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

type Plugin = { applyToStack: (stack: unknown) => void };
const plugins: Plugin[] = [];
const ddb = new DynamoDBClient({ region: process.env.AWS_REGION });
const docClient = DynamoDBDocumentClient.from(ddb);

export function addClientMiddleware(plugin: Plugin): void {
  plugins.push(plugin);
  ddb.middlewareStack.use(plugin as never);
}

interface SendEvent {
  requestContext: { domainName: string; stage: string; connectionId: string };
  body: string;
}

export const handler = async (event: SendEvent) => {
  let items: Array<{ connectionId: string }>;
  try {
    const out = await docClient.send(new ScanCommand({ TableName: process.env.TABLE_NAME, ProjectionExpression: 'connectionId' }));
    items = (out.Items ?? []) as Array<{ connectionId: string }>;
  } catch (e) {
    return { statusCode: 500, body: (e as Error).stack };
  }
  // The sample builds `https://${domainName}/${stage}`; the bench's endpoint speaks plain HTTP.
  const api = new ApiGatewayManagementApiClient({ endpoint: `http://${event.requestContext.domainName}/${event.requestContext.stage}` });
  for (const plugin of plugins) api.middlewareStack.use(plugin as never);
  const postData = JSON.parse(event.body).data as string;
  const calls = items.map(async ({ connectionId }) => {
    try {
      await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: postData }));
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) {
        await ddb.send(new DeleteItemCommand({ TableName: process.env.TABLE_NAME, Key: { connectionId: { S: connectionId } } }));
      } else {
        throw e;
      }
    }
  });
  try {
    await Promise.all(calls);
  } catch (e) {
    return { statusCode: 500, body: (e as Error).stack };
  }
  return { statusCode: 200, body: 'Data sent.' };
};
