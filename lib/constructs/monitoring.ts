// function + DLQ + EMF metrics (namespace InviteSync) --> Monitoring --> alarms --> SNS topic; dashboard
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAME, type MetricName } from '../../functions/runtime/metric-names.ts';

// namespace, service dimension and metric names: the handlers' own list (functions/runtime/metric-names.ts)
export { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAME, type MetricName };

const PERIOD = Duration.minutes(5);

export interface MonitoringProps {
  readonly handler: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** subscribed to the alarm topic. @default - no email subscription */
  readonly alarmEmails?: readonly string[];
  /** for the topic's KMS key. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Alarms (function errors, DLQ depth, failed invites, blocked runs; missing data is not breaching),
 * an SNS topic they notify (TLS only, encrypted with a customer-managed KMS key: CloudWatch cannot
 * publish to a topic under the AWS-managed `aws/sns` key, so the key grants CloudWatch use of it),
 * and a dashboard of the run metrics.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', {
      description: 'invite-sync alarm topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'invite-sync alarms',
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of props.alarmEmails ?? []) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    const errors = props.handler.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM });
    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM });
    const failed = syncMetric('InvitesFailed');
    const blocked = syncMetric('RunsBlocked');

    this.alarms = [
      this.alarm('FunctionErrors', errors, 'The function failed (threw or timed out) at least once in 5 minutes.'),
      this.alarm('DeadLetters', dlqDepth, 'Reconcile messages reached the dead-letter queue: inspect them, then redrive.'),
      this.alarm('InvitesFailed', failed, 'Losant refused at least one invite in 5 minutes.'),
      this.alarm('RunsBlocked', blocked, 'A safety brake blocked a run: review the plan and approve it, or fix the roster.'),
    ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Invites',
            left: [syncMetric('InvitesSent'), syncMetric('InvitesRenewed'), failed],
            width: 12,
          }),
          new cloudwatch.GraphWidget({ title: 'Blocked runs', left: [blocked], width: 6 }),
          new cloudwatch.GraphWidget({
            title: 'Drift remaining',
            left: [syncMetric('DriftRemaining', cloudwatch.Stats.MAXIMUM)],
            width: 6,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Run duration (ms)',
            left: [syncMetric('RunDurationMs', cloudwatch.Stats.AVERAGE), syncMetric('RunDurationMs', cloudwatch.Stats.MAXIMUM)],
            width: 8,
          }),
          new cloudwatch.GraphWidget({ title: 'Function errors', left: [errors], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Dead-letter queue depth', left: [dlqDepth], width: 8 }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, description: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: `invite-sync: ${description}`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    return alarm;
  }
}

/** One of the handlers' EMF metrics, `service` dimension included, over 5 minutes. */
export function syncMetric(name: MetricName, statistic: string = cloudwatch.Stats.SUM): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period: PERIOD,
  });
}
