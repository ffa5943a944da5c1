// unit tests --> MemoryStateStore: the StateStore ports in memory, with the DynamoDB store's semantics
// (conditional writes, lease expiry and TTLs by an injected clock, the dirty counter), held to the same
// contract (test/helpers/store-contract.ts). Keys come from functions/state/keys.ts and the shared
// decisions from functions/state/store-rules.ts, so both implementations differ only in how they write.
import { personIdentity } from '../../functions/sync/people.ts';
import type { EventOutcome, Lease, ReplaceSourceResult, RunRecord, SnapshotPartResult, StateStore } from '../../functions/sync/ports.ts';
import type { BlockCode, LedgerEntry, Person, StoredPerson, TargetRef } from '../../functions/sync/types.ts';
import { PeopleSchema, RunRecordSchema } from '../../functions/state/items.schema.ts';
import { keys } from '../../functions/state/keys.ts';
import {
  APPROVAL_TTL_SECONDS,
  BLOCKED_TTL_SECONDS,
  SNAPSHOT_TTL_SECONDS,
  assertCompleteSnapshot,
  canonicalTime,
  checkPartsAgree,
  checkSnapshotPart,
  lastPerEmail,
  planReplaceSource,
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
type LeaseItem = { owner?: string; expiresAt?: number; seq: number };
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
  private readonly people = new Map<string, StoredPerson>();
  private readonly snapshots = new Map<string, Map<number, PartItem>>();
  private readonly ledgers = new Map<string, Map<string, LedgerEntry>>();
  private readonly leases = new Map<string, LeaseItem>();
  private readonly runs = new Map<string, string>();
  private readonly approvals = new Map<string, { runId: string; expiresAt: number }>();
  private readonly blocked = new Map<string, { source: string; snapshotId: string; code: BlockCode; blockedAt: string; expiresAt: number }>();

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

  /** Held-back snapshots recorded by `putBlockedSnapshot`. */
  blockedSnapshots(): { source: string; snapshotId: string; code: BlockCode; blockedAt: string; expiresAt: number }[] {
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

  // --- people ---

  async listPeople(): Promise<StoredPerson[]> {
    await this.enter('listPeople', 1, 0);
    return [...this.people.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => copy(p));
  }

  async applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome> {
    const at = canonicalTime('applyPersonEvent', occurredAt);
    await this.enter('applyPersonEvent', 0, 0);
    return this.putPersonIfNewer(source, person, at) ? 'applied' : 'stale';
  }

  async replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult> {
    const at = canonicalTime('replaceSource', occurredAt);
    await this.enter('replaceSource', 1, 0);
    const stored = [...this.people.values()].filter((p) => p.source === source);
    const { result, upserts, leaves } = planReplaceSource(stored, people, at);
    for (const person of upserts) result[this.putPersonIfNewer(source, person, at) ? 'upserted' : 'stale'] += 1;
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

  async putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[]): Promise<SnapshotPartResult> {
    checkSnapshotPart(part, parts);
    await this.enter('putSnapshotPart', 1, 1);
    const pk = keys.snapshotPk(source, snapshotId);
    const items = this.snapshots.get(pk) ?? new Map<number, PartItem>();
    checkPartsAgree(snapshotId, [...items.values()].map((item) => item.parts), parts);
    this.snapshots.set(pk, items);
    items.set(part, { part, parts, people: JSON.stringify(people), expiresAt: this.nowSeconds() + SNAPSHOT_TTL_SECONDS });
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

  async acquireLease(target: TargetRef, owner: string, leaseSeconds: number): Promise<Lease | null> {
    await this.enter('acquireLease', 0, 1);
    const now = this.now();
    const pk = keys.lease(target).pk;
    const item = this.leases.get(pk);
    if (item?.owner !== undefined && !((item.expiresAt ?? 0) < now) && item.owner !== owner) return null;
    const expiresAt = now + leaseSeconds * 1000;
    const seq = item?.seq ?? 0;
    this.leases.set(pk, { owner, expiresAt, seq });
    return { target: { instanceId: target.instanceId, orgId: target.orgId }, owner, expiresAt, seenSeq: seq };
  }

  async renewLease(lease: Lease, leaseSeconds: number): Promise<boolean> {
    await this.enter('renewLease', 0, 1);
    const item = this.leases.get(keys.lease(lease.target).pk);
    if (!item || item.owner !== lease.owner) return false;
    item.expiresAt = this.now() + leaseSeconds * 1000;
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
    return 'released';
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

  async putRun(run: RunRecord, _ttlSeconds: number): Promise<void> {
    await this.enter('putRun', 0, 1);
    this.runs.set(run.runId, JSON.stringify(run));
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    await this.enter('getRun', 1, 0);
    const body = this.runs.get(runId);
    return body === undefined ? null : RunRecordSchema.parse(JSON.parse(body));
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

  async putBlockedSnapshot(source: string, snapshotId: string, code: BlockCode): Promise<void> {
    await this.enter('putBlockedSnapshot', 0, 1);
    const expiresAt = this.nowSeconds() + BLOCKED_TTL_SECONDS;
    this.blocked.set(pkOf(keys.blocked(source, snapshotId)), { source, snapshotId, code, blockedAt: new Date(this.now()).toISOString(), expiresAt });
  }

  // --- helpers ---

  /** Conditional put (absent, or stored lastEventAt < at); counts one write either way. */
  private putPersonIfNewer(source: string, person: Person, at: string): boolean {
    this.counters.writes += 1;
    const identity = personIdentity(person);
    const key = pkOf(keys.person(source, identity));
    const stored = this.people.get(key);
    if (stored && !(stored.lastEventAt < at)) return false;
    const next: StoredPerson = { ...copy(person), identity, source, lastEventAt: at, leftSource: false };
    this.people.set(key, next);
    return true;
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
