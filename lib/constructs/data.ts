/**
 * DynamoDB tables, built from TABLES in lambdas/shared/resources.ts: on-demand, TTL, point-in-time
 * recovery, AWS-managed KMS encryption, and one GSI per index definition.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLES, type TableDefinition, type TableKey } from '../../lambdas/shared/resources.js';

export type TableId = (typeof TABLES)[number]['id'];

export type TableAccess = 'read' | 'write' | 'readWrite';

/**
 * Actions granted per access level. Narrower than the CDK's grantReadData/grantWriteData: no Scan
 * (fan-out and history use Query), no transactions, no streams, and index access is limited to
 * Query on the indexes the table defines (explicit ARNs, no `index/*` wildcard).
 */
const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'];
const INDEX_READ_ACTIONS = ['dynamodb:Query'];
const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DescribeTable',
];

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

  /** Grants least-privilege data access on one table (and Query on its indexes for reads). */
  grant(tableId: TableId, access: TableAccess, grantee: iam.IGrantable): void {
    const table = this.tables[tableId];
    const def = this.definitions.get(tableId)!;
    const actions = new Set<string>();
    if (access !== 'write') for (const a of TABLE_READ_ACTIONS) actions.add(a);
    if (access !== 'read') for (const a of TABLE_WRITE_ACTIONS) actions.add(a);
    iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [table.tableArn] });
    if (access !== 'write' && def.indexes.length > 0) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: INDEX_READ_ACTIONS,
        resourceArns: def.indexes.map((index) => `${table.tableArn}/index/${index.indexName}`),
      });
    }
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
