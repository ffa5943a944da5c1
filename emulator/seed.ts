// seed file / options --> seed schema --> emulator state
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ROLES, isSchemaEmail } from './contract.ts';

/** The example ID of the Losant documents: the default instance and org. */
export const DEFAULT_ID = '575ec8687ae143cd83dc4a97';
/** The token an unseeded emulator accepts (scope `all.Instance`). */
export const DEFAULT_TOKEN = 'emulator-token';

const IdSchema = z.string().regex(/^[A-Fa-f\d]{24}$/, 'must be 24 hexadecimal characters');
const EmailSchema = z.string().refine(isSchemaEmail, 'must be an email address the published schema accepts (format email, at most 1024 chars)');
const RoleSchema = z.enum(ROLES);

/** A relative time: a signed count of minutes, hours or days, e.g. `-2d`, `-90m`, `+1h`. */
const RELATIVE_TIME = /^([+-]?)(\d{1,6})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Resolves a seed time: an ISO date-time as it is, or a relative time (`-2d`, `-90m`, `+1h`; units `m`, `h`, `d`)
 * counted from `startMs`, the emulator's start. Returns epoch ms, or `undefined` for a string that is neither.
 * @example resolveSeedTime('-2d', Date.parse('2030-01-03T00:00:00Z')) // Date.parse('2030-01-01T00:00:00Z')
 */
export function resolveSeedTime(value: string, startMs: number): number | undefined {
  const rel = RELATIVE_TIME.exec(value);
  if (rel) {
    const ms = Number(rel[2]) * UNIT_MS[rel[3] as keyof typeof UNIT_MS];
    return rel[1] === '-' ? startMs - ms : startMs + ms;
  }
  if (!z.iso.datetime({ offset: true }).safeParse(value).success) return undefined;
  return Date.parse(value);
}

const SeedTimeSchema = z
  .string()
  .refine((v) => resolveSeedTime(v, 0) !== undefined, 'must be an ISO date-time or a relative time such as "-2d", "-90m" or "+1h" (units m, h, d)');

export const SeedInviteSchema = z.strictObject({
  email: EmailSchema,
  role: RoleSchema,
  /** ISO date-time, or a relative time (`-2d`; units m, h, d) counted from the emulator's start; default: the start */
  inviteDate: SeedTimeSchema.optional(),
  /** overrides the 7-day expiry rule until the invite is resent */
  hasExpired: z.boolean().optional(),
});
export type SeedInvite = z.infer<typeof SeedInviteSchema>;

export const SeedMemberSchema = z.strictObject({ email: EmailSchema, role: RoleSchema });
export type SeedMember = z.infer<typeof SeedMemberSchema>;

const unique = <T>(list: T[], key: (t: T) => string): boolean => new Set(list.map(key)).size === list.length;

export const SeedOrgSchema = z.strictObject({
  id: IdSchema,
  /** the org's name as GET org answers it; default `Organization <id>` */
  name: z.string().min(1).max(255).optional(),
  /** `limits.member`: members + unexpired pending invites may not exceed it (a POST past it is refused); absent: no limit */
  memberLimit: z.number().int().min(0).max(1_000_000).optional(),
  invites: z.array(SeedInviteSchema).optional(),
  members: z
    .array(SeedMemberSchema)
    .refine((list) => unique(list, (m) => m.email.toLowerCase()), 'member emails must be unique (case-insensitive)')
    .optional(),
});

export const SeedInstanceSchema = z.strictObject({
  id: IdSchema,
  orgs: z.array(SeedOrgSchema).refine((list) => unique(list, (o) => o.id.toLowerCase()), 'org ids must be unique').optional(),
});

/** `userEmail`: the Losant user the token belongs to (what GET /me answers; the member with that email has that user's id). */
export const SeedTokenSchema = z.strictObject({ token: z.string().min(1), scopes: z.array(z.string().min(1)), userEmail: EmailSchema.optional() });

/**
 * What the emulator starts with. Absent `tokens`: the token `emulator-token` with scope `all.Instance`.
 * Absent `instances`: instance and org `575ec8687ae143cd83dc4a97` with no invites and no members.
 */
export const EmulatorSeedSchema = z.strictObject({
  tokens: z.array(SeedTokenSchema).refine((list) => unique(list, (t) => t.token), 'tokens must be unique').optional(),
  instances: z.array(SeedInstanceSchema).refine((list) => unique(list, (i) => i.id.toLowerCase()), 'instance ids must be unique').optional(),
});
export type EmulatorSeed = z.infer<typeof EmulatorSeedSchema>;

/** A seed that does not match `EmulatorSeedSchema`, or a seed file that cannot be read. */
export class SeedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SeedError';
  }
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '') || '(root)';
}

/**
 * Validates a seed; the error names the first offending field, e.g. `instances[0].orgs[1].invites[2].role`.
 * @example parseSeed({ tokens: [{ token: 't', scopes: ['all.Instance.read'] }] }, 'test seed')
 */
export function parseSeed(data: unknown, source = 'seed'): EmulatorSeed {
  const result = EmulatorSeedSchema.safeParse(data);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`).join('; ');
  throw new SeedError(`${source} is invalid: ${details}`, { cause: result.error });
}

/**
 * Reads and validates a JSON seed file.
 * @example const seed = await loadSeedFile('test/fixtures/emulator/seed.json');
 */
export async function loadSeedFile(path: string): Promise<EmulatorSeed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SeedError(`cannot read seed file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SeedError(`seed file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseSeed(data, `seed file ${path}`);
}
