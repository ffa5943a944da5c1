// use case --> port <-- adapter. The domain depends only on these interfaces;
// functions/losant implements InviteApi, functions/state implements StateStore.
import type {
  Action, BlockCode, LedgerEntry, Member, OrgRole, PendingInvite, RunReport, StoredPerson, TargetRef, Person,
} from './types.ts';
import type { OwnUser } from './offboard.ts';
import type { Continuation } from './continuation.ts';

/** Per-call limits. `deadline` is epoch ms: no request starts that could not finish before it. */
export interface CallOptions {
  deadline?: number;
  signal?: AbortSignal;
}

export interface NewInvite {
  email: string;
  role: OrgRole;
}

export interface CreateInviteResult {
  invite: PendingInvite;
  /** true when the POST's answer was lost and the invite was found by an exact email lookup */
  recovered: boolean;
}

/** What the seat rule needs of an org (functions/sync/seats.ts). */
export interface OrgSeats {
  /** members + unexpired pending invites may not exceed it; undefined: no limit */
  memberLimit?: number;
}

/**
 * The Losant invites of one org as the sync needs them, in the domain's words. Every method throws
 * `ApiError` on failure; emails in answers are normalised. Reads, resends and revocations are retried
 * internally (429/5xx/network, backoff with jitter, Retry-After, bounded by the deadline).
 * `createInvite` is never blindly retried: ambiguous failures are resolved by `findInvite`.
 */
export interface InviteApi {
  /** every pending invite of the org (expired ones included, `hasExpired: true`) */
  listPending(target: TargetRef, opts?: CallOptions): Promise<PendingInvite[]>;
  /** the org's accepted members */
  listMembers(target: TargetRef, opts?: CallOptions): Promise<Member[]>;
  createInvite(target: TargetRef, invite: NewInvite, opts?: CallOptions): Promise<CreateInviteResult>;
  /** resend with (new) role info: resets inviteDate and hasExpired */
  resend(target: TargetRef, inviteId: string, roleInfo: { role: OrgRole }, opts?: CallOptions): Promise<PendingInvite>;
  /** removes a pending invite */
  revoke(target: TargetRef, inviteId: string, opts?: CallOptions): Promise<void>;
  /** the org's member limit (GET org; needs `instanceOrg.get` or broader: else `forbidden`) */
  getOrg(target: TargetRef, opts?: CallOptions): Promise<OrgSeats>;
  /** the newest pending invite of exactly this email (see `newestInvite`), undefined when there is none */
  findInvite(target: TargetRef, email: string, opts?: CallOptions): Promise<PendingInvite | undefined>;
  /** removes an org member (policy.removeLeftMembers); retried like revoke, a 404 after an unanswered attempt counts as done */
  removeMember(target: TargetRef, userId: string, opts?: CallOptions): Promise<void>;
  /** the user the token belongs to (GET /me); `unknown` when Losant refuses (403: no `me.get`-class scope) or has none (404) */
  ownUser(opts?: CallOptions): Promise<OwnUser>;
}

/** Who holds a lease: the host, pid and process start of the process that took it (for messages and take-over). */
export interface LeaseHolder {
  host: string;
  pid: number;
  /** an opaque token of the process's start (with `pid`, tells a live holder from a reused pid); absent when unknown */
  processStart?: string;
}

/** A target's lease as stored: who holds it and until when (what `unlock` and a busy-lease error show). */
export interface LeaseState {
  owner: string;
  /** epoch ms */
  expiresAt: number;
  /** epoch ms of the last acquire or renewal; absent on leases written before it was recorded */
  renewedAt?: number;
  /** absent on leases written before holders were recorded */
  holder?: LeaseHolder;
  seq: number;
}

export interface Lease {
  target: TargetRef;
  owner: string;
  /** epoch ms */
  expiresAt: number;
  /** the target's change counter as the holder last saw it */
  seenSeq: number;
}

export type EventOutcome = 'applied' | 'stale';

export interface SnapshotPartResult {
  /** parts stored so far for this snapshot (including this one) */
  received: number;
  parts: number;
  complete: boolean;
}

export interface ReplaceSourceResult {
  upserted: number;
  left: number;
  unchanged: number;
  stale: number;
}

export interface RunRecord extends RunReport {
  trigger: 'cli' | 'webhook' | 'event' | 'schedule' | 'queue' | 'demo' | 'scim' | 's3' | 'continuation';
  /** a queued run that continues an earlier one (trigger `continuation`): where it stands in the chain */
  continuation?: Continuation;
  startedAt: string;
  finishedAt?: string;
  /** the snapshot this run holds back (`emptySnapshot`, `staleSnapshot`, `sourceChangeFraction`): `approve --run` stores it */
  held?: { source: string; snapshotId: string; code?: BlockCode; occurredAt?: string; people?: number };
}

