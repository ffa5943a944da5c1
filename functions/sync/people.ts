// roster / HR event / SCIM user --> PersonInputSchema --> Person (email normalised, attributes as strings or lists of strings)
import { z } from 'zod';
import type { AttributeValue, Person, StoredPerson } from './types.ts';
import { parseEmail } from './email.ts';
import { parseWith } from './parse-with.ts';

/**
 * Names no attribute, roster column or rule `when` key may have: copied into a plain object they
 * would reach its prototype (`__proto__`) or be shadowed by what every object inherits.
 */
export const RESERVED_NAMES = ['__proto__', 'constructor', 'prototype'] as const;
export const RESERVED_NAME_MESSAGE = `is a reserved name (${RESERVED_NAMES.join(', ')}) and cannot be used`;

/** True for `__proto__`, `constructor` and `prototype`. */
export function isReservedName(name: string): boolean {
  return (RESERVED_NAMES as readonly string[]).includes(name);
}

/** Fields of a person that are not free attributes. */
export const RESERVED_FIELDS = ['email', 'employeeId', 'status'] as const;
export const MAX_ATTRIBUTES = 100;
export const MAX_ATTRIBUTE_NAME = 128;
export const MAX_ATTRIBUTE_VALUE = 1024;
/** A list attribute (a SCIM user's `groups`): at most this many items, each at most MAX_LIST_ITEM characters. */
export const MAX_LIST_ITEMS = 100;
export const MAX_LIST_ITEM = 256;

const scalarError = 'must be a string, number or boolean, or a list of strings';

const ScalarSchema = z.union([z.string(), z.number(), z.boolean()], { error: scalarError }).transform((v) => String(v).trim());
const ScalarValueSchema = ScalarSchema.pipe(z.string().max(MAX_ATTRIBUTE_VALUE, `longer than ${MAX_ATTRIBUTE_VALUE} characters`));
const ListValueSchema = z
  .array(
    z
      .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' })
      .transform((v) => String(v).trim())
      .pipe(z.string().max(MAX_LIST_ITEM, `longer than ${MAX_LIST_ITEM} characters`)),
  )
  .max(MAX_LIST_ITEMS, `more than ${MAX_LIST_ITEMS} items`)
  .transform((items) => items.filter((s) => s.length > 0));

/**
 * An attribute value: strings as given (trimmed), numbers and booleans as their string form, or a
 * list of those (items trimmed, empty items dropped; an error names the item, e.g. `groups.3`).
 */
const AttributeValueSchema = z.unknown().transform((v, ctx): string | string[] => {
  const result = Array.isArray(v) ? ListValueSchema.safeParse(v) : ScalarValueSchema.safeParse(v);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: v });
  return z.NEVER;
});

const EmailFieldSchema = z
  .string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a string') })
  .transform((raw, ctx) => {
    const parsed = parseEmail(raw);
    if (parsed.ok) return parsed.email;
    ctx.addIssue({ code: 'custom', message: parsed.reason, input: raw });
    return z.NEVER;
  });

const EmployeeIdSchema = z
  .union([z.string(), z.number()], { error: 'must be a string or number' })
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1, 'must not be empty').max(256, 'longer than 256 characters'));

const StatusSchema = z
  .string({ error: 'must be "active" or "terminated"' })
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(['active', 'terminated'], { error: 'must be "active" or "terminated"' }));

/**
 * Drops `null` members (a null field counts as absent: HR exports write null for "no value") and
 * refuses the reserved names (JSON.parse makes `__proto__` an own key; copied naively it would lend
 * the person inherited fields; `constructor` and `prototype` shadow what every object inherits).
 */
function dropNulls(value: unknown, ctx: z.core.$RefinementCtx): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isReservedName(k)) ctx.addIssue({ code: 'custom', path: [k], message: RESERVED_NAME_MESSAGE, input: v });
    else if (v !== null) out[k] = v;
  }
  return out;
}

/**
 * One person as a roster row or an HR event carries them: `email` (required), `employeeId?`,
 * `status?` (`active` by default, case-insensitive), and any other attributes as scalars or lists of
 * scalars (MAX_LIST_ITEMS items of at most MAX_LIST_ITEM characters). Nulls count as absent; objects and
 * nested lists are an error naming the field.
 */
export const PersonInputSchema = z.preprocess(
  dropNulls,
  z
    .object(
      {
        email: EmailFieldSchema,
        employeeId: EmployeeIdSchema.optional(),
        status: StatusSchema.default('active'),
      },
      { error: 'must be an object' },
    )
    .catchall(AttributeValueSchema)
    .superRefine((obj, ctx) => {
      const names = Object.keys(obj).filter((k) => !(RESERVED_FIELDS as readonly string[]).includes(k));
      if (names.length > MAX_ATTRIBUTES) ctx.addIssue({ code: 'custom', message: `more than ${MAX_ATTRIBUTES} attributes` });
      for (const name of names) {
        if (name.trim().length === 0 || name.length > MAX_ATTRIBUTE_NAME) {
          ctx.addIssue({ code: 'custom', path: [name], message: `attribute name must be 1-${MAX_ATTRIBUTE_NAME} characters` });
        }
      }
    }),
);
export type PersonInput = z.infer<typeof PersonInputSchema>;

