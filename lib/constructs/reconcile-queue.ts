// schedule fan-out --> ReconcileQueue --> SQS event source --> the same function (partial batch responses)
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** A message is moved to the DLQ after this many failed receives. */
export const MAX_RECEIVE_COUNT = 3;

export interface ReconcileQueueProps {
  /** the consumer's timeout; the visibility timeout is six times it (AWS's advice for Lambda consumers) */
  readonly consumerTimeout: Duration;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The reconcile queue (one message per target when the schedule fans out) and its dead-letter
 * queue. Both SQS-managed SSE and TLS-only; the DLQ keeps messages for the 14-day maximum so an
 * operator can inspect and redrive them.
 */
export class ReconcileQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ReconcileQueueProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      removalPolicy,
    });
  }
}