/** An empty snapshot held back before storage (item `BLOCKED#<source>`, sk `<snapshotId>`). */
export interface HeldSnapshot {
  source: string;
  snapshotId: string;
  code: BlockCode;
  /** the run record that reports it (absent on items written before runs were recorded for it) */
  runId?: string;
  /** the snapshot's own occurredAt: what it is stored with when approved */
  occurredAt?: string;
  eventId?: string;
  /** how many people it holds (stored as snapshot parts under `heldPartsId(snapshotId)`); absent or 0: an empty snapshot */
  people?: number;
}

/** What a snapshot would change in its source, without writing (the `sourceChangeFraction` hold). */
export interface ReplacePreview {
  /** people it would upsert with a change, plus people it would mark left */
  changes: number;
  /** the source's stored people that have not left */
  active: number;
}

/** A delivery as deduped: the HR event's `id` within its `source` (two HR sources may reuse an id). */
export interface DeliveryRef {
  source: string;
  id: string;
}

/** A delivery refused whole (a bad roster file drop): what was wrong, with every bad row. */
export interface FailedDelivery extends DeliveryRef {
  failedAt: string;
  /** one line: `<origin>: 3 bad rows`, `x-amz-meta-occurred-at: must be …` */
  message: string;
  /** every problem (`line` 0 or absent: the file as a whole); at most what fits the item, see `rowCount` */
  rows: { line?: number; field: string; message: string }[];
  /** how many problems there were (more than `rows` when they did not all fit) */
  rowCount: number;
}

/** Dedupe of webhook / event deliveries by `(source, id)`, and the deliveries refused whole. */
/** When a source last delivered anything (item `DELIVERED`/`<source>`): what the source watch (`maxSilenceHours`) reads. */
export interface SourceDelivery {
  source: string;
  /** ISO time of the newest delivery (by our clock at arrival; duplicates count) */
  lastDeliveryAt: string;
}

/** Dedupe of webhook / event deliveries by `(source, id)`, and each source's last delivery time. */
export interface DeliveryStore {
  /** true if this delivery was already recorded (and has not expired) */
  hasDelivery(delivery: DeliveryRef): Promise<boolean>;
  /** records the id (conditional: only if absent or expired); false if it was already there */
  recordDelivery(delivery: DeliveryRef, ttlSeconds: number): Promise<boolean>;
  /** records a refused delivery (overwrites an earlier failure of the same id); it does not count for hasDelivery */
  recordFailedDelivery(failure: FailedDelivery, ttlSeconds: number): Promise<void>;
  /** the failure recorded for this delivery, unless it expired */
  getFailedDelivery(delivery: DeliveryRef): Promise<FailedDelivery | null>;
  /** records that `source` delivered at `at` (ISO): one write; an earlier time than the stored one changes nothing */
  noteSourceDelivery?(source: string, at: string): Promise<void>;
  /** every source's last delivery (one Query), by source name */
  listSourceDeliveries?(): Promise<SourceDelivery[]>;
}

/** The people of every source as HR sent them, and multi-part snapshots until every part arrived. */
export interface PeopleStore {
  /** every stored person of every source */
  listPeople(): Promise<StoredPerson[]>;
  /** upsert (or terminate, by `person.status`) unless the stored lastEventAt is newer or equal */
  applyPersonEvent(source: string, person: Person, occurredAt: string): Promise<EventOutcome>;
  /**
   * Replaces the people of `source`: listed people are upserted (skipping unchanged ones: no write),
   * stored people the list lacks are marked `leftSource`. Each write is conditional on lastEventAt < occurredAt.
   */
  replaceSource(source: string, people: Person[], occurredAt: string): Promise<ReplaceSourceResult>;
  /** stores one part of a multi-part snapshot (idempotent per part number); `InputError` outside 1..parts. Kept `ttlSeconds` (default 2 days) */
  putSnapshotPart(source: string, snapshotId: string, part: number, parts: number, people: Person[], ttlSeconds?: number): Promise<SnapshotPartResult>;
  /** what `replaceSource(source, people, occurredAt)` would change now (a read; nothing is written) */
  previewReplaceSource?(source: string, people: Person[], occurredAt: string): Promise<ReplacePreview>;
  /** all people of a complete snapshot, parts in order; `StateError` when a part is missing */
  readSnapshot(source: string, snapshotId: string): Promise<Person[]>;
  deleteSnapshot(source: string, snapshotId: string): Promise<void>;
}

/** What invite-sync did per email and target (target ids compare case-insensitively). */
export interface LedgerStore {
  getLedger(target: TargetRef): Promise<LedgerEntry[]>;
  /** batched; the last entry of an email wins; resolves only when every entry is durably written */
  putLedgerEntries(target: TargetRef, entries: LedgerEntry[]): Promise<void>;
}

/** When the target's lease holders' leases run out or ran out (epoch ms): the "lease's last renewal + leaseSeconds". */
export interface LeaseEnds {
  /** the owner in the lease item (holding it, or holding an expired lease nobody took yet) */
  holder?: { owner: string; expiresAt: number };
  /** owners whose expired lease another owner took over (kept 30 days) */
  ended: { owner: string; endedAt: number }[];
}

