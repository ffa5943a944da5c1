// config file --> SyncConfigSchema --> SyncConfig (one format for the CLI and every deployed stage)
import { z } from 'zod';
import { DEFAULT_MAX_SNAPSHOT_AGE_HOURS, ORG_ROLES, type Limits } from '../sync/types.ts';
import { DEFAULT_MAX_ANSWER_BYTES } from '../losant/answers.ts';
import { InputError } from '../sync/errors.ts';
import { parseWith } from '../sync/parse-with.ts';
import { isReservedName, RESERVED_NAME_MESSAGE } from '../sync/people.ts';
import { SourcesSchema } from '../sync/sources.ts';
import { isTimeZone } from '../sync/dates.ts';

const HEX24 = /^[A-Fa-f\d]{24}$/;

/** Refuses `__proto__`, `constructor` and `prototype` as `when` keys (a record would drop `__proto__` silently: a catch-all). */
function refuseReservedKeys(value: unknown, ctx: z.core.$RefinementCtx): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of Object.keys(value)) if (isReservedName(key)) ctx.addIssue({ code: 'custom', path: [key], message: RESERVED_NAME_MESSAGE, input: value });
  }
  return value;
}

export const RuleSchema = z
  .object({
    when: z
      .preprocess(refuseReservedKeys, z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)])).default({})),
    role: z.enum([...ORG_ROLES, 'skip']),
  })
  .strict();

export const TargetSchema = z
  .object({
    name: z.string().min(1).max(128),
    instanceId: z.string().regex(HEX24, 'must be 24 hexadecimal characters'),
    orgId: z.string().regex(HEX24, 'must be 24 hexadecimal characters'),
    rules: z.array(RuleSchema).min(1),
  })
  .strict();

export const PolicySchema = z
  .object({
    renewExpired: z.boolean().default(true),
    maxRenewals: z.number().int().min(0).max(100).default(3),
    revokeLeft: z.boolean().default(false),
    fixRole: z.boolean().default(false),
    adoptExpired: z
      .boolean()
      .default(true),
    manageAdopted: z.boolean().default(false),
    removeLeftMembers: z
      .boolean()
      .default(false),
  })
  .strict();

/** Default of `limits.maxChangesPerRun`. */
export const DEFAULT_MAX_CHANGES_PER_RUN = 500;

/** `limits` as written in the file: maxChangesPerRun, or its old name maxInvitesPerRun, not both. */
export const LimitsInputSchema = z
  .object({
    maxChangesPerRun: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ default: DEFAULT_MAX_CHANGES_PER_RUN }),
    maxInvitesPerRun: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ deprecated: true }),
    minSizeForFraction: z.number().int().min(0).default(50),
    maxChangeFraction: z.number().min(0).max(1000).default(0.5),
    windowMinutes: z
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .default(60),
    maxBadRows: z.number().int().min(0).default(0),
    maxSnapshotAgeHours: z
      .number()
      .positive()
      .max(24 * 3660)
      .default(DEFAULT_MAX_SNAPSHOT_AGE_HOURS),
    reserveSeats: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(0),
    maxAnswerBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(DEFAULT_MAX_ANSWER_BYTES),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.maxChangesPerRun !== undefined && l.maxInvitesPerRun !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['maxInvitesPerRun'], message: 'the old name of maxChangesPerRun: give one of the two, not both' });
    }
  })
  .meta({ not: { required: ['maxChangesPerRun', 'maxInvitesPerRun'] } });

/** `limits` as the domain reads them: the old name folded into maxChangesPerRun. */
function toLimits({ maxChangesPerRun, maxInvitesPerRun, ...rest }: z.output<typeof LimitsInputSchema>): Limits & { maxAnswerBytes: number } {
  return { maxChangesPerRun: maxChangesPerRun ?? maxInvitesPerRun ?? DEFAULT_MAX_CHANGES_PER_RUN, ...rest };
}

/** `limits` parsed into the domain's Limits (maxInvitesPerRun accepted as the old name). */
export const LimitsSchema = LimitsInputSchema.transform(toLimits);

/** `scim`: how SCIM writes reach the reconcile queue. */
export const ScimSettingsSchema = z
  .object({
    debounceSeconds: z
      .number()
      .int()
      .min(0)
      .max(900)
      .default(30),
  })
  .strict();

export const SyncConfigSchema = z
  .object({
    $schema: z.string().optional(),
    targets: z
      .array(TargetSchema)
      .min(1)
      .superRefine((targets, ctx) => {
        const names = new Set<string>();
        const orgs = new Set<string>();
        targets.forEach((t, i) => {
          if (names.has(t.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate target name "${t.name}"` });
          names.add(t.name);
          const key = `${t.instanceId.toLowerCase()}/${t.orgId.toLowerCase()}`;
          if (orgs.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'orgId'], message: 'two targets point at the same org' });
          orgs.add(key);
        });
      }),
    policy: PolicySchema.default(PolicySchema.parse({})),
    sources: SourcesSchema,
    timeZone: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone (e.g. Europe/Berlin)')
      .default('UTC'),
    people: z
      .object({
        startDateField: z.string().min(1).optional(),
        endDateField: z.string().min(1).optional(),
        timeZoneField: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    scim: ScimSettingsSchema.default(ScimSettingsSchema.parse({})),
    // default before the transform, so the JSON Schema (input view) shows it
    limits: LimitsInputSchema.default({ maxChangesPerRun: DEFAULT_MAX_CHANGES_PER_RUN, ...LimitsInputSchema.parse({}) }).transform(toLimits),
    concurrency: z.number().int().min(1).max(256).default(16),
    leaseSeconds: z.number().int().min(10).max(3600).default(120),
    mode: z.enum(['apply', 'plan']).default('apply'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set(c.targets.map((t) => t.name));
    for (const [source, settings] of Object.entries(c.sources)) {
      settings.targets?.forEach((t, i) => {
        if (!names.has(t)) ctx.addIssue({ code: 'custom', path: ['sources', source, 'targets', i], message: `no target is named "${t}"` });
      });
    }
  })
  .meta({ title: 'invite-sync config', description: 'Which Losant organizations to keep in step with the HR roster, and how.' });

export type SyncConfig = z.infer<typeof SyncConfigSchema>;
export type SyncConfigInput = z.input<typeof SyncConfigSchema>;

/**
 * Validates a parsed config document. Throws InputError with one line naming the first bad path.
 * @example parseSyncConfig(JSON.parse(text), 'config.json')
 */
export function parseSyncConfig(doc: unknown, origin = 'config'): SyncConfig {
  return parseWith(SyncConfigSchema, doc, origin);
}

/**
 * Parses config text (JSON; a leading byte order mark, which some Windows editors write, is
 * ignored). Throws InputError for bad JSON or a bad document.
 */
export function parseSyncConfigText(text: string, origin = 'config'): SyncConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new InputError(`${origin}: not valid JSON: ${(err as Error).message}`, [{ path: '(root)', message: 'not valid JSON' }]);
  }
  return parseSyncConfig(doc, origin);
}
