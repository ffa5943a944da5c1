// handler / CLI --> parseHrEvent --> HrEvent (people already domain `Person`s) --> ingestHrEvent
import { z } from 'zod';
import { HrPersonSchema } from './people.ts';
import { listConflicts } from './identity.ts';
import { parseWith } from './parse-with.ts';
import { SOURCE_NAME, SOURCE_NAME_MESSAGE } from './sources.ts';

export const HR_EVENT_TYPES = ['person.upserted', 'person.terminated', 'roster.snapshot'] as const;
export type HrEventType = (typeof HR_EVENT_TYPES)[number];

/** Most people one `roster.snapshot` event may carry; larger rosters are sent in parts. */
export const MAX_PEOPLE_PER_EVENT = 10_000;
export const MAX_SNAPSHOT_PARTS = 1_000;

const SOURCE = SOURCE_NAME;
const SNAPSHOT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const BaseShape = {
  id: z.string({ error: 'required' }).min(1, 'must not be empty').max(256, 'longer than 256 characters'),
  /** normalised to UTC `toISOString()` form so stored times compare as strings */
  occurredAt: z
    .string({ error: 'required' })
    .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO date-time with a time zone' }))
    .transform((s, ctx) => {
      const ms = Date.parse(s);
      if (Number.isFinite(ms)) return new Date(ms).toISOString();
      ctx.addIssue({ code: 'custom', message: 'must be an ISO date-time with a time zone', input: s });
      return z.NEVER;
    }),
  source: z.string().regex(SOURCE, SOURCE_NAME_MESSAGE).default('default'),
};

const partError = `must be a whole number from 1 to ${MAX_SNAPSHOT_PARTS}`;
const PartNumberSchema = z.number({ error: partError }).int(partError).min(1, partError).max(MAX_SNAPSHOT_PARTS, partError);

const PersonUpsertedSchema = z
  .object({ ...BaseShape, type: z.literal('person.upserted'), person: HrPersonSchema })
  .strict();

const PersonTerminatedSchema = z
  .object({
    ...BaseShape,
    type: z.literal('person.terminated'),
    // whatever status the body says, this event terminates the person
    person: HrPersonSchema.transform((p) => ({ ...p, status: 'terminated' as const })),
  })
  .strict();

const RosterSnapshotSchema = z
  .object({
    ...BaseShape,
    type: z.literal('roster.snapshot'),
    people: z
      .array(z.unknown(), { error: 'must be an array' })
      .max(MAX_PEOPLE_PER_EVENT, `more than ${MAX_PEOPLE_PER_EVENT} people in one event (send parts)`)
      .pipe(z.array(HrPersonSchema)),
    snapshotId: z.string().regex(SNAPSHOT_ID, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -').optional(),
    part: PartNumberSchema.optional(),
    parts: PartNumberSchema.optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const parts = e.parts ?? 1;
    if (e.part !== undefined && e.parts === undefined) {
      ctx.addIssue({ code: 'custom', path: ['parts'], message: 'required when part is given' });
    }
    if (parts > 1 && e.snapshotId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['snapshotId'], message: 'required when parts > 1' });
    }
    if (parts > 1 && e.part === undefined) ctx.addIssue({ code: 'custom', path: ['part'], message: 'required when parts > 1' });
    if (e.part !== undefined && e.part > parts) ctx.addIssue({ code: 'custom', path: ['part'], message: `must be between 1 and parts (${parts})` });
    for (const c of listConflicts(e.people)) {
      if (c.reason === 'samePerson' && c.field === 'employeeId') {
        ctx.addIssue({ code: 'custom', path: ['people', c.index], message: `same person as people.${c.first} (employeeId)` });
      } else if (c.reason === 'samePerson') {
        ctx.addIssue({ code: 'custom', path: ['people', c.index, 'email'], message: `same person as people.${c.first} (email)` });
      } else {
        ctx.addIssue({ code: 'custom', path: ['people', c.index, 'email'], message: `a second active person with the email of people.${c.first}` });
      }
    }
  });

/**
 * An HR event as the webhook, the event bus and the CLI deliver it. Strict: unknown top-level keys
 * are an error. `occurredAt` comes out in UTC (`2024-05-01T08:00:00.000Z`).
 */
export const HrEventSchema = z.discriminatedUnion('type', [PersonUpsertedSchema, PersonTerminatedSchema, RosterSnapshotSchema], {
  error: (iss) => {
    if (iss.code === 'invalid_union') return `must be one of ${HR_EVENT_TYPES.join(', ')}`;
    if (iss.code === 'invalid_type') return 'must be an object';
    return undefined;
  },
});
export type HrEvent = z.infer<typeof HrEventSchema>;
export type PersonEvent = Extract<HrEvent, { type: 'person.upserted' | 'person.terminated' }>;
export type RosterSnapshotEvent = Extract<HrEvent, { type: 'roster.snapshot' }>;

/**
 * Validates an HR event document. Throws InputError whose message names the first bad field path,
 * e.g. `person.email: invalid email`; `issues` lists every problem.
 * @example const event = parseHrEvent(JSON.parse(body))
 */
export function parseHrEvent(doc: unknown): HrEvent {
  return parseWith(HrEventSchema, doc);
}
