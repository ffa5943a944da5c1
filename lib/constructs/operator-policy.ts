// InviteSyncStack --> OperatorPolicy (managed policy, output OperatorPolicyArn) --> the operator's role or SSO permission set
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Partition keys an operator may read: run records and their actions, the run list, held-back snapshots. */
export const OPERATOR_READ_KEYS = ['RUN#*', 'RUNS#*', 'BLOCKED#*'] as const;
/** Partition keys an operator may write: approvals only. */
export const OPERATOR_WRITE_KEYS = ['APPROVAL#*'] as const;

export interface OperatorPolicyProps {
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
}

/**
 * What an operator needs to see runs and approve blocked ones against a deployed stage, and no
 * more: GetItem/Query on run and blocked items, PutItem on approval items only (both by
 * `dynamodb:LeadingKeys`; no Scan, whose missing leading key would pass a ForAllValues test),
 * SendMessage on the reconcile queue (an approval enqueues its target at once) and DescribeStacks
 * on this stack (to resolve the table and queue from the outputs). Attach it to the operator's role.
 */
export class OperatorPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `invite-sync ${stack.stackName}: read runs, approve blocked runs, enqueue their targets`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadRunsAndBlocked',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...OPERATOR_READ_KEYS] } },
        }),
        new iam.PolicyStatement({
          sid: 'PutApprovals',
          actions: ['dynamodb:PutItem'],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...OPERATOR_WRITE_KEYS] } },
        }),
        new iam.PolicyStatement({
          sid: 'EnqueueTargets',
          actions: ['sqs:SendMessage'],
          resources: [props.queue.queueArn],
        }),
        new iam.PolicyStatement({
          sid: 'ResolveOutputs',
          actions: ['cloudformation:DescribeStacks'],
          // AWS::StackId: this stack's own ARN, id included (no wildcard)
          resources: [stack.stackId],
        }),
      ],
    });
  }
}
