// config file --> SyncConfigSchema --> SyncConfig (one format for the CLI and every deployed stage)
import { z } from 'zod';
import { ORG_ROLES } from '../sync/types.ts';
import { InputError } from '../sync/errors.ts';

const HEX24 = /^[A-Fa-f\d]{24}$/;

export const RuleSchema = z
  .object({
    when: z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)])).default({}),
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
  })
  .strict();

export const LimitsSchema = z
  .object({
    maxInvitesPerRun: z.number().int().min(0).default(500),
    minSizeForFraction: z.number().int().min(0).default(50),
    maxChangeFraction: z.number().min(0).max(1000).default(0.5),
    maxBadRows: z.number().int().min(0).default(0),
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
    limits: LimitsSchema.default(LimitsSchema.parse({})),
    concurrency: z.number().int().min(1).max(256).default(16),
    leaseSeconds: z.number().int().min(10).max(3600).default(120),
    mode: z.enum(['apply', 'plan']).default('apply'),
  })
  .strict();

export type SyncConfig = z.infer<typeof SyncConfigSchema>;
export type SyncConfigInput = z.input<typeof SyncConfigSchema>;

/** `targets.0.rules.1.role` style path of a zod issue */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(root)';
}

/**
 * Validates a parsed config document. Throws InputError with one line naming the first bad path.
 * @example parseSyncConfig(JSON.parse(text), 'config.json')
 */
export function parseSyncConfig(doc: unknown, origin = 'config'): SyncConfig {
  const result = SyncConfigSchema.safeParse(doc);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }));
  const first = issues[0]!;
  throw new InputError(`${origin}: ${first.path}: ${first.message}`, issues);
}

/** Parses config text (JSON). Throws InputError for bad JSON or a bad document. */
export function parseSyncConfigText(text: string, origin = 'config'): SyncConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${origin}: not valid JSON: ${(err as Error).message}`, [{ path: '(root)', message: 'not valid JSON' }]);
  }
  return parseSyncConfig(doc, origin);
}

/** JSON Schema of the config file, for editors (`schemas/sync-config.schema.json`). */
export function syncConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SyncConfigSchema, { io: 'input' }) as Record<string, unknown>;
}
