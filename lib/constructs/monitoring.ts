// functions + queues + HTTP API + EMF metrics (namespace InviteSync, [service, stage]) --> Monitoring --> alarms --> SNS topic (+ notify.topicArn); dashboard
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import {
  DROPS_FAILED,
  DROPS_REJECTED,
  EVENTS_REJECTED,
  INVITES_AMBIGUOUS,
  INVITES_NO_SEAT,
  MEMBERS_REMOVED,
  METRIC_NAMES,
  METRICS_NAMESPACE,
  RECONCILE_QUEUE_FAILURES,
  RUNS_CONTINUED,
  SEATS_FREE,
  SERVICE_NAME,
  SOURCE_SILENT,
  WEBHOOK_ACCEPTED,
  WEBHOOK_MISCONFIGURED,
  WEBHOOK_REJECTED,
  type MetricName,
} from '../../functions/runtime/metric-names.ts';

// namespace, service dimension and metric names: the handlers' own list (functions/runtime/metric-names.ts)
export { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAME, type MetricName };

const PERIOD = Duration.minutes(5);

/** Webhook rejections that page: this many refused webhook requests (WebhookRejected) in 15 minutes while none was accepted (WebhookAccepted). */
export const WEBHOOK_REJECTIONS_THRESHOLD = 20;
/** The reconcile queue's oldest message may wait this long (a busy-lease retry waits one visibility timeout, 30 min). */
export const QUEUE_AGE_THRESHOLD = Duration.hours(1);

/** The custom metrics with an alarm of their own (≥ 1 in 5 minutes), and what the operator does. */
export const ALARMED_METRICS: readonly { id: string; metric: string; description: string }[] = [
  { id: 'InvitesFailed', metric: 'InvitesFailed', description: 'Losant refused at least one invite in 5 minutes.' },
  {
    id: 'InvitesAmbiguous',
    metric: INVITES_AMBIGUOUS,
    description: 'A POST of an invite went unanswered and a lookup did not find it: the next run adopts it if it appears, else invites.',
  },
  { id: 'RunsBlocked', metric: 'RunsBlocked', description: 'A safety brake blocked a run: review the plan and approve it, or fix the roster.' },
  { id: 'ReconcileQueueFailures', metric: RECONCILE_QUEUE_FAILURES, description: 'HR events were stored but their targets could not be queued; the schedule reconciles them.' },
  { id: 'EventsRejected', metric: EVENTS_REJECTED, description: 'HR events were refused (bad field, future occurredAt, parts mismatch): see the rejection log lines.' },
  { id: 'WebhookMisconfigured', metric: WEBHOOK_MISCONFIGURED, description: 'The webhook secret holds an unusable key: every webhook is answered 503 until it is fixed.' },
  { id: 'InvitesNoSeat', metric: INVITES_NO_SEAT, description: 'An org has no free seat: invites (skip noSeat) wait until seats are freed or bought.' },
  { id: 'SourceSilent', metric: SOURCE_SILENT, description: 'An HR source has sent nothing for longer than expected: check the HR integration.' },
  { id: 'DropsFailed', metric: DROPS_FAILED, description: 'A roster file drop was refused whole (bad rows, bad occurred-at, over 50 MB): see the failed delivery and its rows, fix the export, upload again.' },
];

export interface MonitoredFunction {
  /** `Reconcile`, `Http`: prefixes the function's alarm ids */
  readonly id: string;
  readonly fn: lambda.IFunction;
}

