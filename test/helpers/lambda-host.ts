// test --> the Lambda host of the handlers' integration tests: the Losant emulator (real HTTP), a fresh table on
// DynamoDB Local, a task root holding the sync config, and the real composition root over them, its Secrets
// Manager and SQS clients answered in-process (aws-local.ts); our own modules run unchanged.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type EmulatorOptions, type EmulatorSeed, type RunningEmulator } from '../../emulator/index.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { createContainer, type Container, type ContainerOverrides } from '../../functions/runtime/composition-root.ts';
import { keyedLog } from '../../functions/runtime/logger.ts';
import { localDynamoClient, uniqueTableName } from './dynamo.ts';
import { memoryLog } from './sync-harness.ts';
import { localSecretsClient, localSqsClient, memoryMetrics, lambdaEnv } from './aws-local.ts';

/** The webhook signing key the host's container reads from WEBHOOK_SECRET unless told another. */
export const LAMBDA_HOST_WEBHOOK_KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The second org of ENG_OPS, on the emulator's default instance. */
export const OPS_ORG = '5a5b5c5d5e5f606162636465';

/**
 * Two targets on the emulator's default instance and the seed holding both orgs: `eng` (the default org,
 * department Engineering → edit) and `ops` (OPS_ORG, department Operations → view).
 */
export const ENG_OPS: { seed: EmulatorSeed; targets: unknown[] } = {
  seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID }, { id: OPS_ORG }] }] },
  targets: [
    { name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] },
    { name: 'ops', instanceId: DEFAULT_ID, orgId: OPS_ORG, rules: [{ when: { department: 'Operations' }, role: 'view' }] },
  ],
};

export interface LambdaHostOptions {
  /** names the table (`<name>-xxxxxxxx`) and the task root (`invite-sync-<name>-…`) */
  name: string;
  /** written to the task root's sync-config.json as JSON */
  config: unknown;
  /** how the emulator starts; always on a free port */
  emulator?: Omit<EmulatorOptions, 'port'>;
  /** the WEBHOOK_SECRET the container reads (default LAMBDA_HOST_WEBHOOK_KEY) */
  webhookKey?: string;
  /** the LOSANT_TOKEN secret (default the emulator's DEFAULT_TOKEN) */
  losantToken?: string;
  /** more Lambda environment (RUN_EVENT_BUS…) over lambdaEnv's */
  env?: Record<string, string>;
}

export interface StartedLambdaHost {
  emulator: RunningEmulator;
  dynamo: DynamoDBClient;
  table: string;
  taskRoot: string;
  /** the container built by start() */
  container: Container;
}

export interface LambdaHost {
  /** every SQS message body the host's containers sent, parsed */
  readonly sent: { target: string; reason: string }[];
  /** every SQS entry (DelaySeconds, MessageBody…) the host's containers sent */
  readonly entries: SendMessageBatchRequestEntry[];
  /** each published metrics record, unless start() was given its own `metrics` */
  readonly metrics: Record<string, number>[];
  /** the log of the container built by start() */
  readonly log: ReturnType<typeof memoryLog>;
  /** the sum of one metric over `metrics` */
  metricTotal(name: string): number;
  /** starts the emulator, creates the table and the task root, builds the container (`overrides` over the host's clients) */
  start(overrides?: ContainerOverrides): Promise<StartedLambdaHost>;
  /** another container on the same emulator, table, config, SQS and metrics: its own key, token, log */
  build(opts?: { webhookKey?: string; losantToken?: string; log?: ReturnType<typeof memoryLog>; overrides?: ContainerOverrides }): Promise<Container>;
  /**
   * The file's hooks: beforeAll start()s (with `overrides()`, read then) and hands the parts to `onStarted`,
   * beforeEach reset()s, afterAll close()s (before the file's own afterAll registered earlier, vitest's stack order).
   */
  hooks(onStarted: (started: StartedLambdaHost) => unknown, overrides?: () => ContainerOverrides): void;
  /** empties sent, entries, metrics and log */
  reset(): void;
  /** closes every container's Losant client and the emulator, destroys the DynamoDB client, removes the task root; safe after a failed start */
  close(): Promise<void>;
}

/**
 * The sinks now, the rest on start(): so a test file takes `sent`, `metrics`, `log` as consts and the started parts
 * in its hooks.
 * @example
 * const host = lambdaHost({ name: 'handlers', config: { targets: [...] } });
 * const { sent, metrics, log } = host;
 * let c: Container;
 * host.hooks((started) => (c = started.container));
 */
export function lambdaHost(options: LambdaHostOptions): LambdaHost {
  const sent: { target: string; reason: string }[] = [];
  const entries: SendMessageBatchRequestEntry[] = [];
  const metrics: Record<string, number>[] = [];
  const log = memoryLog();
  const containers: Container[] = [];
  let emulator: RunningEmulator | undefined;
  let dynamo: DynamoDBClient | undefined;
  let taskRoot: string | undefined;
  let env: ReturnType<typeof lambdaEnv> | undefined;

  const build: LambdaHost['build'] = async (opts = {}) => {
    if (!env || !dynamo) throw new Error('lambdaHost: build() before start()');
    const container = await createContainer(env, {
      dynamoClient: dynamo,
      secretsClient: localSecretsClient({
        [env.LOSANT_TOKEN_SECRET_ARN]: opts.losantToken ?? options.losantToken ?? DEFAULT_TOKEN,
        [env.WEBHOOK_SECRET_ARN]: opts.webhookKey ?? options.webhookKey ?? LAMBDA_HOST_WEBHOOK_KEY,
      }),
      sqsClient: localSqsClient(sent, entries),
      log: keyedLog(opts.log ?? log),
      metrics: memoryMetrics(metrics),
      ...opts.overrides,
    });
    containers.push(container);
    return container;
  };

  const host: LambdaHost = {
    sent,
    entries,
    metrics,
    log,
    metricTotal: (name) => metrics.reduce((n, m) => n + (m[name] ?? 0), 0),
    async start(overrides) {
      emulator = await startEmulator({ ...options.emulator, port: 0 });
      dynamo = localDynamoClient();
      const table = uniqueTableName(options.name);
      await createTableIfMissing(dynamo, table);
      taskRoot = await mkdtemp(join(tmpdir(), `invite-sync-${options.name}-`));
      await writeFile(join(taskRoot, 'sync-config.json'), JSON.stringify(options.config));
      env = lambdaEnv(table, emulator.url, taskRoot, options.env);
      const container = await build({ overrides });
      return { emulator, dynamo, table, taskRoot, container };
    },
    build,
    hooks(onStarted, overrides) {
      beforeAll(async () => {
        await onStarted(await host.start(overrides?.()));
      });
      afterAll(() => host.close());
      beforeEach(() => host.reset());
    },
    reset() {
      sent.length = 0;
      entries.length = 0;
      metrics.length = 0;
      log.lines.length = 0;
    },
    async close() {
      for (const container of containers.splice(0)) await (container.api as { close?: () => Promise<void> }).close?.();
      await emulator?.close();
      dynamo?.destroy();
      if (taskRoot) await rm(taskRoot, { recursive: true, force: true });
      emulator = undefined;
      dynamo = undefined;
      taskRoot = undefined;
      env = undefined;
    },
  };
  return host;
}
