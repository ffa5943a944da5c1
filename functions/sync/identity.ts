// ingest --> StateStore (DynamoDB and in memory alike) --> identity: which stored records of a source an HR
// event or a roster row is, what one write leaves, and when an event is refused (pure, no I/O)
import { InputError } from './errors.ts';
import { personIdentity } from './people.ts';
import type { Person, StoredPerson } from './types.ts';

/** What identity resolution reads of a stored person (a store item has more). */
export type IdentityRecord = Pick<StoredPerson, 'email' | 'employeeId' | 'status' | 'attributes' | 'identity' | 'lastEventAt' | 'leftSource'>;

/** Active and still listed by their source: the only people who count. */
export function isActiveRecord(r: Pick<IdentityRecord, 'status' | 'leftSource'>): boolean {
  return r.status === 'active' && r.leftSource !== true;
}

const later = (a: string, b: string): boolean => a > b;

/** Which of two records speaks for an email within one source: the active one, then the newer, then the greater identity. */
function preferred<S extends IdentityRecord>(a: S, b: S): S {
  if (isActiveRecord(a) !== isActiveRecord(b)) return isActiveRecord(a) ? a : b;
  if (a.lastEventAt !== b.lastEventAt) return later(a.lastEventAt, b.lastEventAt) ? a : b;
  return a.identity > b.identity ? a : b;
}

/** A source's stored records indexed by employeeId and by email (resolving a 10 000-person snapshot stays linear). */
export interface RecordIndex<S extends IdentityRecord> {
  byId: Map<string, S>;
  byEmail: Map<string, S[]>;
}

/** Indexes one source's stored records for matchRecords / resolvePersonEvent. */
export function indexRecords<S extends IdentityRecord>(stored: readonly S[]): RecordIndex<S> {
  const index: RecordIndex<S> = { byId: new Map(), byEmail: new Map() };
  for (const s of stored) {
    if (s.employeeId !== undefined) index.byId.set(s.employeeId, s);
    const list = index.byEmail.get(s.email);
    if (list) list.push(s);
    else index.byEmail.set(s.email, [s]);
  }
  return index;
}

/**
 * The stored records of one source that are the same person as `person`: the one with the same
 * `employeeId`; and, where either side has no `employeeId`, those with the same normalised email.
 * `primary` is the record the person lands on (for an email alone: the active one, else the newest);
 * `merged` are records the write folds into it (email-only records of a person who now has an id).
 * Records in `claimed` (already matched by another row of the same list) are left out.
 * @example matchRecords(indexRecords(storedOfSource), { email: 'jane@x.com' })
 */
export function matchRecords<S extends IdentityRecord>(
  index: RecordIndex<S>,
  person: Pick<Person, 'email' | 'employeeId'>,
  claimed?: ReadonlySet<S>,
): { primary?: S; merged: S[] } {
  const free = (s: S | undefined): s is S => s !== undefined && !claimed?.has(s);
  const sameEmail = (index.byEmail.get(person.email) ?? []).filter(free);
  if (person.employeeId !== undefined) {
    const byId = index.byId.get(person.employeeId);
    const primary = free(byId) ? byId : undefined;
    const merged = sameEmail.filter((s) => s.employeeId === undefined && s !== primary);
    return primary ? { primary, merged } : { merged };
  }
  let primary: S | undefined;
  for (const s of sameEmail) primary = primary === undefined ? s : preferred(primary, s);
  if (primary === undefined) return { merged: [] };
  const merged = primary.employeeId === undefined ? [] : sameEmail.filter((s) => s.employeeId === undefined && s !== primary);
  return { primary, merged };
}

/** What one HR event (or roster row) does to its source's stored people. */
export type Resolution<S> =
  | { kind: 'stale'; matched: S[] }
  | {
      kind: 'write';
      /** every stored record the event is (current and remove) */
      matched: S[];
      /** the person as stored after the write (employeeId kept from the match when the event has none) */
      person: Person;
      identity: string;
      lastEventAt: string;
      /** true when the newest record joined was one its source no longer lists (a join of old news) */
      leftSource: boolean;
      /** the stored record at `identity` (written conditionally on its lastEventAt), if any */
      current?: S;
      /** records folded into this one: deleted in the same write */
      remove: S[];
    };

export interface ResolveOptions<S extends IdentityRecord = IdentityRecord> {
  /** records other rows of the same list already took (replaceSource) */
  claimed?: ReadonlySet<S>;
  /** the newest snapshot of the source (canonical ISO): an event as old or older is stale for every person */
  snapshotAt?: string | undefined;
  /** refuse a write that leaves two active people with one email (person events); default true */
  refuseConflicts?: boolean;
  /** the issue path of the email in refusals; default `person.email` */
  emailPath?: string;
}

