// use case --> StateStore port --> DynamoStateStore --> one store per kind of data --> StateTable --> DynamoDB
//
// | port          | module            | data                                                    |
// | ------------- | ----------------- | ------------------------------------------------------- |
// | PeopleStore   | people-store.ts   | people of every source, multi-part snapshot parts       |
// | DeliveryStore | delivery-store.ts | accepted webhook / event ids (dedupe), refused drops    |
// | LedgerStore   | ledger-store.ts   | what invite-sync did per target and email               |
// | LeaseStore    | lease-store.ts    | the lease per target and its change counter (dirty)     |
// | RunStore      | run-store.ts      | run records, approvals, held-back snapshots             |
// | ScimStore     | scim-store.ts     | SCIM users, groups, unique values (`scimStoreOf(store)`) |
//
// Shared: table.ts (counted calls, guard, parse), keys.ts (the item model), store-rules.ts (what every
// implementation, this one and test/helpers/memory-store.ts, decides alike).
import type { AcquireLeaseOptions, DeliveryRef, EventOutcome, FailedDelivery, HeldSnapshot, Lease, LeaseEnds, LeaseState, ReplacePreview, ReplaceSourceResult, RunAction, RunRecord, SnapshotPartResult, SourceDelivery, StateStore } from '../sync/ports.ts';
import type { BlockCode, LedgerEntry, Person, StoredPerson, TargetRef } from '../sync/types.ts';
import { DynamoDeliveryStore } from './delivery-store.ts';
import { DynamoLeaseStore } from './lease-store.ts';
import { DynamoLedgerStore } from './ledger-store.ts';
import { DynamoPeopleStore } from './people-store.ts';
import { DynamoRunStore } from './run-store.ts';
import { StateTable } from './table.ts';
import type { StateTableOptions, StateStoreStats } from './table.ts';

export type { StateStoreStats } from './table.ts';

/** tableName, client (default `new DynamoDBClient({})`), now (default `Date.now`), writeConcurrency (default 8), statsClock, keyWriteUnitsPerSecond (default 800). */
export type DynamoStateStoreOptions = StateTableOptions;

/**
 * The DynamoDB implementation of the whole `StateStore` port: the five per-kind stores over one table.
 * Each is also reachable on its own (`store.leases`, …) for code that needs one kind of data.
 * @example
 * const store = new DynamoStateStore({ tableName: env.TABLE_NAME });
 * if (await store.recordDelivery({ source, id }, 86_400)) await store.applyPersonEvent('hr', person, occurredAt);
 */
export class DynamoStateStore implements StateStore {
  readonly people: DynamoPeopleStore;
  readonly deliveries: DynamoDeliveryStore;
  readonly ledger: DynamoLedgerStore;
  readonly leases: DynamoLeaseStore;
  readonly runs: DynamoRunStore;
  /**
   * The counted table the per-kind stores share. SCIM users and groups are not part of the StateStore
   * port (only the SCIM service uses them): `scimStoreOf(store)` (scim-store.ts) builds that store over
   * this table, so code that never serves SCIM does not bundle it.
   */
  readonly table: StateTable;

  constructor(options: DynamoStateStoreOptions) {
    this.table = new StateTable(options);
    this.people = new DynamoPeopleStore(this.table);
    this.deliveries = new DynamoDeliveryStore(this.table);
    this.ledger = new DynamoLedgerStore(this.table);
    this.leases = new DynamoLeaseStore(this.table);
    this.runs = new DynamoRunStore(this.table);
  }

  /** Calls made and capacity consumed (ReturnConsumedCapacity TOTAL) since construction or `resetStats()`. */
  stats(): StateStoreStats {
    return this.table.stats();
  }

  /** Sets every counter of `stats()` back to 0. */
  resetStats(): void {
    this.table.resetStats();
  }

