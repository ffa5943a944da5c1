// cdk -c stage=<name> --> stageFromContext --> STAGES[stage] --> InviteSyncStack props
import { z } from 'zod';
import type { Construct } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The retention periods CloudWatch Logs accepts (RetentionDays' numeric values). */
const LOG_RETENTION_DAYS: readonly number[] = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

export const STAGE_NAMES = ['dev', 'staging', 'prod'] as const;
export type Stage = (typeof STAGE_NAMES)[number];

export const StageConfigSchema = z
  .object({
    /** AWS account to pin the stack to. @default - env-agnostic (the account is resolved at deploy time) */
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1'),
    /** EventBridge schedule that re-checks every target, e.g. `rate(15 minutes)` or `cron(0 * * * ? *)` */
    scheduleExpression: z.string().regex(/^(rate|cron)\(.+\)$/, 'must be rate(...) or cron(...)'),
    /** Losant API base URL; a private Losant instance sets its own. */
    losantApiUrl: z.url({ protocol: /^https$/ }).default('https://api.losant.com'),
    /** the stage's sync config file, relative to the project root */
    syncConfigPath: z.string().min(1),
    /** Lambda reserved concurrency; also caps how hard the stage can press on Losant. @default - unreserved */
    reservedConcurrency: z.number().int().min(1).optional(),
    logRetentionDays: z
      .number()
      .int()
      .refine((n) => LOG_RETENTION_DAYS.includes(n), 'must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …, 365, …)'),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** `retain` keeps the table (with deletion protection) and keys when the stack goes away */
    removalPolicy: z.enum(['retain', 'destroy']),
    /** who gets the alarm emails. @default - no subscription (subscribe to the topic yourself) */
    alarmEmail: z.email().optional(),
    /** throttling of the webhook HTTP API's default stage */
    webhookThrottle: z.object({
      rateLimit: z.number().positive(),
      burstLimit: z.number().int().positive(),
    }),
  })
  .strict();

export type StageConfig = z.infer<typeof StageConfigSchema>;
export type StageConfigInput = z.input<typeof StageConfigSchema>;

const STAGE_INPUTS: Record<Stage, StageConfigInput> = {
  dev: {
    region: 'us-east-1',
    scheduleExpression: 'rate(1 hour)',
    syncConfigPath: 'config/dev.sync.json',
    reservedConcurrency: 2,
    logRetentionDays: 14,
    logLevel: 'DEBUG',
    removalPolicy: 'destroy',
    webhookThrottle: { rateLimit: 5, burstLimit: 10 },
  },
  staging: {
    region: 'us-east-1',
    scheduleExpression: 'rate(30 minutes)',
    syncConfigPath: 'config/staging.sync.json',
    reservedConcurrency: 2,
    logRetentionDays: 30,
    removalPolicy: 'destroy',
    webhookThrottle: { rateLimit: 10, burstLimit: 20 },
  },
  prod: {
    region: 'us-east-1',
    scheduleExpression: 'rate(15 minutes)',
    syncConfigPath: 'config/prod.sync.json',
    reservedConcurrency: 5,
    logRetentionDays: 365,
    removalPolicy: 'retain',
    webhookThrottle: { rateLimit: 20, burstLimit: 50 },
  },
};

/** The deployable stages, validated once at load. Edit STAGE_INPUTS to pin accounts or add an alarm email. */
export const STAGES: Record<Stage, StageConfig> = {
  dev: StageConfigSchema.parse(STAGE_INPUTS.dev),
  staging: StageConfigSchema.parse(STAGE_INPUTS.staging),
  prod: StageConfigSchema.parse(STAGE_INPUTS.prod),
};

export class UnknownStageError extends Error {
  constructor(value: unknown) {
    super(`unknown stage ${JSON.stringify(value)}: pass -c stage=<${STAGE_NAMES.join('|')}>`);
    this.name = 'UnknownStageError';
  }
}

export const isStage = (value: unknown): value is Stage => typeof value === 'string' && (STAGE_NAMES as readonly string[]).includes(value);

/**
 * The stage selected with `cdk … -c stage=<name>` (cdk.json defaults it to `dev`).
 * Throws UnknownStageError naming the valid stages for anything else, including no stage at all.
 * @example const stage = stageFromContext(app); // 'prod' for `cdk deploy -c stage=prod`
 */
export function stageFromContext(scope: Construct): Stage {
  const value: unknown = scope.node.tryGetContext('stage');
  if (!isStage(value)) throw new UnknownStageError(value);
  return value;
}
