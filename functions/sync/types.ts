// Domain vocabulary shared by every layer. Pure types and constants: no I/O here.

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

/** A person as HR sent them, email already normalised. */
export interface Person {
  /** normalised: trimmed, lower-cased, IDN domain in ASCII */
  email: string;
  employeeId?: string;
  status: 'active' | 'terminated';
  /** any other string attributes (department, title, location, …) */
  attributes: Record<string, string>;
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
 * What invite-sync remembers about one email in one target.
 * - `intent`: written before a POST; the POST may or may not have happened.
 * - `sent`: Losant answered with the invite (`inviteId`).
 * - `failed`: Losant refused (4xx other than 429); not retried until the next run.
 * - `revoked`: invite-sync revoked it (person left).
 */
export interface LedgerEntry {
  email: string;
  state: 'intent' | 'sent' | 'failed' | 'revoked';
  role: OrgRole;
  inviteId?: string;
  /** ISO time of the last state change */
  updatedAt: string;
  /** ISO time the current invite was created or last resent */
  invitedAt?: string;
  /** how many times invite-sync resent an expired invite */
  renewals: number;
  runId: string;
  /** lastEventAt of the person when we invited them (to tell a newer HR event) */
  personEventAt?: string;
  error?: string;
}

export type ActionKind = 'invite' | 'renew' | 'fixRole' | 'revoke';

export interface Action {
  kind: ActionKind;
  email: string;
  role: OrgRole;
  /** renew / fixRole / revoke act on an existing invite */
  inviteId?: string;
  /** lastEventAt of the person the action is for */
  personEventAt?: string;
  /** renewals so far (renew: before this one) */
  renewals?: number;
}

export const SKIP_REASONS = [
  'alreadyPending',
  'alreadyMember',
  'invitedRecently',
  'renewalsExhausted',
  'notOurs',
  'removedOutsideSync',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
export type SkipCounts = Record<SkipReason, number>;
export type ActionCounts = Record<ActionKind, number>;

export const BLOCK_CODES = ['maxInvitesPerRun', 'maxChangeFraction', 'emptySnapshot'] as const;
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
}

export interface Policy {
  renewExpired: boolean;
  maxRenewals: number;
  revokeLeft: boolean;
  fixRole: boolean;
}

export interface Limits {
  maxInvitesPerRun: number;
  minSizeForFraction: number;
  maxChangeFraction: number;
  maxBadRows: number;
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
  skipped: SkipCounts;
  blocked: BlockCode | null;
  complete: boolean;
  /** present when the target could not be reconciled at all */
  error?: { code: 'leaseBusy' | 'unauthorized' | 'forbidden' | 'unreachable' | 'deadline' | 'notFound' | 'other'; message: string };
  planHash?: string;
}

export interface RunReport {
  mode: 'apply' | 'plan';
  runId: string;
  complete: boolean;
  targets: TargetReport[];
}

export const emptyActionCounts = (): ActionCounts => ({ invite: 0, renew: 0, fixRole: 0, revoke: 0 });
export const emptySkipCounts = (): SkipCounts => ({
  alreadyPending: 0,
  alreadyMember: 0,
  invitedRecently: 0,
  renewalsExhausted: 0,
  notOurs: 0,
  removedOutsideSync: 0,
});
