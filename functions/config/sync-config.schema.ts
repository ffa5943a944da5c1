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
      .preprocess(refuseReservedKeys, z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)])).default({}))
      .describe(
        'attribute → glob or list of globs (case-insensitive, `*` = any run). Keys AND, list items OR; ' +
          'a missing attribute matches nothing. Keys: email, employeeId, status, or any roster column. {} matches everyone.',
      ),
    role: z.enum([...ORG_ROLES, 'skip']).describe('org role to invite with; `skip` leaves the person out of this target'),
  })
  .strict()
  .describe('the first rule whose `when` matches a person decides their role');

export const TargetSchema = z
  .object({
    name: z.string().min(1).max(128).describe('unique name of the target (reports, metrics, --target)'),
    instanceId: z.string().regex(HEX24, 'must be 24 hexadecimal characters').describe('Losant instance id'),
    orgId: z.string().regex(HEX24, 'must be 24 hexadecimal characters').describe('Losant organization id'),
    rules: z.array(RuleSchema).min(1).describe('who is invited with which role; first match wins'),
  })
  .strict()
  .describe('one Losant organization kept in step with the roster');

export const PolicySchema = z
  .object({
    renewExpired: z.boolean().default(true).describe('resend expired invites that invite-sync created'),
    maxRenewals: z.number().int().min(0).max(100).default(3).describe('how often one invite is resent at most'),
    revokeLeft: z.boolean().default(false).describe('revoke invites invite-sync created for people no longer desired'),
    fixRole: z.boolean().default(false).describe('resend our pending invites whose role no longer matches the rules'),
    adoptExpired: z
      .boolean()
      .default(true)
      .describe('adopt an expired invite of a person the rules want, made by hand or by another tool, and renew it with the rule\'s role (within maxRenewals)'),
    manageAdopted: z.boolean().default(false).describe('let revokeLeft and fixRole touch adopted invites too (by default they are only ever renewed)'),
    removeLeftMembers: z
      .boolean()
      .default(false)
      .describe('remove org members invite-sync invited who are no longer desired (as revokeLeft judges it); never the last admin nor the token\'s own user'),
  })
  .strict()
  .describe('what invite-sync may do beyond inviting; it revokes and role-fixes only invites it created, and renews adopted expired ones');

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
      .meta({ default: DEFAULT_MAX_CHANGES_PER_RUN })
      .describe('more changes (invites, renewals, role fixes, revocations) than this in one target blocks the run'),
    maxInvitesPerRun: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ deprecated: true })
      .describe('the old name of maxChangesPerRun, still accepted (give one of the two)'),
    minSizeForFraction: z.number().int().min(0).default(50).describe('orgs smaller than this (pending + members) skip the fraction check'),
    maxChangeFraction: z.number().min(0).max(1000).default(0.5).describe('more changes than this fraction of pending + members blocks the run'),
    maxBadRows: z.number().int().min(0).default(0).describe('roster rows that may fail validation (they are left out)'),
    maxSnapshotAgeHours: z
      .number()
      .positive()
      .max(24 * 3660)
      .default(DEFAULT_MAX_SNAPSHOT_AGE_HOURS)
      .describe('a roster snapshot older than this (hours, by its occurredAt) is held back at ingest (staleSnapshot, approvable)'),
    reserveSeats: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(0)
      .describe('seats of an org\'s member limit kept free (for admins): invites past limit − members − pending − this are skipped as noSeat'),
    maxAnswerBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(DEFAULT_MAX_ANSWER_BYTES)
      .describe('the longest Losant answer read, bytes (default 64 MiB): a longer one is cut off and fails the call'),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.maxChangesPerRun !== undefined && l.maxInvitesPerRun !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['maxInvitesPerRun'], message: 'the old name of maxChangesPerRun: give one of the two, not both' });
    }
  })
  .meta({ not: { required: ['maxChangesPerRun', 'maxInvitesPerRun'] } })
  .describe('safety brakes: a blocked run changes nothing until approved or forced');

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
      .default(30)
      .describe('a SCIM write queues its targets this many seconds later, so a burst of per-user requests is planned as one run (0-900)'),
  })
  .strict()
  .describe('the SCIM 2.0 endpoint (/scim/v2)');

export const SyncConfigSchema = z
  .object({
    $schema: z.string().optional().describe('path or URL of this JSON Schema, for editors'),
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
      })
      .describe('the organizations to keep in step (names and orgs unique)'),
    policy: PolicySchema.default(PolicySchema.parse({})),
    sources: SourcesSchema,
    timeZone: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone (e.g. Europe/Berlin)')
      .default('UTC')
      .describe('the zone of start and end dates whose person has no zone of their own (people.timeZoneField)'),
    people: z
      .object({
        startDateField: z.string().min(1).optional().describe('the attribute holding the start date (YYYY-MM-DD): not invited before local midnight of it (skip key notStarted)'),
        endDateField: z.string().min(1).optional().describe('the attribute holding the end date (YYYY-MM-DD): counts as left after the local end of it'),
        timeZoneField: z.string().min(1).optional().describe("the attribute holding the person's IANA time zone (default: timeZone)"),
      })
      .strict()
      .default({})
      .describe('opt-in start and end dates read from person attributes'),
    scim: ScimSettingsSchema.default(ScimSettingsSchema.parse({})),
    // default before the transform, so the JSON Schema (input view) shows it
    limits: LimitsInputSchema.default({ maxChangesPerRun: DEFAULT_MAX_CHANGES_PER_RUN, ...LimitsInputSchema.parse({}) }).transform(toLimits),
    concurrency: z.number().int().min(1).max(256).default(16).describe('Losant requests in flight at once'),
    leaseSeconds: z.number().int().min(10).max(3600).default(120).describe('how long one run holds a target before another may take it'),
    mode: z.enum(['apply', 'plan']).default('apply').describe('`plan` computes and reports, never changes Losant'),
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

/** JSON Schema of the config file, for editors (`schemas/sync-config.schema.json`). */
export function syncConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SyncConfigSchema, { io: 'input' }) as Record<string, unknown>;
}
