// config/<stage>.stage.json (+ cdk -c stage.<key>=<value>) --> loadStageConfig --> StageConfigSchema --> InviteSyncStack props
// This module holds the schema, its defaults and the loader; every stage's values live in its file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Construct } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { InputError } from '../functions/sync/errors.ts';
import { parseWith } from '../functions/sync/parse-with.ts';

/** The retention periods CloudWatch Logs accepts (RetentionDays' numeric values). */
const LOG_RETENTION_DAYS = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number') as [number, ...number[]];

/** Where the stage files live: `config/<stage>.stage.json`. */
export const STAGE_DIR = fileURLToPath(new URL('../config/', import.meta.url));
/** File name suffix of a stage file. */
export const STAGE_FILE_SUFFIX = '.stage.json';
/** A stage name: the stack is `InviteSync-<name>`, so it stays short and CloudFormation-safe. */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;
/** Listing order of the usual promotion path; other stage files follow alphabetically. Display only. */
const PROMOTION_ORDER = ['dev', 'staging', 'prod'];

/** A stage name, i.e. the name of a `config/<name>.stage.json` file. */
export type Stage = string;

/** The reconcile function's timeout when a stage file sets none (seconds; the HTTP function always has it too). */
export const DEFAULT_TIMEOUT_SECONDS = 300;
/** Bounds of `timeoutSeconds`: 30 s leaves a queued run room beyond its 10 s safety margin; 900 s is Lambda's maximum. */
const MIN_TIMEOUT_SECONDS = 30;
const MAX_TIMEOUT_SECONDS = 900;

/** `null` or absent in a file means "not set"; the parsed config has `undefined`. */
const unset = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v): z.output<T> | undefined => v ?? undefined);

const NotifySchema = z
  .object({
    /** subscribed to the alarm topic (each confirms the subscription email) */
    emails: z.array(z.email('must be an email address')).default([]),
    /** a second alarm action, e.g. a Chatbot/PagerDuty topic; its topic and key policies must allow CloudWatch */
    topicArn: unset(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'must be an SNS topic ARN')),
  })
  .strict();

