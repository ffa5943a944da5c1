// InviteSyncStack --> StateTable --> DynamoDB table (people, ledger, leases, runs, deliveries)
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_DESIGN } from '../../functions/state/table-design.ts';

export interface StateTableProps {
  /**
   * RETAIN also turns on deletion protection: the ledger is what keeps a rerun from inviting a person twice.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The single state table with fixed, non-negotiable settings: on-demand billing, point-in-time
 * recovery, AWS-managed encryption and TTL on `expiresAt`. Key names come from TABLE_DESIGN, the
 * same constant the store and DynamoDB Local use. No physical name: stages can share an account.
 */
export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    const retain = props.removalPolicy === RemovalPolicy.RETAIN;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_DESIGN.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_DESIGN.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE_DESIGN.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
