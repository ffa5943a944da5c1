// unit tests --> MemoryStateStore: the StateStore ports in memory, with the DynamoDB store's semantics
// (conditional writes, lease expiry and TTLs by an injected clock, the dirty counter), held to the same
// contract (test/helpers/store-contract.ts). Keys come from functions/state/keys.ts and the shared
// decisions from functions/state/store-rules.ts, so both implementations differ only in how they write.
import { personIdentity } from '../../functions/sync/people.ts';
import { indexRecords, resolvePersonEvent } from '../../functions/sync/identity.ts';
import type { AcquireLeaseOptions, DeliveryRef, EventOutcome, FailedDelivery, HeldSnapshot, Lease, LeaseEnds, LeaseHolder, LeaseState, ReplacePreview, ReplaceSourceResult, RunAction, RunRecord, SnapshotPartResult, SourceDelivery, StateStore } from '../../functions/sync/ports.ts';
import type { BlockCode, LedgerEntry, Person, StoredPerson, TargetRef } from '../../functions/sync/types.ts';
import { PeopleSchema, RunActionsSchema, RunRecordSchema } from '../../functions/state/items.schema.ts';
import { keys } from '../../functions/state/keys.ts';
import { decodeFailedRows, encodeFailedRows } from '../../functions/state/delivery-store.ts';
import {
  APPROVAL_TTL_SECONDS,
  LEASE_END_TTL_SECONDS,
  BLOCKED_TTL_SECONDS,
  SNAPSHOT_TTL_SECONDS,
  assertCompleteSnapshot,
  canonicalTime,
  checkPartsAgree,
  effectiveLastEventAt,
  boundedRunRecord,
  checkSnapshotPart,
  lastPerEmail,
  planReplaceSource,
  planStaleJoins,
  previewOf,
  runHasTarget,
  RUN_LIST_DAYS,
} from '../../functions/state/store-rules.ts';

export interface MemoryStateStoreOptions {
  /** epoch ms; default `Date.now` */
  now?: () => number;
}

/** Calls as the DynamoDB store counts them (one per item read or write, one per batch of 25); no capacity units. */
export interface MemoryStoreStats {
  reads: number;
  writes: number;
}

type StoreMethod = keyof StateStore;
type LeaseItem = { owner?: string; expiresAt?: number; renewedAt?: number; holder?: LeaseHolder; seq: number };
type PartItem = { part: number; parts: number; people: string; expiresAt: number };

/** A JSON copy: no shared references, no `undefined` attributes (the DynamoDB store drops them too). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const pkOf = (key: { pk: string; sk: string }): string => `${key.pk}\u0000${key.sk}`;

/**
 * The whole `StateStore` in memory. Every write is atomic (one call runs to its end before another starts).
 * @example
 * const clock = { ms: Date.now() };
 * const store = new MemoryStateStore({ now: () => clock.ms });
 * store.beforeNext('releaseLease', () => store.markDirty([target])); // a change lands during the run
 */
export class MemoryStateStore implements StateStore {
  private readonly now: () => number;
  private counters: MemoryStoreStats = { reads: 0, writes: 0 };
  private readonly hooks = new Map<StoreMethod, (() => unknown)[]>();
  private readonly deliveries = new Map<string, number>();
  private readonly failedDeliveries = new Map<string, { failure: FailedDelivery; rows: string | Uint8Array; expiresAt: number }>();
  private readonly people = new Map<string, StoredPerson>();
  /** per source, the occurredAt of its newest snapshot (the SOURCES item) */
  private readonly snapshotAt = new Map<string, string>();
  private readonly snapshots = new Map<string, Map<number, PartItem>>();
  private readonly ledgers = new Map<string, Map<string, LedgerEntry>>();
  private readonly leases = new Map<string, LeaseItem>();
  private readonly leaseEndItems = new Map<string, Map<string, { owner: string; endedAt: number; expiresAt: number }>>();
  private readonly runs = new Map<string, { body: string; startedAt: string; expiresAt: number }>();
  private readonly runActions = new Map<string, { actions: string; expiresAt: number }>();
  private readonly approvals = new Map<string, { runId: string; expiresAt: number }>();
  private readonly blocked = new Map<string, HeldSnapshot & { blockedAt: string; expiresAt: number }>();

