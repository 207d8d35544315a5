/**
 * DynamoDB tables, built from TABLES in lambdas/shared/resources.ts: on-demand, TTL, point-in-time
 * recovery, AWS-managed KMS encryption, and one GSI per index definition. Access is granted per
 * declared action (lib/access.ts), on the table or an index by its explicit ARN.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES, type TableDefinition, type TableKey } from '../../lambdas/shared/resources.js';

export type TableId = (typeof TABLES)[number]['id'];

export type TableAccess = 'read' | 'write' | 'readWrite';

export interface DataProps {
  /** RETAIN (default) keeps tables, with deletion protection, when the stack is deleted. */
  removalPolicy?: RemovalPolicy;
}

function attribute(key: TableKey): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
  };
}

export class Data extends Construct {
  /** Tables by their id in resources.ts (`Connections`, `Messages`). */
  readonly tables: Record<TableId, dynamodb.Table>;
  private readonly definitions = new Map<TableId, TableDefinition>();

  constructor(scope: Construct, id: string, props: DataProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const tables: Partial<Record<TableId, dynamodb.Table>> = {};
    for (const def of TABLES) {
      tables[def.id as TableId] = this.createTable(def, removalPolicy);
      this.definitions.set(def.id as TableId, def);
    }
    this.tables = tables as Record<TableId, dynamodb.Table>;
  }

  tableArn(tableId: TableId): string {
    return this.tables[tableId].tableArn;
  }

  /** ARN of one index the table defines (a declared permission on an unknown index is an error). */
  indexArn(tableId: TableId, indexName: string): string {
    const def = this.definitions.get(tableId)!;
    if (!def.indexes.some((index) => index.indexName === indexName)) {
      throw new Error(`Table ${tableId} has no index ${indexName}`);
    }
    return `${this.tables[tableId].tableArn}/index/${indexName}`;
  }

  private createTable(def: TableDefinition, removalPolicy: RemovalPolicy): dynamodb.Table {
    const table = new dynamodb.Table(this, def.id, {
      partitionKey: attribute(def.partitionKey),
      sortKey: def.sortKey ? attribute(def.sortKey) : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: def.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    });
    for (const index of def.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
        ...(index.nonKeyAttributes.length > 0
          ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: index.nonKeyAttributes }
          : { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
      });
    }
    return table;
  }
}
