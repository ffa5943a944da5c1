// Domain vocabulary shared by every layer. Pure types and constants: no I/O here.
import type { SourceSettings } from './sources.ts';

/** Roles an org invite or member can have (orgInvitePost.json `role`). */
export const ORG_ROLES = ['admin', 'edit', 'collaborate', 'view', 'none'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** Which Losant org a target points at. */
export interface TargetRef {
  instanceId: string;
  orgId: string;
}

/** A target of the sync config: an org plus the rules that pick people and roles for it. */
export interface Target extends TargetRef {
  name: string;
  rules: Rule[];
}

/** `when`: attribute → glob or list of globs (keys AND, list items OR, case-insensitive). */
export interface Rule {
  when: Record<string, string | string[]>;
  role: OrgRole | 'skip';
}

/** An attribute of a person: a string, or a list of strings (at most 100 items of at most 256 characters; people.ts). */
export type AttributeValue = string | string[];

/** A person as HR sent them, email already normalised. */
export interface Person {
  /** normalised: trimmed, lower-cased, IDN domain in ASCII */
  email: string;
  employeeId?: string;
  status: 'active' | 'terminated';
  /**
   * any other attributes (department, title, location, …): strings, or lists of strings (a SCIM user's
   * `groups`); a rule matches a list when any element matches (functions/sync/rules.ts)
   */
  attributes: Record<string, AttributeValue>;
}

/** A person as the state store keeps them. */
export interface StoredPerson extends Person {
  /** personIdentity(): `emp:<employeeId>`, or `email:<normalised email>` when there is none */
  identity: string;
  source: string;
  /** ISO time of the newest HR event applied to this person */
  lastEventAt: string;
  /** true when a snapshot of `source` no longer lists them (they count as left) */
  leftSource?: boolean;
}

/** One pending invite as Losant lists it (email normalised by the adapter). */
export interface PendingInvite {
  id: string;
  email: string;
  role: OrgRole;
  inviteDate: string;
  hasExpired: boolean;
  ttl?: number;
}

/** One accepted member of an org (email normalised by the adapter). */
export interface Member {
  email: string;
  role: OrgRole;
  userId?: string;
}

/**
 * What invite-sync remembers about one email in one target (functions/sync/ledger.ts owns the transitions).
 * - `intent`: written before a POST; the POST may or may not have happened.
 * - `sent`: Losant answered with the invite (`inviteId`), or an expired invite was adopted (`adopted`).
 * - `failed`: Losant refused (4xx other than 429); not retried until the next run.
 * - `revoked`: invite-sync revoked it (person left), or removed the member (policy.removeLeftMembers).
 * - `member`: the email was seen as a member of the org (an admin removing them is respected); `inviteId`
 *   (and `adopted`) are kept from a `sent` entry: the member accepted an invite invite-sync sent.
 */
export interface LedgerEntry {
  email: string;
  state: 'intent' | 'sent' | 'failed' | 'revoked' | 'member';
  role: OrgRole;
  inviteId?: string;
  /** ISO time of the last state change (an intent's: when it was written) */
  updatedAt: string;
  /** ISO time the current invite was created or last resent */
  invitedAt?: string;
  /** how many times invite-sync resent an expired invite */
  renewals: number;
  runId: string;
  /** lastEventAt of the person when we invited them */
  personEventAt?: string;
  /** `sent`: an expired invite invite-sync did not create, adopted and renewed (policy.adoptExpired) */
  adopted?: boolean;
  /** ISO time a run first saw no active person for the email (terminated or left its snapshot): a return is a re-hire */
  departedAt?: string;
  /** `intent`: the run stopped before it started this POST (nothing can be on the way) */
  unsent?: boolean;
  error?: string;
}

export type ActionKind = 'invite' | 'renew' | 'fixRole' | 'revoke' | 'remove';

export interface Action {
  kind: ActionKind;
  email: string;
  role: OrgRole;
  /** renew / fixRole / revoke act on an existing invite */
  inviteId?: string;
  /** remove: the org member's Losant user id (DELETE /members/{userId}) */
  userId?: string;
  /** lastEventAt of the person the action is for */
  personEventAt?: string;
  /** renewals so far (renew: before this one) */
  renewals?: number;
  /** fixRole: the role the pending invite has now (fromRole, rule, reason: only when PlanInput.explain) */
  fromRole?: OrgRole;
  /** the rule that decided (invite/renew/fixRole: the role; revoke: a `skip` rule); `index` counts from 1 */
  rule?: { index: number; when: Rule['when'] };
  /** revoke / remove: why the person is no longer desired */
  reason?: RevokeReason;
  /** renew: the expired invite is not ours and is adopted by this renewal (policy.adoptExpired) */
  adopted?: boolean;
}

/** Why an invite is revoked: no active person has the email, a `skip` rule matched, or no rule matched. */
export type RevokeReason = 'leftRoster' | 'skipRule' | 'noRule';

export const SKIP_REASONS = [
  'alreadyPending',
  'alreadyMember',
  'invitedRecently',
  'renewalsExhausted',
  'notOurs',
  'removedOutsideSync',
  /** an intent's run may still have its invite on the way: neither POSTed nor adopted (ledger.ts intentStatus) */
  'settling',
  /** a pending unexpired invite not ours whose role differs from the rule's (also counted in notOurs) */
  'roleMismatch',
  /** resends or deletes the applier skipped once Losant refused one for a missing scope (and removals while GET /me is refused) */
  'missingScope',
  /** a leaver's membership kept because they are the org's last admin (policy.removeLeftMembers, offboard.ts) */
  'lastAdmin',
  /** a leaver's membership kept because they are the user the Losant token belongs to (offboard.ts) */
  'ownUser',
  /** not a planner verdict: invites and renewals past the org's free seats (seats.ts cutToSeats); not a brake */
  'noSeat',
  /** not a planner verdict: a wanted person before local midnight of their start date (people.startDateField) */
  'notStarted',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
export type SkipCounts = Record<SkipReason, number>;
export type ActionCounts = Record<ActionKind, number>;

export const BLOCK_CODES = [
  'maxInvitesPerRun',
  'maxChangeFraction',
  'emptySnapshot',
  'emptyDesired',
  /** a roster snapshot older than limits.maxSnapshotAgeHours (or of unknown age), held back at ingest */
  'staleSnapshot',
  /** a snapshot changing more than sources.<name>.maxChangeFraction of its source's active people, held back at ingest */
  'sourceChangeFraction',
] as const;
export type BlockCode = (typeof BLOCK_CODES)[number];

export interface Plan {
  actions: Action[];
  skipped: SkipCounts;
  /** desired email → role after the rules */
  desired: number;
  pending: number;
  members: number;
  /** stable hash of the actions (approvals are bound to it) */
  hash: string;
  /** the emails behind each skip count (only when PlanInput.explain) */
  skippedPeople?: Record<SkipReason, string[]>;
  /** `sent` entries in the target's ledger (brake `emptyDesired` when nobody is desired) */
  ledgerSent?: number;
  /**
   * What the ledger learns without an action (members first seen, departures, re-hires, claimed
   * intents): written with the run's batch writes by apply, never by plan; empty on a converged run.
   */
  remember?: LedgerEntry[];
}

export interface Policy {
  renewExpired: boolean;
  maxRenewals: number;
  revokeLeft: boolean;
  fixRole: boolean;
  /** adopt an expired invite of a wanted person that invite-sync did not create, and renew it (default true) */
  adoptExpired?: boolean;
  /** let revokeLeft and fixRole touch adopted invites too (default false: they are only renewed) */
  manageAdopted?: boolean;
  /** remove org members invite-sync invited who left, as revokeLeft judges "left" (default false; offboard.ts) */
  removeLeftMembers?: boolean;
}

/** The safety brakes (config `limits`). */
/** Default of `limits.maxSnapshotAgeHours`: an older roster snapshot is held back at ingest (`staleSnapshot`). */
export const DEFAULT_MAX_SNAPSHOT_AGE_HOURS = 72;

export interface Limits {
  /** more changes of any kind (invite, renew, fixRole, revoke, remove) than this in one target block the run (code `maxInvitesPerRun`) */
  maxChangesPerRun: number;
  minSizeForFraction: number;
  maxChangeFraction: number;
  maxBadRows: number;
  /** seats of an org's member limit kept free for admins (seats.ts); default 0 */
  reserveSeats?: number;
  /** a roster snapshot older than this (hours, by its occurredAt) is held back at ingest (`staleSnapshot`); default 72 */
  maxSnapshotAgeHours?: number;
  /** the brakes also count the changes done in this target by runs started this many minutes before (change-window.ts); 0 turns it off; default 60 */
  windowMinutes?: number;
}

/** What the use cases need of the sync config (functions/config/ parses the file into a superset). */
export interface SyncSettings {
  targets: Target[];
  policy: Policy;
  limits: Limits;
  /** Losant requests in flight at once */
  concurrency: number;
  /** how long one run holds a target's lease */
  leaseSeconds: number;
  /** the `sources` map (sync/sources.ts): which targets each source feeds; absent: every source feeds every target */
  sources?: Readonly<Record<string, SourceSettings>>;
  /** opt-in start / end date attributes (sync/dates.ts) */
  people?: { startDateField?: string; endDateField?: string; timeZoneField?: string };
  /** the default zone of dates (default UTC) */
  timeZone?: string;
}

/** A target once its plan has run, as `plan`/`apply` show it (the `steadyState` of `--json`). */
export interface SteadyState {
  /** accepted members (a plan never adds any: people become members by accepting) */
  members: number;
  /** emails with a pending invite (expired ones included, as Losant lists them) */
  pending: number;
  /** of those, emails whose unexpired invite runs out within 7 days and that this plan does not resend */
  expiringWithin7Days: number;
  /** desired people whose expired invite may not be resent again (policy.maxRenewals reached) */
  renewalsExhausted: number;
  /** desired people still waiting on an invite sent more than 7 days ago (this plan does not resend it) */
  waitingOver7Days: number;
  /** seats used once the plan ran / the org's member limit: only for an org that has a limit (seats.ts) */
  seats?: { used: number; limit: number };
}

/** A target's seats (seats.ts cutToSeats): only for an org with a member limit. */
export interface TargetSeats {
  /** the org's `limits.member` */
  limit: number;
  /** config `limits.reserveSeats` */
  reserve: number;
  /** members + unexpired pending invites once the plan ran (granted invites and renewals in, revoked invites out) */
  used: number;
  /** seats still free for invites once the plan ran: limit − used − reserve, at least 0 (metric `SeatsFree`) */
  free: number;
  /** invites and renewals cut for want of a seat (skip key `noSeat`, metric `InvitesNoSeat`) */
  noSeat: number;
}

/** How an action of an apply ended: `notStarted` when the run stopped first (deadline, 401/403, lease lost). */
export type ActionResult = 'done' | 'failed' | 'notStarted';

/** An action as the CLI reports it (apply adds how it ended). */
export interface ReportedAction extends Action {
  result?: ActionResult;
  error?: string;
}

/** What the CLI shows beyond the counts (ReconcileOptions.explain); never stored with the run. */
export interface TargetDetail {
  actions: ReportedAction[];
  steadyState: SteadyState;
  skippedPeople: Record<SkipReason, string[]>;
}

/** Losant refused a resend or a delete for a scope the token lacks: that kind of action stopped for the target and run. */
export interface TargetWarning {
  code: 'missingScope';
  /** the narrowest scope that would allow it, e.g. `instanceOrgInvite.resendInvite` */
  scope: string;
}

/** One failed action's email and why, when the reason matters to the next run. */
export interface TargetFailure {
  email: string;
  reason: 'ambiguous';
}

/** Result of reconciling one target, as the CLI's --json shows it. */
export interface TargetReport {
  name: string;
  instanceId: string;
  orgId: string;
  desired: number;
  pending: number;
  members: number;
  planned: ActionCounts;
  done: ActionCounts;
  failed: number;
  /** emails among `failed` with why; `ambiguous`: the POST went unanswered and the invite was not found (yet) */
  failures?: TargetFailure[];
  /** a stored run keeps at most 100 `failures`: how many more there were */
  failuresOmitted?: number;
  skipped: SkipCounts;
  blocked: BlockCode | null;
  complete: boolean;
  /** the org's seats (only when it has a member limit and the token may read it) */
  seats?: TargetSeats;
  /** things that did not stop the target but a person should fix (e.g. a token without a scope) */
  warnings?: TargetWarning[];
  /** a stored run keeps at most 100 `warnings`: how many more there were */
  warningsOmitted?: number;
  /** present when the target could not be reconciled at all */
  /** `invalidResponse`: a Losant answer that cannot be trusted (not JSON, not the schema, a list without items or whose count is not its length, over maxAnswerBytes) */
  error?: { code: 'leaseBusy' | 'unauthorized' | 'forbidden' | 'unreachable' | 'deadline' | 'notFound' | 'interrupted' | 'invalidResponse' | 'other'; message: string };
  planHash?: string;
  /** only with ReconcileOptions.explain (the CLI); runSync leaves it out of the stored run */
  detail?: TargetDetail;
}

export interface RunReport {
  mode: 'apply' | 'plan';
  runId: string;
  complete: boolean;
  targets: TargetReport[];
}

export const emptyActionCounts = (): ActionCounts => ({ invite: 0, renew: 0, fixRole: 0, revoke: 0, remove: 0 });
export const emptySkipCounts = (): SkipCounts => ({
  alreadyPending: 0,
  alreadyMember: 0,
  invitedRecently: 0,
  renewalsExhausted: 0,
  notOurs: 0,
  removedOutsideSync: 0,
  settling: 0,
  roleMismatch: 0,
  missingScope: 0,
  lastAdmin: 0,
  ownUser: 0,
  noSeat: 0,
  notStarted: 0,
});