export const StageConfigSchema = z
  .object({
    /** editors validate the file against schemas/stage-config.schema.json */
    $schema: z.string().optional(),
    /** AWS account to pin the stack to. @default - env-agnostic (the account is resolved at deploy time) */
    account: unset(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id')),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1'),
    /** EventBridge schedule that re-checks every target, e.g. `rate(15 minutes)` or `cron(0 * * * ? *)` */
    scheduleExpression: z.string().regex(/^(rate|cron)\(.+\)$/, 'must be rate(...) or cron(...)'),
    /** Losant API base URL; a private Losant instance sets its own. */
    losantApiUrl: z.url({ protocol: /^https$/, error: 'must be an https URL' }).default('https://api.losant.com'),
    /** the stage's sync config file, relative to the project root */
    syncConfigPath: z.string().min(1),
    /**
     * Reserved concurrency of the reconcile function (schedule, HR bus, reconcile queue); also caps how
     * hard the stage presses on Losant and sets the queue event source's maximumConcurrency (at least 2).
     * @default - unreserved (the event source's maximumConcurrency is then 2)
     */
    reservedConcurrency: unset(z.number().int().min(1)),
    /**
     * Memory of the reconcile function (schedule, queue, HR bus, roster drops), MB. Roster drops up to
     * memoryMb ÷ 24 are read (1024: 42.7 MB; 1280 and more: the 50 MB cap), larger ones are refused.
     */
    memoryMb: z.number().int().min(256, 'must be at least 256').max(10240, 'must be at most 10240 (Lambda)').default(1024),
    /**
     * Timeout of the reconcile function, seconds. The reconcile queue's visibility timeout is six times it
     * (AWS: at least the function's timeout); a queued run that nears it stops and queues its continuation.
     */
    timeoutSeconds: z
      .number()
      .int()
      .min(MIN_TIMEOUT_SECONDS, `must be at least ${MIN_TIMEOUT_SECONDS}`)
      .max(MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS} (Lambda)`)
      .default(DEFAULT_TIMEOUT_SECONDS),
    /** Reserved concurrency of the HTTP function (webhook). @default - unreserved: low-quota accounts cannot reserve */
    httpReservedConcurrency: unset(z.number().int().min(1)),
    logRetentionDays: z.literal(LOG_RETENTION_DAYS, {
      error: 'must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …, 365, …)',
    }),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** `retain` keeps the table (with deletion protection) and keys when the stack goes away */
    removalPolicy: z.enum(['retain', 'destroy']),
    /** who hears about alarms. @default - nobody (subscribe to the AlarmTopicArn output yourself) */
    notify: NotifySchema.default({ emails: [], topicArn: undefined }),
    /** @deprecated use `notify.emails`; still accepted and merged into it */
    alarmEmail: z.email('must be an email address').optional(),
    /**
     * Days a current roster file stays in the drop bucket before it expires (the files hold PII);
     * noncurrent versions always expire after 30 days.
     */
    dropRetentionDays: z.number().int().min(1, 'must be at least 1 day').max(3650, 'must be at most 3650 days').default(30),
    /** throttling of the webhook HTTP API's default stage */
    webhookThrottle: z
      .object({
        rateLimit: z.number().positive(),
        burstLimit: z.number().int().positive(),
      })
      .strict(),
    /** throttling of the `/scim/v2/{proxy+}` route (an IdP's provisioning burst); the function also limits each token */
    scimThrottle: z
      .object({
        rateLimit: z.number().positive(),
        burstLimit: z.number().int().positive(),
      })
      .strict()
      .default({ rateLimit: 20, burstLimit: 40 }),
  })
  .strict();

export type StageConfig = z.infer<typeof StageConfigSchema>;
export type StageConfigInput = z.input<typeof StageConfigSchema>;

/**
 * The JSON Schema of a stage file (the input side: defaults optional), as committed in
 * schemas/stage-config.schema.json by scripts/gen-stage-schema.ts.
 */
export function stageConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(StageConfigSchema, { io: 'input' }) as Record<string, unknown>;
}

/** Everyone the alarm topic emails: `notify.emails` plus the legacy `alarmEmail`, once each. */
export function alarmEmails(config: Pick<StageConfig, 'notify' | 'alarmEmail'>): string[] {
  return [...new Set([...config.notify.emails, ...(config.alarmEmail ? [config.alarmEmail] : [])].map((e) => e.trim()))];
}

export class UnknownStageError extends Error {
  constructor(value: unknown, known: readonly string[] = listStageNames()) {
    super(`unknown stage ${JSON.stringify(value)}: pass -c stage=<${known.join('|')}>`);
    this.name = 'UnknownStageError';
  }
}

/**
 * The stages that have a file in `dir`: dev, staging and prod first (when present), the others
 * alphabetically.
 * @example listStageNames() // ['dev', 'staging', 'prod']
 */
export function listStageNames(dir: string = STAGE_DIR): Stage[] {
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(STAGE_FILE_SUFFIX))
        .map((f) => f.slice(0, -STAGE_FILE_SUFFIX.length))
        .filter((n) => STAGE_NAME.test(n))
    : [];
  const rank = (n: string) => (PROMOTION_ORDER.includes(n) ? PROMOTION_ORDER.indexOf(n) : PROMOTION_ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The path of a stage's file relative to the project root, as errors name it. */
export const stageFileOrigin = (stage: Stage): string => `config/${stage}${STAGE_FILE_SUFFIX}`;

/** A scalar leaf of the stage file that `-c stage.<key>=<value>` may set, and how a string value is read. */
export interface ScalarKey {
  kind: 'string' | 'number';
  nullable: boolean;
}

/**
 * The keys `-c stage.<key>=<value>` accepts: every string or number leaf of the schema
 * (`region`, `notify.topicArn`, `webhookThrottle.rateLimit`, …), derived from the JSON Schema.
 */
export function scalarStageKeys(): Map<string, ScalarKey> {
  const out = new Map<string, ScalarKey>();
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, raw] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
      if (key === '$schema') continue;
      const path = prefix ? `${prefix}.${key}` : key;
      const variants = (raw.anyOf as Record<string, unknown>[] | undefined) ?? [raw];
      const types = variants.map((v) => v.type ?? (v.enum ? 'string' : undefined));
      if (types.includes('object')) {
        walk(variants.find((v) => v.type === 'object')!, path);
        continue;
      }
      const kind = types.find((t) => t === 'string' || t === 'number' || t === 'integer');
      if (kind) out.set(path, { kind: kind === 'string' ? 'string' : 'number', nullable: types.includes('null') });
    }
  };
  walk(stageConfigJsonSchema(), '');
  return out;
}

/** `-c stage.<key>=<value>` pairs of the app's context, as `[key, value]`. */
function contextOverrides(scope: Construct | undefined): [string, unknown][] {
  if (!scope) return [];
  const all = scope.node.getAllContext() as Record<string, unknown>;
  return Object.entries(all).filter(([k]) => k.startsWith('stage.'));
}

/** A context value (a string from the CLI, anything from a test's App) as the key's type. */
function coerce(value: unknown, key: ScalarKey): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim();
  if (key.nullable && (v === '' || v === 'null')) return null;
  if (key.kind === 'number' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = doc;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = node[part] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
  }
  node[parts.at(-1)!] = value;
}

export interface LoadStageOptions {
  /** @default STAGE_DIR */
  dir?: string;
  /** the app (or any construct): its `stage.<key>` context values override the file's scalars */
  scope?: Construct;
}

/**
 * Reads and validates `config/<stage>.stage.json`, with the scope's `-c stage.<key>=<value>`
 * overrides applied to scalar keys. Every failure is one line naming the file (or the `-c` key)
 * and the field, e.g. `config/prod.stage.json: notify.emails.0: must be an email address`;
 * a stage without a file is UnknownStageError.
 * @example const config = loadStageConfig('prod', { scope: app })
 */
export function loadStageConfig(stage: Stage, options: LoadStageOptions = {}): StageConfig {
  const dir = options.dir ?? STAGE_DIR;
  const origin = stageFileOrigin(stage);
  const file = join(dir, `${stage}${STAGE_FILE_SUFFIX}`);
  if (!STAGE_NAME.test(stage) || !existsSync(file)) throw new UnknownStageError(stage, listStageNames(dir));
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new InputError(`${origin}: not valid JSON (${(err as Error).message})`, [{ path: '(root)', message: 'not valid JSON' }]);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError(`${origin}: (root): must be a JSON object`, [{ path: '(root)', message: 'must be a JSON object' }]);
  }

  const overrides = contextOverrides(options.scope);
  if (overrides.length === 0) return parseWith(StageConfigSchema, doc, origin);
  const keys = scalarStageKeys();
  const merged = { ...(doc as Record<string, unknown>) };
  for (const [contextKey, value] of overrides) {
    const path = contextKey.slice('stage.'.length);
    const key = keys.get(path);
    if (!key) {
      const why = `not a scalar stage key (one of ${[...keys.keys()].join(', ')}); lists and objects are set in ${origin}`;
      throw new InputError(`-c ${contextKey}: ${why}`, [{ path: contextKey, message: why }]);
    }
    setPath(merged, path, coerce(value, key));
  }
  const overridden = new Set(overrides.map(([k]) => k.slice('stage.'.length)));
  try {
    return parseWith(StageConfigSchema, merged, origin);
  } catch (err) {
    // a bad value that came from -c is named by its -c key, not by the file
    const first = err instanceof InputError ? err.issues[0] : undefined;
    if (!first || !overridden.has(first.path)) throw err;
    throw new InputError(`-c stage.${first.path}: ${first.message}`, (err as InputError).issues);
  }
}

/** Every stage file, validated on first access (a bad file fails only the stages that read it). */
export const STAGES: Readonly<Record<Stage, StageConfig>> = (() => {
  const stages: Record<Stage, StageConfig> = {};
  for (const name of listStageNames()) {
    let cached: StageConfig | undefined;
    Object.defineProperty(stages, name, { enumerable: true, get: () => (cached ??= loadStageConfig(name)) });
  }
  return Object.freeze(stages);
})();

/** The stage names with a file under config/, in listing order. */
export const STAGE_NAMES: readonly Stage[] = Object.freeze(listStageNames());

export const isStage = (value: unknown): value is Stage => typeof value === 'string' && STAGE_NAMES.includes(value);

/**
 * The stage selected with `cdk … -c stage=<name>` (cdk.json defaults it to `dev`).
 * `names` are the stages with a file (default: config/'s). Throws UnknownStageError naming them for
 * anything else, including no stage at all.
 * @example const stage = stageFromContext(app); // 'prod' for `cdk deploy -c stage=prod`
 */
export function stageFromContext(scope: Construct, names: readonly Stage[] = STAGE_NAMES): Stage {
  const value: unknown = scope.node.tryGetContext('stage');
  if (typeof value !== 'string' || !names.includes(value)) throw new UnknownStageError(value, names);
  return value;
}
