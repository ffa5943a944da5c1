// lib/app.ts --> InviteSyncStack (one per stage) --> constructs: table, secrets, queue, reconcile + HTTP functions, API, triggers, drop bucket, monitoring, operator policy
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { alarmEmails, type Stage, type StageConfig } from './stages.ts';
import { readStageSyncConfig } from './sync-config-file.ts';
import { StateTable } from './constructs/state-table.ts';
import { OperatorSecret } from './constructs/operator-secret.ts';
import { ReconcileQueue } from './constructs/reconcile-queue.ts';
import { SyncFunction } from './constructs/sync-function.ts';
import { WebhookApi } from './constructs/webhook-api.ts';
import { Triggers } from './constructs/triggers.ts';
import { METRICS_NAMESPACE, Monitoring, SERVICE_NAME } from './constructs/monitoring.ts';
import { OperatorPolicy } from './constructs/operator-policy.ts';
import { DropBucket } from './constructs/drop-bucket.ts';

/** The repository root (holds package.json, package-lock.json, functions/ and config/). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Messages the reconcile queue hands the function per invocation. */
export const RECONCILE_BATCH_SIZE = 5;

/** The SQS event source's smallest maximumConcurrency. */
const MIN_EVENT_SOURCE_CONCURRENCY = 2;

/**
 * How many reconciles the queue may run at once (the event source's maximumConcurrency): the
 * reconcile function's reserved concurrency, or 2 when it reserves none; none for a reservation
 * of 1 (below the event source's minimum, the reservation itself caps it).
 * @example reconcileConcurrency({ reservedConcurrency: 5 }) // 5
 */
export function reconcileConcurrency(config: Pick<StageConfig, 'reservedConcurrency'>): number | undefined {
  const reserved = config.reservedConcurrency;
  if (reserved === undefined) return MIN_EVENT_SOURCE_CONCURRENCY;
  return reserved >= MIN_EVENT_SOURCE_CONCURRENCY ? reserved : undefined;
}

export interface InviteSyncStackProps extends StackProps {
  readonly stage: Stage;
  readonly config: StageConfig;
  /** where `config.syncConfigPath` and the function entry are resolved. @default PROJECT_ROOT */
  readonly projectRoot?: string;
}

/**
 * Everything one stage of invite-sync needs. The stage's sync config is validated here, at synth,
 * and shipped inside the function bundle as `sync-config.json`.
 *
 * After the first deploy the operator puts the two secret values (see the outputs):
 * the Losant API token, and the webhook secret (one or more space-separated `whsec_…` keys).
 */
export class InviteSyncStack extends Stack {
  /** schedule, HR bus and reconcile queue */
  readonly syncFunction: SyncFunction;
  /** the HTTP-facing handlers (webhook): its own function, so reconciles never take its slots */
  readonly httpFunction: SyncFunction;
  /** roster file drops (`rosters/<source>/<file>`), notifying the reconcile function */
  readonly drops: DropBucket;