function reshape(input: PersonInput): Person {
  const attributes: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'email' || key === 'employeeId' || key === 'status') continue;
    // an empty attribute (or empty list) counts as absent, like an empty CSV cell
    if (typeof value === 'string' && value.length > 0) attributes[key] = value;
    else if (Array.isArray(value) && value.length > 0) attributes[key] = value;
  }
  const person: Person = { email: input.email, status: input.status, attributes };
  if (input.employeeId !== undefined) person.employeeId = input.employeeId;
  return person;
}

/**
 * A person as HR sends them (a roster row, an HR event's `person`), validated by PersonInputSchema
 * and shaped as a domain `Person` (use inside other schemas, e.g. HR events). Not the stored
 * person: state/items.schema.ts validates what the table holds.
 */
export const HrPersonSchema = PersonInputSchema.transform(reshape);

/**
 * Validates one raw person and returns the domain `Person` (email normalised).
 * Throws InputError naming the first bad field, e.g. `email: invalid email`.
 * @example toPerson({ email: 'Jane@Example.com', department: 'Engineering' })
 */
export function toPerson(input: unknown): Person {
  return parseWith(HrPersonSchema, input);
}

/**
 * The key that says two records are the same person: the employeeId when there is one,
 * else the normalised email. Prefixed so an id can never collide with an email.
 * @example personIdentity({ email: 'jane@x.com', employeeId: 'E1', status: 'active', attributes: {} }) // 'emp:E1'
 */
export function personIdentity(p: Pick<Person, 'email' | 'employeeId'>): string {
  return p.employeeId !== undefined ? `emp:${p.employeeId}` : `email:${p.email}`;
}

/**
 * True when `a` should speak for an email rather than `b`: the newer lastEventAt (parsed; two
 * unparseable times compare as strings), then the greater source, then the greater identity, so
 * the choice never depends on list order.
 */
export function newerPerson(a: StoredPerson, b: StoredPerson): boolean {
  if (a.lastEventAt !== b.lastEventAt) {
    const ta = Date.parse(a.lastEventAt);
    const tb = Date.parse(b.lastEventAt);
    if (Number.isNaN(ta) || Number.isNaN(tb)) return a.lastEventAt > b.lastEventAt;
    if (ta !== tb) return ta > tb;
  }
  if (a.source !== b.source) return a.source > b.source;
  return a.identity > b.identity;
}

/**
 * The one rule for "who is desired" across sources: the stored records that speak, at most one per
 * email. A person's newest record decides: a record whose employeeId has a newer record in another
 * source is out (that record says who they are now), and of the records with one email the newest
 * (newerPerson, terminated and left ones included) speaks only when it is active and still listed,
 * so a newer termination in any source wins over an older active record elsewhere.
 * In the order of each email's first record that is not out.
 * @example const desired = speakingPeople(await store.listPeople())
 */
export function speakingPeople(people: readonly StoredPerson[]): StoredPerson[] {
  const slots = new Map<string, number>();
  const speakers: (StoredPerson | undefined)[] = [];
  speakersBySlot(
    people,
    (email) => {
      let slot = slots.get(email);
      if (slot === undefined) slots.set(email, (slot = slots.size));
      return slot;
    },
    speakers,
  );
  return speakers.filter((p): p is StoredPerson => p !== undefined);
}

/**
 * speakingPeople for a caller that already numbers emails (the planner's one index): `slotOf` gives
 * each email its slot, and `out[slot]` (undefined at every slot before) becomes the record that speaks
 * for that email, or stays undefined when none does. slotOf is called once per record not out, in
 * list order; the caller may give a slot to an email nobody speaks for.
 * @example speakersBySlot(people, (email) => index.get(email)!, bySlot)
 */
export function speakersBySlot(people: readonly StoredPerson[], slotOf: (email: string) => number, out: (StoredPerson | undefined)[]): void {
  const newestById = newestByEmployeeId(people);
  const slots = new Int32Array(people.length);
  /** some record is terminated or left its source (else every newest record speaks) */
  let silent = false;
  for (let i = 0; i < people.length; i++) {
    const p = people[i]!;
    if (newestById !== undefined && p.employeeId !== undefined && newestById.get(p.employeeId) !== p) {
      slots[i] = -1;
      continue;
    }
    if (p.status !== 'active' || p.leftSource) silent = true;
    const slot = slotOf(p.email);
    slots[i] = slot;
    const seen = out[slot];
    if (seen === undefined || newerPerson(p, seen)) out[slot] = p;
  }
  if (!silent) return;
  // the newest record of each email speaks only when it is active and still listed
  for (let i = 0; i < people.length; i++) {
    const slot = slots[i]!;
    if (slot < 0) continue;
    const p = out[slot];
    if (p !== undefined && (p.status !== 'active' || p.leftSource)) out[slot] = undefined;
  }
}

/**
 * The newest record (newerPerson) of each employeeId, or undefined when no employeeId occurs twice
 * (the usual case: then every record is the newest of its employeeId, and no Map of them is built).
 */
function newestByEmployeeId(people: readonly StoredPerson[]): Map<string, StoredPerson> | undefined {
  const ids = new Set<string>();
  let repeated = false;
  for (let i = 0; i < people.length && !repeated; i++) {
    const id = people[i]!.employeeId;
    if (id === undefined) continue;
    const size = ids.size;
    ids.add(id);
    repeated = ids.size === size;
  }
  if (!repeated) return undefined;
  const newestById = new Map<string, StoredPerson>();
  for (const p of people) {
    if (p.employeeId === undefined) continue;
    const seen = newestById.get(p.employeeId);
    if (seen === undefined || newerPerson(p, seen)) newestById.set(p.employeeId, p);
  }
  return newestById;
}