  constructor(options: MemoryStateStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  stats(): MemoryStoreStats {
    return { ...this.counters };
  }

  resetStats(): void {
    this.counters = { reads: 0, writes: 0 };
  }

  /** Runs `hook` (awaited) just before the next call of `method` does anything: a test's way to land a change mid-run. */
  beforeNext(method: StoreMethod, hook: () => unknown): void {
    this.hooks.set(method, [...(this.hooks.get(method) ?? []), hook]);
  }

  /** Each source's last delivery time (`noteSourceDelivery`). */
  private readonly sourceDeliveries = new Map<string, string>();
  /** Held-back snapshots recorded by `putBlockedSnapshot`. */
  blockedSnapshots(): (HeldSnapshot & { blockedAt: string; expiresAt: number })[] {
    return [...this.blocked.values()].map(copy);
  }

  // --- deliveries ---

  async hasDelivery(delivery: DeliveryRef): Promise<boolean> {
    await this.enter('hasDelivery', 1, 0);
    const expiresAt = this.deliveries.get(pkOf(keys.delivery(delivery.source, delivery.id)));
    return expiresAt !== undefined && expiresAt > this.nowSeconds();
  }

  async recordDelivery(delivery: DeliveryRef, ttlSeconds: number): Promise<boolean> {
    await this.enter('recordDelivery', 0, 1);
    const now = this.nowSeconds();
    const key = pkOf(keys.delivery(delivery.source, delivery.id));
    const stored = this.deliveries.get(key);
    if (stored !== undefined && stored > now) return false;
    this.deliveries.set(key, now + ttlSeconds);
    return true;
  }

  async recordFailedDelivery(failure: FailedDelivery, ttlSeconds: number): Promise<void> {
    await this.enter('recordFailedDelivery', 0, 1);
    const key = pkOf(keys.failedDelivery(failure.source, failure.id));
    this.failedDeliveries.set(key, { failure: { ...copy(failure), rows: [] }, rows: encodeFailedRows(failure.rows), expiresAt: this.nowSeconds() + ttlSeconds });
  }

  async getFailedDelivery(delivery: DeliveryRef): Promise<FailedDelivery | null> {
    await this.enter('getFailedDelivery', 1, 0);
    const stored = this.failedDeliveries.get(pkOf(keys.failedDelivery(delivery.source, delivery.id)));
    if (!stored || stored.expiresAt <= this.nowSeconds()) return null;
    return { ...copy(stored.failure), rows: decodeFailedRows(stored.rows) };
  }

  async noteSourceDelivery(source: string, at: string): Promise<void> {
    await this.enter('noteSourceDelivery', 0, 1);
    const stored = this.sourceDeliveries.get(source);
    if (stored === undefined || stored < at) this.sourceDeliveries.set(source, at);
  }

  async listSourceDeliveries(): Promise<SourceDelivery[]> {
    await this.enter('listSourceDeliveries', 1, 0);
    return [...this.sourceDeliveries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([source, lastDeliveryAt]) => ({ source, lastDeliveryAt }));
  }

  // --- people ---

  async listPeople(): Promise<StoredPerson[]> {
    await this.enter('listPeople', 2, 0);
    // a snapshot stamps its occurredAt on every person of its source (effectiveLastEventAt)
    return [...this.people.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, p]) => ({ ...copy(p), lastEventAt: effectiveLastEventAt(p.lastEventAt, this.snapshotAt.get(p.source)) }));
  }

  async applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome> {
    const at = canonicalTime('applyPersonEvent', occurredAt);
    await this.enter('applyPersonEvent', 1, 0);
    const r = resolvePersonEvent(indexRecords(this.sourcePeople(source)), person, at, { snapshotAt: this.snapshotAt.get(source) });
    if (r.kind === 'stale') return 'stale';
    this.counters.writes += 1;
    this.writePerson(source, r.person, r.lastEventAt, r.remove, r.leftSource);
    return r.leftSource ? 'stale' : 'applied';
  }

  async replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult> {
    const at = canonicalTime('replaceSource', occurredAt);
    await this.enter('replaceSource', 1, 1);
    const seen = this.snapshotAt.get(source);
    if (seen !== undefined && seen > at) {
      const joins = planStaleJoins(this.sourcePeople(source), people, at, seen);
      for (const w of joins) this.writePerson(source, w.person, w.lastEventAt, w.remove, w.leftSource);
      this.counters.writes += joins.length;
      return { upserted: joins.length, left: 0, unchanged: 0, stale: people.length - joins.length };
    }
    this.snapshotAt.set(source, at);
    const { result, upserts, leaves } = planReplaceSource(this.sourcePeople(source), people, at);
    for (const write of upserts) {
      this.counters.writes += 1;
      const item = this.people.get(pkOf(keys.person(source, write.current?.identity ?? personIdentity(write.person))));
      if (item && item.lastEventAt >= write.lastEventAt && write.remove.length === 0) {
        result.stale += 1;
        continue;
      }
      this.writePerson(source, write.person, write.lastEventAt, write.remove, write.leftSource);
      result.upserted += 1;
    }
    for (const current of leaves) {
      this.counters.writes += 1;
      const item = this.people.get(pkOf(keys.person(source, current.identity)));
      if (!item || item.lastEventAt >= at) {
        result.stale += 1;
        continue;
      }
      item.leftSource = true;
      item.lastEventAt = at;
      result.left += 1;
    }
    return result;
  }

  async previewReplaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplacePreview> {
    const at = canonicalTime('previewReplaceSource', occurredAt);
    await this.enter('previewReplaceSource', 2, 0);
    return previewOf(this.sourcePeople(source), people, at, this.snapshotAt.get(source));
  }

  async putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[], ttlSeconds = SNAPSHOT_TTL_SECONDS): Promise<SnapshotPartResult> {
    checkSnapshotPart(part, parts);
    await this.enter('putSnapshotPart', 1, 1);
    const pk = keys.snapshotPk(source, snapshotId);
    const items = this.snapshots.get(pk) ?? new Map<number, PartItem>();
    checkPartsAgree(snapshotId, [...items.values()].map((item) => item.parts), parts);
    this.snapshots.set(pk, items);
    items.set(part, { part, parts, people: JSON.stringify(people), expiresAt: this.nowSeconds() + ttlSeconds });
    const received = [...items.values()].filter((item) => item.parts === parts).length;
    return { received, parts, complete: received >= parts };
  }

  async readSnapshot(source: string, snapshotId: string): Promise<Person[]> {
    await this.enter('readSnapshot', 1, 0);
    const items = [...(this.snapshots.get(keys.snapshotPk(source, snapshotId))?.values() ?? [])].sort((a, b) => a.part - b.part);
    assertCompleteSnapshot(source, snapshotId, items);
    return items.flatMap((item) => PeopleSchema.parse(JSON.parse(item.people)));
  }

  async deleteSnapshot(source: string, snapshotId: string): Promise<void> {
    const pk = keys.snapshotPk(source, snapshotId);
    await this.enter('deleteSnapshot', 1, Math.ceil((this.snapshots.get(pk)?.size ?? 0) / 25));
    this.snapshots.delete(pk);
  }

  // --- ledger ---

  async getLedger(target: TargetRef): Promise<LedgerEntry[]> {
    await this.enter('getLedger', 1, 0);
    const ledger = this.ledgers.get(keys.ledgerPk(target));
    return [...(ledger?.values() ?? [])].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)).map(copy);
  }

  async putLedgerEntries(target: TargetRef, entries: LedgerEntry[]): Promise<void> {
    const unique = lastPerEmail(entries);
    await this.enter('putLedgerEntries', 0, Math.ceil(unique.length / 25));
    const pk = keys.ledgerPk(target);
    const ledger = this.ledgers.get(pk) ?? new Map<string, LedgerEntry>();
    this.ledgers.set(pk, ledger);
    for (const entry of unique) ledger.set(entry.email, copy(entry));
  }

  // --- leases ---

  async acquireLease(target: TargetRef, owner: string, leaseSeconds: number, opts: AcquireLeaseOptions = {}): Promise<Lease | null> {
    await this.enter('acquireLease', 0, 1);
    const now = this.now();
    const pk = keys.lease(target).pk;
    const item = this.leases.get(pk);
    const replaceable = opts.replacing !== undefined && item?.owner === opts.replacing;
    if (item?.owner !== undefined && !((item.expiresAt ?? 0) < now) && item.owner !== owner && !replaceable) return null;
    const expiresAt = now + leaseSeconds * 1000;
    const seq = item?.seq ?? 0;
    if (item?.owner !== undefined && item.owner !== owner) this.recordLeaseEnd(pk, item.owner, item.expiresAt ?? now);
    this.leases.set(pk, { owner, expiresAt, renewedAt: now, seq, ...(opts.holder ? { holder: copy(opts.holder) } : {}) });
    return { target: { instanceId: target.instanceId, orgId: target.orgId }, owner, expiresAt, seenSeq: seq };
  }

  async leaseEnds(target: TargetRef): Promise<LeaseEnds> {
    await this.enter('leaseEnds', 1, 0);
    const pk = keys.lease(target).pk;
    const item = this.leases.get(pk);
    const ended = [...(this.leaseEndItems.get(pk)?.values() ?? [])]
      .filter((e) => e.expiresAt > this.nowSeconds())
      .map(({ owner, endedAt }) => ({ owner, endedAt }));
    return { ...(item?.owner !== undefined ? { holder: { owner: item.owner, expiresAt: item.expiresAt ?? 0 } } : {}), ended };
  }

  async renewLease(lease: Lease, leaseSeconds: number): Promise<boolean> {
    await this.enter('renewLease', 0, 1);
    const item = this.leases.get(keys.lease(lease.target).pk);
    if (!item || item.owner !== lease.owner) return false;
    item.expiresAt = this.now() + leaseSeconds * 1000;
    item.renewedAt = this.now();
    lease.expiresAt = item.expiresAt;
    return true;
  }

  async releaseLease(lease: Lease): Promise<'released' | 'dirty' | 'lost'> {
    await this.enter('releaseLease', 0, 1);
    const item = this.leases.get(keys.lease(lease.target).pk);
    if (item?.owner !== lease.owner) return 'lost';
    if (item.seq !== lease.seenSeq) {
      lease.seenSeq = item.seq;
      return 'dirty';
    }
    delete item.owner;
    delete item.expiresAt;
    delete item.renewedAt;
    delete item.holder;
    return 'released';
  }

  async readLease(target: TargetRef): Promise<LeaseState | null> {
    await this.enter('readLease', 1, 0);
    const item = this.leases.get(keys.lease(target).pk);
    if (item?.owner === undefined) return null;
    return copy({ owner: item.owner, expiresAt: item.expiresAt ?? 0, seq: item.seq, renewedAt: item.renewedAt, holder: item.holder });
  }

  async forceReleaseLease(target: TargetRef, owner: string): Promise<boolean> {
    await this.enter('forceReleaseLease', 0, 1);
    const item = this.leases.get(keys.lease(target).pk);
    if (item?.owner !== owner) return false;
    this.recordLeaseEnd(keys.lease(target).pk, owner, this.now());
    delete item.owner;
    delete item.expiresAt;
    delete item.renewedAt;
    delete item.holder;
    item.seq += 1;
    return true;
  }

  async markDirty(targets: TargetRef[]): Promise<void> {
    const unique = new Set(targets.map((t) => keys.lease(t).pk));
    await this.enter('markDirty', 0, unique.size);
    for (const pk of unique) {
      const item = this.leases.get(pk) ?? { seq: 0 };
      item.seq += 1;
      this.leases.set(pk, item);
    }
  }

  // --- runs, approvals, blocked snapshots ---

  async putRun(run: RunRecord, ttlSeconds: number): Promise<void> {
    await this.enter('putRun', 0, 1);
    this.runs.set(run.runId, { body: JSON.stringify(boundedRunRecord(run)), startedAt: run.startedAt, expiresAt: this.nowSeconds() + ttlSeconds });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    await this.enter('getRun', 1, 0);
    const stored = this.runs.get(runId);
    return stored === undefined ? null : RunRecordSchema.parse(JSON.parse(stored.body));
  }

  async listRuns(opts: { limit: number; target?: string }): Promise<RunRecord[]> {
    await this.enter('listRuns', 1, 0);
    const since = new Date(this.now() - RUN_LIST_DAYS * 86_400_000).toISOString().slice(0, 7);
    return [...this.runs.entries()]
      .filter(([, r]) => r.expiresAt > this.nowSeconds() && r.startedAt.slice(0, 7) >= since)
      .sort(([ia, a], [ib, b]) => (`${a.startedAt}#${ia}` < `${b.startedAt}#${ib}` ? 1 : -1))
      .map(([, r]) => RunRecordSchema.parse(JSON.parse(r.body)))
      .filter((run) => runHasTarget(run, opts.target))
      .slice(0, opts.limit);
  }

  async putRunActions(runId: string, actions: RunAction[], ttlSeconds: number): Promise<void> {
    await this.enter('putRunActions', 0, Math.ceil(actions.length / 250));
    this.runActions.set(runId, { actions: JSON.stringify(actions), expiresAt: this.nowSeconds() + ttlSeconds });
  }

  async getRunActions(runId: string): Promise<RunAction[]> {
    await this.enter('getRunActions', 1, 0);
    const stored = this.runActions.get(runId);
    return stored === undefined ? [] : RunActionsSchema.parse(JSON.parse(stored.actions));
  }

  async putApproval(target: TargetRef, planHash: string, runId: string): Promise<void> {
    await this.enter('putApproval', 0, 1);
    this.approvals.set(pkOf(keys.approval(target, planHash)), { runId, expiresAt: this.nowSeconds() + APPROVAL_TTL_SECONDS });
  }

  async takeApproval(target: TargetRef, planHash: string): Promise<boolean> {
    await this.enter('takeApproval', 0, 1);
    const key = pkOf(keys.approval(target, planHash));
    const approval = this.approvals.get(key);
    if (!approval || !(approval.expiresAt > this.nowSeconds())) return false;
    this.approvals.delete(key);
    return true;
  }

  async putBlockedSnapshot(source: string, snapshotId: string, code: BlockCode, held: Pick<HeldSnapshot, 'runId' | 'occurredAt' | 'eventId' | 'people'> = {}): Promise<void> {
    await this.enter('putBlockedSnapshot', 0, 1);
    const expiresAt = this.nowSeconds() + BLOCKED_TTL_SECONDS;
    this.blocked.set(pkOf(keys.blocked(source, snapshotId)), { source, snapshotId, code, blockedAt: new Date(this.now()).toISOString(), expiresAt, ...copy(held) });
  }

  async takeBlockedSnapshot(source: string, snapshotId: string): Promise<HeldSnapshot | null> {
    await this.enter('takeBlockedSnapshot', 0, 1);
    const key = pkOf(keys.blocked(source, snapshotId));
    const item = this.blocked.get(key);
    if (!item || !(item.expiresAt > this.nowSeconds())) return null;
    this.blocked.delete(key);
    const { blockedAt: _at, expiresAt: _exp, ...held } = item;
    return copy(held);
  }

  // --- helpers ---

  /** The lease end item (`END#<owner>`) a takeover or an unlock writes: one more write. */
  private recordLeaseEnd(pk: string, owner: string, endedAt: number): void {
    this.counters.writes += 1;
    const ends = this.leaseEndItems.get(pk) ?? new Map<string, { owner: string; endedAt: number; expiresAt: number }>();
    this.leaseEndItems.set(pk, ends);
    ends.set(owner, { owner, endedAt, expiresAt: this.nowSeconds() + LEASE_END_TTL_SECONDS });
  }

  private sourcePeople(source: string): StoredPerson[] {
    return [...this.people.values()].filter((p) => p.source === source);
  }

  /** Writes the person at their identity and removes the records merged into them (one atomic write). */
  private writePerson(source: string, person: Person, lastEventAt: string, remove: readonly StoredPerson[], leftSource = false): void {
    const identity = personIdentity(person);
    for (const r of remove) this.people.delete(pkOf(keys.person(source, r.identity)));
    this.people.set(pkOf(keys.person(source, identity)), { ...copy(person), identity, source, lastEventAt, leftSource });
  }

  /** Runs the hooks waiting for `method`, then counts the calls it makes as the DynamoDB store would. */
  private async enter(method: StoreMethod, reads: number, writes: number): Promise<void> {
    const waiting = this.hooks.get(method);
    if (waiting?.length) {
      this.hooks.delete(method);
      for (const hook of waiting) await hook();
    }
    this.counters.reads += reads;
    this.counters.writes += writes;
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}