/** `acquireLease` extras: who is taking the lease, and the owner of a lease whose holder is known to be gone. */
export interface AcquireLeaseOptions {
  /** recorded with the lease (host, pid, process start) */
  holder?: LeaseHolder;
  /** take the lease from this owner even before it expires (its process is gone) */
  replacing?: string;
}

/** One lease per target, with the target's change counter (the dirty mark). */
export interface LeaseStore {
  /**
   * conditional: free, expired, or already ours. null when another owner holds it. Taking over
   * another owner's expired lease records when that lease ran out (see `leaseEnds`).
   */
  acquireLease(target: TargetRef, owner: string, leaseSeconds: number, opts?: AcquireLeaseOptions): Promise<Lease | null>;
  /** the lease as stored (consistent read); null when nobody holds it (free or never leased) */
  readLease(target: TargetRef): Promise<LeaseState | null>;
  /**
   * `unlock`: clears the lease if `owner` still holds it and adds 1 to the change counter (so a change the
   * holder had not seen is reconciled by the next run). false when `owner` no longer holds it
   */
  forceReleaseLease(target: TargetRef, owner: string): Promise<boolean>;
  /** the current holder's expiry and the recorded ends of leases taken over (a read; no lease needed) */
  leaseEnds(target: TargetRef): Promise<LeaseEnds>;
  /** extends the lease (and `lease.expiresAt`); false if it was lost (another owner took it after expiry) */
  renewLease(lease: Lease, leaseSeconds: number): Promise<boolean>;
  /**
   * Lets go unless the target changed while we held it: then returns 'dirty', keeps the lease,
   * and updates `lease.seenSeq` so the caller reconciles once more and releases again.
   */
  releaseLease(lease: Lease): Promise<'released' | 'dirty' | 'lost'>;
  /** bumps the change counter of each target (a change landed that a running holder must see) */
  markDirty(targets: TargetRef[]): Promise<void>;
}

/** One change of a run as stored for `show` and `approve` (per target and person). */
export interface RunAction extends Action {
  /** the target's name in the config */
  target: string;
  /** apply: how it ended; `planned` in a plan, `blocked` when a brake held the target back */
  result: 'done' | 'failed' | 'notStarted' | 'planned' | 'blocked';
  error?: string;
}

/** Run records, approvals of blocked plans, and held-back snapshots. */
export interface RunStore {
  /** stores the record and its entry in the list of recent runs (both `ttlSeconds`) */
  putRun(run: RunRecord, ttlSeconds: number): Promise<void>;
  getRun(runId: string): Promise<RunRecord | null>;
  /** recent runs, newest first (by startedAt), at most `limit`; only runs of `target` (by name) when given */
  listRuns(opts: { limit: number; target?: string }): Promise<RunRecord[]>;
  /** a run's changes, in chunks under the run's key (`ttlSeconds`) */
  putRunActions(runId: string, actions: RunAction[], ttlSeconds: number): Promise<void>;
  /** a run's changes as stored ([] when none were recorded) */
  getRunActions(runId: string): Promise<RunAction[]>;
  /** an approval of one plan hash, valid 7 days; `approvedBy` (the approver's ARN) is stored when given */
  putApproval(target: TargetRef, planHash: string, runId: string, approvedBy?: string): Promise<void>;
  /** conditional delete: true once for an approval that exists and has not expired */
  takeApproval(target: TargetRef, planHash: string): Promise<boolean>;
  /** records an empty snapshot that was held back (brake `emptySnapshot`), kept 30 days */
  putBlockedSnapshot?(source: string, snapshotId: string, code: BlockCode, held?: Pick<HeldSnapshot, 'runId' | 'occurredAt' | 'eventId' | 'people'>): Promise<void>;
  /** removes a held snapshot and returns it (conditional: once); null when there is none (released or expired) */
  takeBlockedSnapshot?(source: string, snapshotId: string): Promise<HeldSnapshot | null>;
}

/**
 * Everything invite-sync keeps, in one DynamoDB table (see README "State model"): the five ports
 * above together. Writes that guard correctness are conditional; each method says which.
 * A use case that needs one kind of data can take just that port.
 */
export interface StateStore extends DeliveryStore, PeopleStore, LedgerStore, LeaseStore, RunStore {}

export interface Clock {
  now(): number;
}

/** Structured logger (Powertools Logger satisfies it). Callers mask emails before logging. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Where touched targets wait to be reconciled (SQS in AWS, in-process for `serve`). */
export interface ReconcileQueue {
  enqueue(targetNames: string[], reason: string, opts?: EnqueueOptions): Promise<void>;
}

/** How a queued target is run: after a delay (SCIM's debounce), recorded under a trigger (default `queue`). */
export interface EnqueueOptions {
  /** seconds before the reconcile may start (SQS DelaySeconds, at most 900) */
  delaySeconds?: number;
  /** the run record's trigger */
  trigger?: 'scim' | 'continuation';
  /** with trigger `continuation`: the run continued and the chain so far (functions/sync/continuation.ts) */
  continuation?: Continuation;
}