  hasDelivery(delivery: DeliveryRef): Promise<boolean> {
    return this.deliveries.hasDelivery(delivery);
  }
  recordDelivery(delivery: DeliveryRef, ttlSeconds: number): Promise<boolean> {
    return this.deliveries.recordDelivery(delivery, ttlSeconds);
  }
  recordFailedDelivery(failure: FailedDelivery, ttlSeconds: number): Promise<void> {
    return this.deliveries.recordFailedDelivery(failure, ttlSeconds);
  }
  getFailedDelivery(delivery: DeliveryRef): Promise<FailedDelivery | null> {
    return this.deliveries.getFailedDelivery(delivery);
  }
  noteSourceDelivery(source: string, at: string): Promise<void> {
    return this.deliveries.noteSourceDelivery(source, at);
  }
  listSourceDeliveries(): Promise<SourceDelivery[]> {
    return this.deliveries.listSourceDeliveries();
  }

  listPeople(): Promise<StoredPerson[]> {
    return this.people.listPeople();
  }
  applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome> {
    return this.people.applyPersonEvent(source, person, occurredAt);
  }
  replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult> {
    return this.people.replaceSource(source, people, occurredAt);
  }
  putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[], ttlSeconds?: number): Promise<SnapshotPartResult> {
    return this.people.putSnapshotPart(source, snapshotId, part, parts, people, ttlSeconds);
  }
  previewReplaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplacePreview> {
    return this.people.previewReplaceSource(source, people, occurredAt);
  }
  readSnapshot(source: string, snapshotId: string): Promise<Person[]> {
    return this.people.readSnapshot(source, snapshotId);
  }
  deleteSnapshot(source: string, snapshotId: string): Promise<void> {
    return this.people.deleteSnapshot(source, snapshotId);
  }

  getLedger(target: TargetRef): Promise<LedgerEntry[]> {
    return this.ledger.getLedger(target);
  }
  putLedgerEntries(target: TargetRef, entries: LedgerEntry[]): Promise<void> {
    return this.ledger.putLedgerEntries(target, entries);
  }

  acquireLease(target: TargetRef, owner: string, leaseSeconds: number, opts?: AcquireLeaseOptions): Promise<Lease | null> {
    return this.leases.acquireLease(target, owner, leaseSeconds, opts);
  }
  readLease(target: TargetRef): Promise<LeaseState | null> {
    return this.leases.readLease(target);
  }
  forceReleaseLease(target: TargetRef, owner: string): Promise<boolean> {
    return this.leases.forceReleaseLease(target, owner);
  }
  leaseEnds(target: TargetRef): Promise<LeaseEnds> {
    return this.leases.leaseEnds(target);
  }
  renewLease(lease: Lease, leaseSeconds: number): Promise<boolean> {
    return this.leases.renewLease(lease, leaseSeconds);
  }
  releaseLease(lease: Lease): Promise<'released' | 'dirty' | 'lost'> {
    return this.leases.releaseLease(lease);
  }
  markDirty(targets: TargetRef[]): Promise<void> {
    return this.leases.markDirty(targets);
  }

  putRun(run: RunRecord, ttlSeconds: number): Promise<void> {
    return this.runs.putRun(run, ttlSeconds);
  }
  getRun(runId: string): Promise<RunRecord | null> {
    return this.runs.getRun(runId);
  }
  listRuns(opts: { limit: number; target?: string }): Promise<RunRecord[]> {
    return this.runs.listRuns(opts);
  }
  putRunActions(runId: string, actions: RunAction[], ttlSeconds: number): Promise<void> {
    return this.runs.putRunActions(runId, actions, ttlSeconds);
  }
  getRunActions(runId: string): Promise<RunAction[]> {
    return this.runs.getRunActions(runId);
  }
  putApproval(target: TargetRef, planHash: string, runId: string, approvedBy?: string): Promise<void> {
    return this.runs.putApproval(target, planHash, runId, approvedBy);
  }
  takeApproval(target: TargetRef, planHash: string): Promise<boolean> {
    return this.runs.takeApproval(target, planHash);
  }
  putBlockedSnapshot(source: string, snapshotId: string, code: BlockCode, held?: Pick<HeldSnapshot, 'runId' | 'occurredAt' | 'eventId' | 'people'>): Promise<void> {
    return this.runs.putBlockedSnapshot(source, snapshotId, code, held);
  }
  takeBlockedSnapshot(source: string, snapshotId: string): Promise<HeldSnapshot | null> {
    return this.runs.takeBlockedSnapshot(source, snapshotId);
  }
}
