// *-store.ts, test/helpers/memory-store.ts --> store rules: what every StateStore implementation decides alike
// (no I/O). The DynamoDB stores and the in-memory one differ only in how they write conditionally.
import { InputError, StateError } from '../sync/errors.ts';
import { indexRecords, resolvePersonEvent } from '../sync/identity.ts';
import { personIdentity } from '../sync/people.ts';
import type { ReplaceSourceResult } from '../sync/ports.ts';
import type { AttributeValue, LedgerEntry, Person, StoredPerson, TargetReport } from '../sync/types.ts';

const DAY_SECONDS = 86_400;
/** How long an approval of a blocked plan stays valid. */
export const APPROVAL_TTL_SECONDS = 7 * DAY_SECONDS;
/** How long the parts of an unfinished multi-part snapshot are kept. */
export const SNAPSHOT_TTL_SECONDS = 2 * DAY_SECONDS;
/** How long the end of a taken-over lease is kept (a run's end, for its intents: sync/ownership.ts). */
export const LEASE_END_TTL_SECONDS = 30 * DAY_SECONDS;
/** How long the record of a held-back snapshot is kept. */
export const BLOCKED_TTL_SECONDS = 30 * DAY_SECONDS;

/**
 * ISO text in one canonical form, so that string order is time order in conditions.
 * @example canonicalTime('applyPersonEvent', '2025-03-01T00:00:10Z') // '2025-03-01T00:00:10.000Z'
 */
export function canonicalTime(op: string, iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new StateError(`${op}: occurredAt is not an ISO time`);
  return new Date(ms).toISOString();
}

/** Throws `InputError` (field `part`) unless `part` and `parts` are integers with 1 ≤ part ≤ parts. */
export function checkSnapshotPart(part: number, parts: number): void {
  if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(part) || part < 1 || part > parts) {
    throw new InputError('snapshot part number out of range', [
      { path: 'part', message: `part must be an integer in 1..parts (got part ${part} of ${parts})` },
    ]);
  }
}

/**
 * Throws `InputError` (field `parts`) when parts already stored for a snapshot say another part count:
 * such a part is refused and the stored ones stay as they are.
 * @example checkPartsAgree('snap-1', [3, 3], 2) // throws: parts: must be 3, like the parts already received
 */
export function checkPartsAgree(snapshotId: string, stored: readonly number[], parts: number): void {
  const other = stored.find((n) => n !== parts);
  if (other === undefined) return;
  throw new InputError(`parts: must be ${other}, like the parts of snapshot ${snapshotId} already received`, [
    { path: 'parts', message: `must be ${other}, like the parts of snapshot ${snapshotId} already received (got ${parts})` },
  ]);
}

/**
 * Throws `StateError` unless `items` (sorted by part) are parts 1..n of one n-part snapshot.
 * @example assertCompleteSnapshot('hr', 'snap-1', [{ part: 1, parts: 2 }]) // throws: incomplete (1 of 2 parts)
 */
export function assertCompleteSnapshot(source: string, snapshotId: string, items: readonly { part: number; parts: number }[]): void {
  const parts = items[0]?.parts ?? 0;
  const inOrder = parts > 0 && items.length === parts && items.every((item, i) => item.part === i + 1 && item.parts === parts);
  if (!inOrder) {
    throw new StateError(`readSnapshot: snapshot ${source}/${snapshotId} is incomplete (${items.length} of ${parts || '?'} parts)`);
  }
}

/**
 * A person's lastEventAt as the domain sees it: a snapshot stamps its occurredAt on every person of its
 * source (listed ones, unchanged or not, and the ones it marks left), so the later of the two counts.
 * @example effectiveLastEventAt('2025-03-01T00:00:00.000Z', '2025-03-02T00:00:00.000Z') // the snapshot's
 */
export function effectiveLastEventAt(lastEventAt: string, snapshotAt: string | undefined): string {
  return snapshotAt !== undefined && snapshotAt > lastEventAt ? snapshotAt : lastEventAt;
}

type StoredFields = Pick<StoredPerson, 'email' | 'employeeId' | 'status' | 'attributes' | 'identity' | 'lastEventAt' | 'leftSource'>;

function sameValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (typeof a === 'string' || typeof b === 'string' || a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameAttributes(a: Record<string, AttributeValue>, b: Record<string, AttributeValue>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
}

/** True when the stored person already says what `person` says (nothing to write). */
export function samePerson(stored: StoredFields, person: Person): boolean {
  return (
    !stored.leftSource &&
    stored.email === person.email &&
    stored.employeeId === person.employeeId &&
    stored.status === person.status &&
    sameAttributes(stored.attributes, person.attributes)
  );
}

/** One listed person to write: the person as stored after it, at `lastEventAt`, replacing `current` and removing `remove`. */
export interface ReplaceWrite<S> {
  person: Person;
  lastEventAt: string;
  leftSource: boolean;
  current?: S;
  /** records of the same person the write folds in (an email-only record of someone listed with an id) */
  remove: S[];
}

/** What `replaceSource` must write: the counts it already knows, and the writes left to try conditionally. */
export interface ReplacePlan<S> {
  /** `unchanged` and `stale` so far; `upserted` and `left` are 0 until the writes report */
  result: ReplaceSourceResult;
  /** listed people that are new or changed */
  upserts: ReplaceWrite<S>[];
  /** stored people the list lacks, not yet marked left */
  leaves: S[];
}

/**
 * Compares a source's stored people with the listed ones at `at` (canonical ISO), matching them as
 * sync/identity.ts says (employeeId, else email): unchanged people need no write, people with a stored
 * event as new or newer are stale, the rest are upserted (merging email-only records into a listed id)
 * or marked left. The list is expected free of conflicts (events.ts and roster.ts refuse them).
 * @example const { result, upserts, leaves } = planReplaceSource(stored, people, at)
 */
export function planReplaceSource<S extends StoredFields>(stored: readonly S[], people: readonly Person[], at: string): ReplacePlan<S> {
  const index = indexRecords(stored);
  const claimed = new Set<S>();
  const plan: ReplacePlan<S> = { result: { upserted: 0, left: 0, unchanged: 0, stale: 0 }, upserts: [], leaves: [] };
  // people with an id first: they claim their email-only records before an email-only row could
  const ordered = [...people.filter((p) => p.employeeId !== undefined), ...people.filter((p) => p.employeeId === undefined)];
  for (const person of ordered) {
    const r = resolvePersonEvent(index, person, at, { refuseConflicts: false, claimed });
    for (const m of r.matched) claimed.add(m);
    if (r.kind === 'stale') plan.result.stale += 1;
    else if (r.current && r.remove.length === 0 && samePerson(r.current, r.person)) plan.result.unchanged += 1;
    else plan.upserts.push({ person: r.person, lastEventAt: r.lastEventAt, leftSource: r.leftSource, ...(r.current ? { current: r.current } : {}), remove: r.remove });
  }
  for (const current of stored) {
    if (claimed.has(current) || current.leftSource) continue;
    if (current.lastEventAt >= at) plan.result.stale += 1;
    else plan.leaves.push(current);
  }
  return plan;
}

/**
 * What replaceSource would change (sync/ingest.ts `sourceChangeFraction`): upserts with a change plus
 * leaves, against the source's active (not left) people. A snapshot older than `snapshotAt` changes nothing.
 */
export function previewOf<S extends StoredFields>(stored: readonly S[], people: readonly Person[], at: string, snapshotAt: string | undefined): { changes: number; active: number } {
  const active = stored.filter((p) => !p.leftSource).length;
  if (snapshotAt !== undefined && snapshotAt > at) return { changes: 0, active };
  const { upserts, leaves } = planReplaceSource(stored, people, at);
  return { changes: upserts.length + leaves.length, active };
}

/**
 * A snapshot older than the source's last one changes nobody's fields, but its rows with an
 * employeeId still say which email-only records are that person: the merges in-order delivery
 * would have made (sync/identity.ts), with the newer records' fields.
 * @example for (const w of planStaleJoins(stored, people, at, snapshotAt)) … write w …
 */
export function planStaleJoins<S extends StoredFields>(stored: readonly S[], people: readonly Person[], at: string, snapshotAt: string): ReplaceWrite<S>[] {
  const index = indexRecords(stored);
  const claimed = new Set<S>();
  const writes: ReplaceWrite<S>[] = [];
  for (const person of people) {
    if (person.employeeId === undefined) continue;
    const r = resolvePersonEvent(index, person, at, { refuseConflicts: false, claimed, snapshotAt });
    for (const m of r.matched) claimed.add(m);
    if (r.kind === 'write') writes.push({ person: r.person, lastEventAt: r.lastEventAt, leftSource: r.leftSource, ...(r.current ? { current: r.current } : {}), remove: r.remove });
  }
  return writes;
}

/**
 * The people `listPeople` would return after `replaceSource(source, people, at)`, computed without
 * writing (`plan --roster` previews a roster this way, so its plan is the one `apply --roster` makes):
 * the same planReplaceSource writes, the snapshot's time stamped on the source's people as the
 * stores do (effectiveLastEventAt), people it lacks marked left. Other sources are left as they are.
 * @example const people = previewReplaceSource(await store.listPeople(), 'default', roster, iso(now))
 */
export function previewReplaceSource(all: readonly StoredPerson[], source: string, people: readonly Person[], at: string): StoredPerson[] {
  const own = all.filter((p) => p.source === source);
  const { upserts, leaves } = planReplaceSource(own, people, at);
  const replaced = new Map<StoredPerson, StoredPerson | null>();
  const added: StoredPerson[] = [];
  for (const w of upserts) {
    for (const r of w.remove) replaced.set(r, null);
    const next: StoredPerson = { ...w.person, identity: personIdentity(w.person), source, lastEventAt: w.lastEventAt, leftSource: w.leftSource };
    if (w.current !== undefined) replaced.set(w.current, next);
    else added.push(next);
  }
  for (const l of leaves) replaced.set(l, { ...l, leftSource: true, lastEventAt: at });
  const out: StoredPerson[] = [];
  for (const p of all) {
    const next = replaced.has(p) ? replaced.get(p)! : p.source === source ? { ...p, lastEventAt: effectiveLastEventAt(p.lastEventAt, at) } : p;
    if (next !== null) out.push(next);
  }
  return [...out, ...added];
}

/** One entry per email, the last given winning (a batch write refuses duplicate keys). */
export function lastPerEmail(entries: readonly LedgerEntry[]): LedgerEntry[] {
  const byEmail = new Map<string, LedgerEntry>();
  for (const entry of entries) byEmail.set(entry.email, entry);
  return [...byEmail.values()];
}

/** How many changes one run-actions item holds (a few hundred bytes each: well under DynamoDB's 400 KB). */
export const RUN_ACTIONS_PER_ITEM = 250;
/** How far back the list of recent runs looks (runs live 30 days). */
export const RUN_LIST_DAYS = 31;

/**
 * The month partitions (`yyyy-mm`, UTC) of the run list that may hold a run younger than RUN_LIST_DAYS, newest first.
 * @example runListMonths(Date.parse('2025-03-10T00:00:00Z')) // ['2025-03', '2025-02']
 */
export function runListMonths(now: number): string[] {
  const months: string[] = [];
  const oldest = new Date(now - RUN_LIST_DAYS * DAY_SECONDS * 1000);
  const d = new Date(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1));
  for (;;) {
    months.push(d.toISOString().slice(0, 7));
    if (d.getTime() <= oldest.getTime()) break;
    d.setUTCMonth(d.getUTCMonth() - 1);
  }
  return months;
}

