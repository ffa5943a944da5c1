// composition root (reconcile-container.ts | http-container.ts | composition-root.ts) --> hostParts: process.env read once, shared adapters (DynamoDB, SQS) + config
import { isAbsolute, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SyncConfig } from '../config/sync-config.schema.ts';
import { readSyncConfigFile, SyncConfigFileError } from '../config/load-sync-config.ts';
import type { Clock, ReconcileQueue, StateStore } from '../sync/ports.ts';
import { systemClock } from '../sync/ports.ts';
import { DynamoStateStore } from '../state/dynamo-store.ts';
import { SqsReconcileQueue } from '../queue/sqs-queue.ts';
import { parseLambdaEnv, type LambdaEnv } from './env.schema.ts';
import { createLambdaLogger, type HandlerLog } from './logger.ts';
import { createLambdaMetrics, type MetricsSink } from './metrics.ts';

/** What both deployed functions need: config, the state store, the reconcile queue, clock, logs, metrics. */
export interface HostContainer {
  stage: string;
  config: SyncConfig;
  store: StateStore;
  queue: ReconcileQueue;
  clock: Clock;
  log: HandlerLog;
  metrics: MetricsSink;
}

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

/** The environment read and the shared adapters built: what each function's parts start from. */
export interface HostParts {
  env: LambdaEnv;
  host: HostContainer;
  /** the same store as `host.store`, with its per-kind stores (`scim`) */
  store: DynamoStateStore;
  secretOpts: { clock: Clock; client?: SecretsManagerClient };
  overrides: ContainerOverrides;
}

/**
 * Reads the Lambda's environment (the composition root's only reading of it) and the bundled sync
 * config, and builds the adapters both functions share. Nothing here calls the network.
 * @example const parts = hostParts(process.env, {})
 */
export function hostParts(env: Record<string, string | undefined>, overrides: ContainerOverrides): HostParts {
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

  const store = new DynamoStateStore({ tableName: e.STATE_TABLE, ...(overrides.dynamoClient ? { client: overrides.dynamoClient } : {}) });
  const queue = new SqsReconcileQueue({ queueUrl: e.RECONCILE_QUEUE_URL, ...(overrides.sqsClient ? { client: overrides.sqsClient } : {}) });
  return {
    env: e,
    host: { stage: e.STAGE, config, store, queue, clock, log, metrics },
    store,
    secretOpts: { clock, ...(overrides.secretsClient ? { client: overrides.secretsClient } : {}) },
    overrides,
  };
}

/** The promise in `slot`, or `build()` stored there; a failed build empties the slot, so the next invocation retries. */
export function coldStartOnce<T>(slot: { current?: Promise<T> }, build: () => Promise<T>): Promise<T> {
  if (!slot.current) {
    const building = build();
    slot.current = building;
    building.catch(() => {
      if (slot.current === building) delete slot.current;
    });
  }
  return slot.current;
}
