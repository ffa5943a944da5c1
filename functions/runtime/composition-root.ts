// Lambda handler --> getContainer (once per cold start) --> adapters (DynamoDB, Losant, Secrets Manager, SQS, S3 drops) + config
import { isAbsolute, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SyncConfig } from '../config/sync-config.schema.ts';
import { readSyncConfigFile, SyncConfigFileError } from '../config/load-sync-config.ts';
import type { Clock, InviteApi, ReconcileQueue, StateStore } from '../sync/ports.ts';
import { systemClock } from '../sync/ports.ts';
import { LosantClient } from '../losant/client.ts';
import { DynamoStateStore } from '../state/dynamo-store.ts';
import { CachedSecret, type SecretSource } from '../secrets/secrets-manager.ts';
import { SqsReconcileQueue } from '../queue/sqs-queue.ts';
import { EventBridgeRunNotifier } from '../notify/eventbridge-notifier.ts';
import { S3DropReader } from '../drops/s3-drop-reader.ts';
import { maxDropBytes, type DropReader } from '../sync/drops.ts';
import type { RunNotifier } from '../sync/run-events.ts';
import { parseLambdaEnv } from './env.schema.ts';
import { secretScimAuth, SCIM_TOKEN_REFRESH_MS, TokenThrottle, type ScimAuth } from '../scim/auth.ts';
import type { ScimStore } from '../scim/ports.ts';
import { createLambdaLogger, type HandlerLog } from './logger.ts';
import { createLambdaMetrics, type MetricsSink } from './metrics.ts';

/** Everything a handler needs; built once per cold start (Lambda) or once per process (serve, tests). */
export interface Container {
  stage: string;
  config: SyncConfig;
  api: InviteApi;
  store: StateStore;
  queue: ReconcileQueue;
  clock: Clock;
  log: HandlerLog;
  metrics: MetricsSink;
  /** space-separated `whsec_…` keys (several during a rotation) */
  webhookSecret: SecretSource;
  /** where notable runs are announced, and the approve command their events carry; absent: no events */
  runEvents?: RunEvents;
  /** the SCIM endpoint (/scim/v2); absent: SCIM is off (404) */
  scim?: ScimHost;
  /** reads roster file drops (S3 ObjectCreated notifications); absent: the host takes no drops */
  drops?: DropReader;
}

/** What the SCIM endpoint needs of its host. */
export interface ScimHost {
  store: ScimStore;
  auth: ScimAuth;
  /** per-token request budget; absent: none */
  throttle?: TokenThrottle;
}

/** Per-token SCIM budget in the function (the API stage's `scimThrottle` limits the route as a whole). */
export const SCIM_TOKEN_RATE_PER_SECOND = 20;
export const SCIM_TOKEN_BURST = 40;

/** The Sync Run Completed announcements of a host. */
export interface RunEvents {
  notifier: RunNotifier;
  /** what an operator runs to approve a blocked run of this stage */
  approveCommand: (runId: string) => string;
}

/**
 * The approve command a blocked run's event carries: the CLI against the stage (its table and queue
 * come from the stack's outputs), so the approval queues the target at once.
 * @example approveCommandFor('prod')('r-1') // 'invite-sync approve --stage prod --run r-1'
 */
export const approveCommandFor =
  (stage: string) =>
  (runId: string): string =>
    `invite-sync approve --stage ${stage} --run ${runId}`;

/** SDK clients and parts a test or another host supplies instead of the defaults. */
export interface ContainerOverrides {
  dynamoClient?: DynamoDBClient;
  secretsClient?: SecretsManagerClient;
  sqsClient?: SQSClient;
  eventBridgeClient?: EventBridgeClient;
  s3Client?: S3Client;
  log?: HandlerLog;
  metrics?: MetricsSink;
  clock?: Clock;
}

/** The sync config shipped with the function could not be read or is invalid. */
export class BundledConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BundledConfigError';
  }
}

/**
 * Builds the Lambda's container from its environment: the only code that reads process.env.
 * Nothing here calls the network; secrets are fetched on first use.
 * @example const c = await createContainer(process.env)
 */