/** True when a listed run belongs in `listRuns({ target })`: no target asked, or one of its targets has that name. */
export function runHasTarget(run: { targets: readonly { name: string }[] }, target: string | undefined): boolean {
  return target === undefined || run.targets.some((t) => t.name === target);
}

/** A stored run keeps at most this many `failures` and `warnings` per target (the rest is counted). */
export const RUN_LIST_CAP = 100;

/**
 * The run as stored: each target's `failures` and `warnings` cut to RUN_LIST_CAP entries, with the
 * number cut in `failuresOmitted` / `warningsOmitted` (a run item must stay far below DynamoDB's 400 KB).
 * @example boundedRunRecord(run).targets[0].failures.length <= RUN_LIST_CAP
 */
export function boundedRunRecord<R extends { targets: readonly TargetReport[] }>(run: R): R {
  const cap = <T>(list: readonly T[] | undefined): { kept?: T[]; omitted?: number } =>
    list === undefined ? {} : list.length <= RUN_LIST_CAP ? { kept: [...list] } : { kept: list.slice(0, RUN_LIST_CAP), omitted: list.length - RUN_LIST_CAP };
  return {
    ...run,
    targets: run.targets.map((t) => {
      const f = cap(t.failures);
      const w = cap(t.warnings);
      return {
        ...t,
        ...(f.kept ? { failures: f.kept } : {}),
        ...(f.omitted ? { failuresOmitted: (t.failuresOmitted ?? 0) + f.omitted } : {}),
        ...(w.kept ? { warnings: w.kept } : {}),
        ...(w.omitted ? { warningsOmitted: (t.warningsOmitted ?? 0) + w.omitted } : {}),
      };
    }),
  };
}