export interface MonitoringProps {
  /** the stage whose metrics the alarms and dashboard read (dimension `stage`) */
  readonly stage: string;
  readonly functions: readonly MonitoredFunction[];
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** the target names of the stage's sync config: one dashboard row each */
  readonly targets: readonly string[];
  /** the log group of the reconcile function (the dashboard's Logs Insights widget) */
  readonly runLogGroup: logs.ILogGroup;
  /** subscribed to the alarm topic. @default - no email subscription */
  readonly alarmEmails?: readonly string[];
  /** a second alarm action (its topic and key policies must allow cloudwatch.amazonaws.com). @default - none */
  readonly extraAlarmTopicArn?: string;
  /** for the topic's KMS key. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Alarms (per function errors and throttles, DLQ depth, the reconcile queue's oldest message,
 * webhook rejections while nothing is accepted, and the custom metrics of ALARMED_METRICS; missing
 * data is not breaching), all reading this stage's `[service, stage]` metrics only, to an SNS topic
 * (TLS only, encrypted with a customer-managed KMS key that grants CloudWatch its use) and to
 * `extraAlarmTopicArn`; a dashboard with stage totals, one row per target and a Logs Insights
 * table of the last blocked and failed runs.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  /** https://console.aws.amazon.com/cloudwatch/…#dashboards:name=… */
  readonly dashboardUrl: string;
  readonly #actions: cloudwatch.IAlarmAction[];
  readonly #stage: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.#stage = props.stage;
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
      displayName: `invite-sync ${props.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of props.alarmEmails ?? []) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    this.#actions = [new actions.SnsAction(this.topic)];
    if (props.extraAlarmTopicArn) {
      this.#actions.push(new actions.SnsAction(sns.Topic.fromTopicArn(this, 'ExtraAlarmTopic', props.extraAlarmTopicArn)));
    }

    const fnMetrics = props.functions.map(({ id: fnId, fn }) => ({
      fnId,
      errors: fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      throttles: fn.metricThrottles({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
    }));
    for (const { fnId, errors, throttles } of fnMetrics) {
      this.alarm(`${fnId}Errors`, errors, `The ${fnId.toLowerCase()} function failed (threw or timed out) at least once in 5 minutes.`);
      this.alarm(`${fnId}Throttles`, throttles, `The ${fnId.toLowerCase()} function was throttled: raise its reserved concurrency or the account quota.`);
    }
    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM });
    this.alarm('DeadLetters', dlqDepth, 'Reconcile messages reached the dead-letter queue: inspect them, then redrive.');
    const queueAge = props.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM });
    this.alarm('QueueAge', queueAge, 'A reconcile message has waited over an hour: the reconcile function is stuck, throttled or failing.', {
      threshold: QUEUE_AGE_THRESHOLD.toSeconds(),
    });
    for (const a of ALARMED_METRICS) this.alarm(a.id, this.metric(a.metric), a.description);

    const window = Duration.minutes(15);
    // the webhook's own counts (handleWebhook), not the HTTP API's 4xx: SCIM shares the API, and its
    // accepted calls would hide a webhook signed with the wrong key while its 401s would page for nothing
    const rejected = this.metric(WEBHOOK_REJECTED).with({ period: window });
    const accepted = this.metric(WEBHOOK_ACCEPTED).with({ period: window });
    const rejectedWhileNoneAccepted = new cloudwatch.MathExpression({
      expression: `IF(rejected >= ${WEBHOOK_REJECTIONS_THRESHOLD} AND FILL(accepted, 0) <= 0, 1, 0)`,
      usingMetrics: { rejected, accepted },
      period: window,
      label: 'webhook rejected, none accepted',
    });
    this.alarm(
      'WebhookRejections',
      rejectedWhileNoneAccepted,
      `At least ${WEBHOOK_REJECTIONS_THRESHOLD} webhook requests were refused in 15 minutes and none was accepted: HR probably signs with the wrong key.`,
    );

    const region = Stack.of(this).region;
    // the reconcile function's `reconcile finished` line carries the run metrics and each target's outcome
    const runsQuery = [
      'fields @timestamp, runId, targets.0.name as target, targets.0.blocked as blocked, targets.0.error as error, InvitesFailed, DriftRemaining',
      "| filter message = 'reconcile finished' and (RunsBlocked > 0 or InvitesFailed > 0 or DriftRemaining > 0 or ispresent(targets.0.error))",
      '| sort @timestamp desc',
      '| limit 20',
    ];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: `Invites, removals (${props.stage})`,
            left: ['InvitesSent', 'InvitesRenewed', 'InvitesFailed', INVITES_AMBIGUOUS, INVITES_NO_SEAT, MEMBERS_REMOVED].map((n) => this.metric(n)),
            width: 12,
          }),
          new cloudwatch.GraphWidget({ title: 'Blocked runs, continued runs', left: [this.metric('RunsBlocked'), this.metric(RUNS_CONTINUED)], width: 6 }),
          new cloudwatch.GraphWidget({ title: 'Drift remaining', left: [this.metric('DriftRemaining', { statistic: cloudwatch.Stats.MAXIMUM })], width: 6 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Run duration (ms)',
            left: [this.metric('RunDurationMs', { statistic: cloudwatch.Stats.AVERAGE }), this.metric('RunDurationMs', { statistic: cloudwatch.Stats.MAXIMUM })],
            width: 6,
          }),
          new cloudwatch.GraphWidget({ title: 'Function errors', left: fnMetrics.map((m) => m.errors), width: 6 }),
          new cloudwatch.GraphWidget({ title: 'Function throttles', left: fnMetrics.map((m) => m.throttles), width: 6 }),
          new cloudwatch.GraphWidget({ title: 'Queue: DLQ depth, oldest message (s)', left: [dlqDepth], right: [queueAge], width: 6 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Inputs: webhook answers, refused events and drops, silent sources',
            left: [WEBHOOK_ACCEPTED, WEBHOOK_REJECTED, EVENTS_REJECTED, DROPS_REJECTED, DROPS_FAILED, SOURCE_SILENT].map((n) => this.metric(n)),
            width: 24,
          }),
        ],
        ...props.targets.map((target) => [
          new cloudwatch.GraphWidget({
            title: `${target}: invites, removals, free seats`,
            left: ['InvitesSent', 'InvitesRenewed', 'InvitesFailed', INVITES_NO_SEAT, MEMBERS_REMOVED].map((n) => this.metric(n, { target })),
            // a gauge per target (only orgs with a member limit publish it)
            right: [this.metric(SEATS_FREE, { target, statistic: cloudwatch.Stats.MINIMUM })],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: `${target}: blocked runs, drift`,
            left: [this.metric('RunsBlocked', { target })],
            right: [this.metric('DriftRemaining', { target, statistic: cloudwatch.Stats.MAXIMUM })],
            width: 12,
          }),
        ]),
        [
          new cloudwatch.LogQueryWidget({
            title: 'Last blocked, failed or incomplete runs',
            logGroupNames: [props.runLogGroup.logGroupName],
            region,
            queryLines: runsQuery,
            view: cloudwatch.LogQueryVisualizationType.TABLE,
            width: 24,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
    this.dashboardUrl = `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }

  /** One of the handlers' EMF metrics of this stage (`[service, stage]`, or `[service, stage, target]`), over 5 minutes. */
  metric(name: string, opts: { target?: string; statistic?: string } = {}): cloudwatch.Metric {
    return syncMetric(name, this.#stage, opts);
  }

  private alarm(id: string, metric: cloudwatch.IMetric, description: string, opts: { threshold?: number } = {}): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: `invite-sync ${this.#stage}: ${description}`,
      threshold: opts.threshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(...this.#actions);
    this.alarms.push(alarm);
    return alarm;
  }
}

/**
 * One of the handlers' EMF metrics of one stage, over 5 minutes: dimensions `service` and `stage`
 * (the stage's sum over its targets), plus `target` for one target's share.
 * @example syncMetric('RunsBlocked', 'prod') // InviteSync/RunsBlocked {service: invite-sync, stage: prod}
 */
export function syncMetric(name: string, stage: string, opts: { target?: string; statistic?: string } = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME, stage, ...(opts.target !== undefined ? { target: opts.target } : {}) },
    statistic: opts.statistic ?? cloudwatch.Stats.SUM,
    period: PERIOD,
  });
}