  constructor(scope: Construct, id: string, props: InviteSyncStackProps) {
    const { stage, config } = props;
    const root = props.projectRoot ?? PROJECT_ROOT;
    const syncConfigFile = isAbsolute(config.syncConfigPath) ? config.syncConfigPath : resolve(root, config.syncConfigPath);
    // before the stack exists: a bad file leaves nothing half-built behind
    const syncConfig = readStageSyncConfig(syncConfigFile, config.syncConfigPath);
    super(scope, id, props);

    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    const state = new StateTable(this, 'State', { removalPolicy });
    const losantToken = new OperatorSecret(this, 'LosantToken', {
      description: `invite-sync ${stage}: Losant API token (needs instanceOrgInvites.get/post and instanceOrgMembers.get scopes)`,
      removalPolicy,
    });
    const webhookSecret = new OperatorSecret(this, 'WebhookSecret', {
      description: `invite-sync ${stage}: Standard Webhooks signing key(s), space-separated whsec_... values`,
      removalPolicy,
    });
    Validations.of(losantToken.cfnSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Losant API tokens are issued and revoked in Losant by an administrator; no Lambda can mint a new one, so automatic rotation is impossible and rotation is an operator runbook step.',
    });
    Validations.of(webhookSecret.cfnSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The webhook signing key is shared with the HR system, which must be reconfigured with every new key; rotation is done by the operator adding a second space-separated key, then removing the old one.',
    });
    const scimTokens = new OperatorSecret(this, 'ScimTokens', {
      description: `invite-sync ${stage}: SCIM bearer tokens as JSON [{"token": "...", "source": "okta"}] (each token at least 24 characters)`,
      removalPolicy,
    });
    Validations.of(scimTokens.cfnSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A SCIM token is pasted into the identity provider, which must be reconfigured with every new token; rotation is done by the operator adding a second entry, updating the IdP, then removing the old entry.',
    });
    // the queue's consumer is the reconcile function: its visibility timeout derives from the stage's timeoutSeconds
    const reconcileTimeout = Duration.seconds(config.timeoutSeconds);
    const reconcile = new ReconcileQueue(this, 'Reconcile', { consumerTimeout: reconcileTimeout, removalPolicy });

    const environment = {
      STAGE: stage,
      LOSANT_API_URL: config.losantApiUrl,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
    };
    const functionDefaults = { projectRoot: root, syncConfigFile, logRetention, logRemovalPolicy: removalPolicy };

    this.syncFunction = new SyncFunction(this, 'Sync', {
      ...functionDefaults,
      description: 'invite-sync reconcile: schedule, HR bus and reconcile queue',
      reservedConcurrency: config.reservedConcurrency,
      memoryMb: config.memoryMb,
      timeout: reconcileTimeout,
      environment,
    });
    const sync = this.syncFunction;
    sync.bindTable(state.table);
    sync.bindSecret(losantToken.secret, 'LOSANT_TOKEN_SECRET_ARN');
    sync.referSecret(webhookSecret.secret, 'WEBHOOK_SECRET_ARN');
    sync.bindQueueSender(reconcile.queue, 'RECONCILE_QUEUE_URL');
    sync.bindRunEvents();
    sync.fn.addEventSource(
      new SqsEventSource(reconcile.queue, {
        batchSize: RECONCILE_BATCH_SIZE,
        reportBatchItemFailures: true,
        // reconciles are capped here: pollers beyond the reservation would only be throttled and burn receive counts
        maxConcurrency: reconcileConcurrency(config),
      }),
    );

    this.httpFunction = new SyncFunction(this, 'Http', {
      ...functionDefaults,
      entry: 'functions/handlers/webhook.handler.ts',
      description: 'invite-sync HTTP: the signed HR webhook and SCIM 2.0',
      reservedConcurrency: config.httpReservedConcurrency,
      environment,
    });
    const http = this.httpFunction;
    http.bindTable(state.table);
    http.referSecret(losantToken.secret, 'LOSANT_TOKEN_SECRET_ARN');
    http.bindSecret(webhookSecret.secret, 'WEBHOOK_SECRET_ARN');
    http.bindSecret(scimTokens.secret, 'SCIM_TOKEN_SECRET_ARN');
    http.bindQueueSender(reconcile.queue, 'RECONCILE_QUEUE_URL');

    for (const fn of [sync, http]) {
      Validations.of(fn.cfnFunction).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'The runtime is pinned to nodejs22.x on purpose: the project targets Node 22, the bundle is built for node22, and a runtime upgrade is a tested change rather than a drift.',
      });
    }

    // S3 notifies the reconcile function directly (async invoke, Lambda's retries; drops are deduped by delivery id)
    this.drops = new DropBucket(this, 'Drops', { stage, handler: sync.fn, retentionDays: config.dropRetentionDays, removalPolicy });

    const api = new WebhookApi(this, 'Webhook', {
      handler: http.fn,
      throttle: config.webhookThrottle,
      scimThrottle: config.scimThrottle,
      logRetention,
      logRemovalPolicy: removalPolicy,
    });
    const triggers = new Triggers(this, 'Triggers', { handler: sync.fn, scheduleExpression: config.scheduleExpression });
    const monitoring = new Monitoring(this, 'Monitoring', {
      stage,
      functions: [
        { id: 'Reconcile', fn: sync.fn },
        { id: 'Http', fn: http.fn },
      ],
      queue: reconcile.queue,
      deadLetterQueue: reconcile.deadLetterQueue,
      targets: syncConfig.targets.map((t) => t.name),
      runLogGroup: sync.logGroup,
      alarmEmails: alarmEmails(config),
      extraAlarmTopicArn: config.notify.topicArn,
      removalPolicy,
    });
    const operator = new OperatorPolicy(this, 'Operator', { table: state.table, queue: reconcile.queue });

    new CfnOutput(this, 'WebhookUrl', { value: api.webhookUrl, description: 'HR posts signed webhooks here' });
    new CfnOutput(this, 'ScimBaseUrl', { value: api.scimBaseUrl, description: 'the SCIM 2.0 base URL for Okta / Entra' });
    new CfnOutput(this, 'ScimTokenSecretArn', { value: scimTokens.secret.secretArn, description: 'put the SCIM tokens here: [{"token","source"}]' });
    new CfnOutput(this, 'HrEventBusName', { value: triggers.hrBus.eventBusName, description: 'HR puts person.* / roster.* events on this bus' });
    new CfnOutput(this, 'HrEventBusArn', { value: triggers.hrBus.eventBusArn });
    new CfnOutput(this, 'TableName', { value: state.table.tableName, description: 'STATE_TABLE for the CLI against this stage' });
    new CfnOutput(this, 'LosantTokenSecretArn', { value: losantToken.secret.secretArn, description: 'put the Losant API token here after the first deploy' });
    new CfnOutput(this, 'WebhookSecretArn', { value: webhookSecret.secret.secretArn, description: 'put the whsec_… key(s) here after the first deploy' });
    new CfnOutput(this, 'ReconcileQueueUrl', { value: reconcile.queue.queueUrl, description: 'RECONCILE_QUEUE_URL for an approval that enqueues its target' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: reconcile.deadLetterQueue.queueUrl, description: 'reconcile messages that failed three times: inspect, then redrive' });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn, description: 'subscribe to get the alarms (notify.emails in the stage file does it for email)' });
    new CfnOutput(this, 'DashboardUrl', { value: monitoring.dashboardUrl });
    new CfnOutput(this, 'DropBucketName', { value: this.drops.bucket.bucketName, description: 'HR roster files go to rosters/<source>/<file>.csv|.json here' });
    new CfnOutput(this, 'RosterWriterRoleArn', { value: this.drops.writerRole.roleArn, description: 'the only role that may put roster files into the drop bucket' });
    new CfnOutput(this, 'OperatorPolicyArn', { value: operator.policy.managedPolicyArn, description: 'attach to the operator role: read runs, approve blocked runs, enqueue targets' });
  }
}