/**
 * Resolves one event of a source against that source's stored people (`at`: canonical ISO).
 *
 * - newer than every matched record and than the source's last snapshot: the event's fields are
 *   written (an event without employeeId keeps the matched one), merged records are removed;
 * - otherwise `stale`, unless the event joins records (it brings the employeeId of an email-only
 *   record): then they are merged under the id with the newest record's fields, as if the events had
 *   come in order; an event older than the source's last snapshot for someone with no record at all
 *   is kept as a record that snapshot marked left (what in-order delivery leaves);
 * - an active result that would leave a second active person with its email in the source throws
 *   `InputError` naming `person.email` (nothing is written).
 * @example const r = resolvePersonEvent(indexRecords(stored), person, '2025-03-01T10:00:00.000Z', { snapshotAt })
 */
export function resolvePersonEvent<S extends IdentityRecord>(index: RecordIndex<S>, person: Person, at: string, opts: ResolveOptions<S> = {}): Resolution<S> {
  const { primary, merged } = matchRecords(index, person, opts.claimed);
  const group = primary ? [primary, ...merged] : merged;
  const employeeId = person.employeeId ?? primary?.employeeId;
  const identity = personIdentity({ email: person.email, employeeId });
  const current = group.find((r) => r.identity === identity);
  const remove = group.filter((r) => r.identity !== identity);
  const newer = (opts.snapshotAt === undefined || at > opts.snapshotAt) && group.every((r) => r.lastEventAt < at);

  if (newer) {
    const result: Person = { email: person.email, status: person.status, attributes: { ...person.attributes } };
    if (employeeId !== undefined) result.employeeId = employeeId;
    if ((opts.refuseConflicts ?? true) && isActiveRecord(result)) refuseConflict(index, group, result, opts.emailPath ?? 'person.email');
    return { kind: 'write', matched: group, person: result, identity, lastEventAt: at, leftSource: false, ...(current ? { current } : {}), remove };
  }
  if (group.length === 0) {
    // older than the source's last snapshot, which did not list them: in order they would have been
    // stored, then marked left by it; keep that record so a later event finds who they are
    const result: Person = { email: person.email, status: person.status, attributes: { ...person.attributes } };
    if (employeeId !== undefined) result.employeeId = employeeId;
    return { kind: 'write', matched: group, person: result, identity, lastEventAt: opts.snapshotAt ?? at, leftSource: true, remove };
  }
  if (remove.length === 0) return { kind: 'stale', matched: group };
  // the event is old news, but it says which records are one person: join them as in-order delivery would have
  let newest = group[0]!;
  for (const r of group) if (later(r.lastEventAt, newest.lastEventAt)) newest = r;
  const result: Person = { email: newest.email, status: newest.status, attributes: { ...newest.attributes } };
  if (employeeId !== undefined) result.employeeId = employeeId;
  return { kind: 'write', matched: group, person: result, identity, lastEventAt: newest.lastEventAt, leftSource: newest.leftSource === true, ...(current ? { current } : {}), remove };
}

function refuseConflict<S extends IdentityRecord>(index: RecordIndex<S>, group: readonly S[], result: Person, path: string): void {
  const other = (index.byEmail.get(result.email) ?? []).find((s) => !group.includes(s) && isActiveRecord(s));
  if (!other) return;
  const who = other.employeeId !== undefined ? `employeeId ${other.employeeId}` : 'no employeeId';
  const message = `another active person of this source has this email (${who}); terminate or change them first`;
  throw new InputError(`${path}: ${message}`, [{ path, message }]);
}

/**
 * Two people of one list (a snapshot, a roster) that cannot both be: the same person twice (same
 * employeeId, or one email where either has no employeeId), or two active people with one email.
 * @returns per later index, the earlier index it clashes with and which field
 * @example listConflicts(rows) // [{ index: 3, first: 1, field: 'email', message: 'same person as …' }]
 */
export function listConflicts(people: readonly Person[]): { index: number; first: number; field: 'employeeId' | 'email'; reason: 'samePerson' | 'activeEmail' }[] {
  const out: { index: number; first: number; field: 'employeeId' | 'email'; reason: 'samePerson' | 'activeEmail' }[] = [];
  const byIdentity = new Map<string, number>();
  const byEmail = new Map<string, number[]>();
  people.forEach((p, index) => {
    const id = personIdentity(p);
    const first = byIdentity.get(id);
    if (first !== undefined) {
      out.push({ index, first, field: p.employeeId !== undefined ? 'employeeId' : 'email', reason: 'samePerson' });
      return;
    }
    const earlier = byEmail.get(p.email) ?? [];
    const same = earlier.find((i) => people[i]!.employeeId === undefined || p.employeeId === undefined);
    const active = p.status === 'active' ? earlier.find((i) => people[i]!.status === 'active') : undefined;
    if (same !== undefined) out.push({ index, first: same, field: 'email', reason: 'samePerson' });
    else if (active !== undefined) out.push({ index, first: active, field: 'email', reason: 'activeEmail' });
    else {
      byIdentity.set(id, index);
      byEmail.set(p.email, [...earlier, index]);
    }
  });
  return out;
}