export async function createContainer(env: Record<string, string | undefined> = process.env, overrides: ContainerOverrides = {}): Promise<Container> {
  const e = parseLambdaEnv(env);
  const log = overrides.log ?? createLambdaLogger({ serviceName: e.POWERTOOLS_SERVICE_NAME, persistentKeys: { stage: e.STAGE }, ...(e.POWERTOOLS_LOG_LEVEL ? { level: e.POWERTOOLS_LOG_LEVEL } : {}) });
  const metrics = overrides.metrics ?? createLambdaMetrics({ namespace: e.POWERTOOLS_METRICS_NAMESPACE, serviceName: e.POWERTOOLS_SERVICE_NAME, stage: e.STAGE });
  const clock = overrides.clock ?? systemClock;

  const configPath = isAbsolute(e.SYNC_CONFIG_FILE) ? e.SYNC_CONFIG_FILE : resolve(e.LAMBDA_TASK_ROOT ?? process.cwd(), e.SYNC_CONFIG_FILE);
  let config: SyncConfig;
  try {
    config = readSyncConfigFile(configPath);
  } catch (err) {
    // a file that cannot be read is a broken bundle; a bad document stays the InputError naming the field
    if (err instanceof SyncConfigFileError) throw new BundledConfigError(`cannot read the sync config ${configPath}: ${err.code}`, { cause: err });
    throw err;
  }

  const secretOpts = { clock, ...(overrides.secretsClient ? { client: overrides.secretsClient } : {}) };
  const losantToken = new CachedSecret({ secretId: e.LOSANT_TOKEN_SECRET_ARN, label: 'Losant API token', ...secretOpts });
  const webhookSecret = new CachedSecret({ secretId: e.WEBHOOK_SECRET_ARN, label: 'webhook signing key', ...secretOpts });

  const store = new DynamoStateStore({ tableName: e.STATE_TABLE, ...(overrides.dynamoClient ? { client: overrides.dynamoClient } : {}) });
  return {
    stage: e.STAGE,
    config,
    api: new LosantClient({ baseUrl: e.LOSANT_API_URL, token: (o?: { refresh?: boolean }) => losantToken.get(o), log, maxAnswerBytes: config.limits.maxAnswerBytes, connections: config.concurrency }),
    store,
    queue: new SqsReconcileQueue({ queueUrl: e.RECONCILE_QUEUE_URL, ...(overrides.sqsClient ? { client: overrides.sqsClient } : {}) }),
    clock,
    log,
    metrics,
    webhookSecret,
    ...(e.SCIM_TOKEN_SECRET_ARN
      ? {
          scim: {
            store: store.scim,
            auth: secretScimAuth(new CachedSecret({ secretId: e.SCIM_TOKEN_SECRET_ARN, label: 'SCIM tokens', minRefreshIntervalMs: SCIM_TOKEN_REFRESH_MS, ...secretOpts })),
            throttle: new TokenThrottle({ ratePerSecond: SCIM_TOKEN_RATE_PER_SECOND, burst: SCIM_TOKEN_BURST, now: () => clock.now() }),
          },
        }
      : {}),
    drops: new S3DropReader({ maxBytes: maxDropBytes(e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE), ...(overrides.s3Client ? { client: overrides.s3Client } : {}) }),
    ...(e.RUN_EVENT_BUS
      ? {
          runEvents: {
            notifier: new EventBridgeRunNotifier({ busName: e.RUN_EVENT_BUS, log, ...(overrides.eventBridgeClient ? { client: overrides.eventBridgeClient } : {}) }),
            approveCommand: approveCommandFor(e.STAGE),
          },
        }
      : {}),
  };
}

let current: Promise<Container> | undefined;

/**
 * The cold start's container, built on the first invocation and reused after; a failed build is
 * retried by the next invocation.
 */
export function getContainer(): Promise<Container> {
  if (!current) {
    const building = createContainer(process.env);
    current = building;
    building.catch(() => {
      if (current === building) current = undefined;
    });
  }
  return current;
}
