// planner / applier / reconcile --> ledger (what invite-sync remembers per email) --> LedgerEntry
//
// The one place that says what a ledger state means and which state follows which:
//   none, sent, failed, revoked, member --invite planned (written before the POST)------------> intent
//   intent --POST answered------------------------------------------------------------------> sent
//   intent --its window closed and Losant lists an invite dated inside it (claimedInvite)---> sent
//   intent --the run stopped before starting its POST (unsentEntry)--------------------------> intent, unsent
//   intent --POST refused (400-class, 404)---------------------------------------------------> failed
//   none, failed, revoked --an expired invite not ours renewed (adopted, policy.adoptExpired)-> sent (adopted)
//   sent   --renew / fixRole answered---------------------------------------------------------> sent
//   sent   --revoke answered------------------------------------------------------------------> revoked
//   none, intent, sent, failed, revoked --the email is seen as an org member (learntEntry)-----> member
//                                         (from `sent`: keeps inviteId and adopted, the member accepted our invite)
//   member with inviteId, sent --the person left and policy.removeLeftMembers (offboard.ts)----> revoked
//   sent, member of an HR person --no active person for the email (learntEntry)--> the same, with departedAt
//   sent, member with departedAt --the person is active again and has an invite or is a member--> without it
import type { ApiError } from './errors.ts';
import type { Action, LedgerEntry, OrgRole, PendingInvite } from './types.ts';
import { newestInvite } from './invites.ts';
import { ABANDON_AFTER_MS, CLOCK_SKEW_MS, SETTLE_MS, runEndOf, type RunEnds } from './ownership.ts';

/** The ledger states, in the order a successful invite goes through them. */
export const LEDGER_STATES = ['intent', 'sent', 'failed', 'revoked', 'member'] as const;
export type LedgerState = LedgerEntry['state'];

/** Who writes an entry, and when (ISO). */
export interface LedgerStamp {
  runId: string;
  /** ISO time of the change */
  at: string;
}

/** An invite as Losant answered it: its id and when it was (re)sent. */
export interface AnsweredInvite {
  id: string;
  inviteDate: string;
}

/**
 * The id of the invite invite-sync created for this email, or undefined: only a `sent` entry
 * makes an invite "ours" (an intent's POST may never have happened; failed and revoked ones are done).
 * @example ourInviteId(ledger.get(email)) === invite.id
 */
export function ourInviteId(entry: LedgerEntry | undefined): string | undefined {
  return entry !== undefined && entry.state === 'sent' ? entry.inviteId : undefined;
}

/**
 * True when invite-sync may revoke or role-fix the invite of this entry: ours, and not adopted
 * (adopted invites are only renewed unless `policy.manageAdopted`).
 */
export function isManaged(entry: LedgerEntry | undefined, manageAdopted: boolean): boolean {
  return entry?.state === 'sent' && (entry.adopted !== true || manageAdopted);
}

/** What an intent's status is judged by: now, the ends of the runs that wrote intents, the lease length. */
export interface IntentClock {
  /** epoch ms */
  now: number;
  /** ownership.ts loadRunEnds; a run missing from it counts as ending leaseMs after its intent */
  ends?: RunEnds;
  leaseMs: number;
}

/**
 * Where an intent stands, by its run's end (ownership.ts runEndOf):
 * | now                                        | status     | meaning                                           |
 * |--------------------------------------------|------------|---------------------------------------------------|
 * | ≤ end + SETTLE_SECONDS                     | `settling` | its POST may still land: neither POST nor adopt   |
 * | after that, ≤ end + SETTLE_SECONDS + 7 days | `claiming` | claims an invite dated in its window (claimedInvite) |
 * | later                                      | `abandoned`| claims nothing, exempts nothing from the brakes   |
 * An intent marked `unsent` (its run stopped before starting the POST) is `unsent` until abandoned:
 * it neither settles nor claims, and its invite is still that run's remainder for the brakes.
 */
export type IntentStatus = 'settling' | 'claiming' | 'abandoned' | 'unsent';

export function intentStatus(entry: LedgerEntry, clock: IntentClock): IntentStatus {
  const settled = runEndOf(entry, clock.ends, clock.leaseMs) + SETTLE_MS;
  if (clock.now > settled + ABANDON_AFTER_MS) return 'abandoned';
  if (entry.unsent === true) return 'unsent';
  return clock.now > settled ? 'claiming' : 'settling';
}

/**
 * The invite a `claiming` intent proves ours: the newest listed invite of its email whose
 * inviteDate lies in [intent written − 60 s, its run's end + SETTLE_SECONDS]; undefined for any
 * other invite (not ours) and for an intent that is settling or abandoned.
 * @example claimedInvite(entry, invitesOfEmail, { now, ends, leaseMs })
 */
export function claimedInvite<T extends Pick<PendingInvite, 'id' | 'inviteDate'>>(entry: LedgerEntry | undefined, invites: readonly T[], clock: IntentClock): T | undefined {
  if (entry?.state !== 'intent' || invites.length === 0 || intentStatus(entry, clock) !== 'claiming') return undefined;
  const from = Date.parse(entry.updatedAt) - CLOCK_SKEW_MS;
  const to = runEndOf(entry, clock.ends, clock.leaseMs) + SETTLE_MS;
  return newestInvite(
    invites.filter((inv) => {
      const at = Date.parse(inv.inviteDate);
      return at >= from && at <= to;
    }),
  );
}

/**
 * True when an invite action is the remainder of an earlier run that passed the brakes, wrote its
 * intent and stopped (crash or deadline) before the invite was created: not a new change. An
 * abandoned intent exempts nothing.
 */
export function isBrakedRemainder(action: Action, entry: LedgerEntry | undefined, clock: IntentClock): boolean {
  return action.kind === 'invite' && entry?.state === 'intent' && intentStatus(entry, clock) !== 'abandoned';
}

/** What the ledger says about a desired email that has no pending invite and is not a member. */
export type UnlistedVerdict = 'invite' | 'invitedRecently' | 'removedOutsideSync';

/**
 * For a desired email with nothing pending (a `settling` intent is decided before: planner.ts):
 * | ledger entry                                                    | verdict              |
 * |-----------------------------------------------------------------|----------------------|
 * | none, `intent` (claiming or abandoned: the POST did not happen), `failed`, `revoked` | `invite` |
 * | `sent`, invited less than `settleMs` ago (Losant may not list it yet) | `invitedRecently` |
 * | `sent` or `member` with `departedAt` (re-hired since), or `force` | `invite`           |
 * | `sent` or `member` otherwise (an admin revoked the invite or removed the member) | `removedOutsideSync` |
 * An HR event that only changes attributes never re-invites.
 */
export function unlistedVerdict(entry: LedgerEntry | undefined, now: number, opts: { settleMs: number; force?: boolean }): UnlistedVerdict {
  if (entry === undefined || (entry.state !== 'sent' && entry.state !== 'member')) return 'invite';
  if (entry.state === 'sent' && now - Date.parse(entry.invitedAt ?? entry.updatedAt) < opts.settleMs) return 'invitedRecently';
  if (opts.force || entry.departedAt !== undefined) return 'invite';
  return 'removedOutsideSync';
}

/** What a run sees of an email it takes no action for. */
export interface SeenEmail {
  /** the member's role, when the email is an org member */
  member?: OrgRole;
  /** lastEventAt of the active person who speaks for the email; undefined: none (terminated, left, never in HR) */
  personEventAt?: string;
  /** the rules want the person */
  desired: boolean;
}

/**
 * What the ledger learns about an email without an action (undefined: nothing, the usual case, so a
 * converged run writes nothing):
 * | seen                                   | entry before                            | entry after                     |
 * |----------------------------------------|-----------------------------------------|---------------------------------|
 * | a member                               | none, intent, sent, failed, revoked     | `member` (personEventAt if an HR person speaks; from `sent`: its inviteId and adopted) |
 * | a member an HR person speaks for       | `member` without personEventAt          | the same with it                |
 * | no active person (member or not)       | `sent`, or `member` of an HR person     | the same with `departedAt`      |
 * | active and desired, not acted on       | with `departedAt`                       | without it (the re-hire is used up) |
 */
export function learntEntry(email: string, prev: LedgerEntry | undefined, seen: SeenEmail, stamp: LedgerStamp): LedgerEntry | undefined {
  const { member, personEventAt } = seen;
  if (member !== undefined && prev?.state !== 'member') {
    // accepted our invite: the entry keeps which one (offboard.ts removes only members invite-sync invited)
    const ours = prev?.state === 'sent' && prev.inviteId !== undefined ? { inviteId: prev.inviteId, ...(prev.adopted ? { adopted: true } : {}) } : {};
    return { email, state: 'member', role: member, updatedAt: stamp.at, renewals: 0, runId: stamp.runId, ...(personEventAt ? { personEventAt } : {}), ...ours };
  }
  if (prev === undefined) return undefined;
  if (personEventAt === undefined) {
    const departs = prev.state === 'sent' || (prev.state === 'member' && prev.personEventAt !== undefined);
    return departs && prev.departedAt === undefined ? withDepartedAt(prev, stamp.at) : undefined;
  }
  if (prev.departedAt !== undefined && seen.desired) return returnedEntry(prev);
  if (member !== undefined && prev.personEventAt === undefined) return { ...prev, personEventAt };
  return undefined;
}

/**
 * `{ ...prev, departedAt: at }`: the same keys in the same order. V8 adds a property to an object made
 * by a spread slowly, to a copy made by Object.assign quickly (40 000 departures: 65 ms against 20 ms
 * CPU, median of 12 on a loaded machine). The two differ only for an own `__proto__` key, which keeps the spread.
 */
function withDepartedAt(prev: LedgerEntry, at: string): LedgerEntry {
  if (Object.hasOwn(prev, '__proto__')) return { ...prev, departedAt: at };
  const entry: LedgerEntry = Object.assign({}, prev);
  entry.departedAt = at;
  return entry;
}

/** The entry without `departedAt`: the person is back and already has an invite or membership (the re-hire is used up). */
export function returnedEntry(prev: LedgerEntry): LedgerEntry {
  const { departedAt: _gone, ...rest } = prev;
  return rest;
}

/**
 * The entry an action leaves: the action's email and role, this run, renewals carried forward from
 * `prev`, and the HR event it answers (a later manual removal is judged against it).
 */
function next(action: Action, prev: LedgerEntry | undefined, stamp: LedgerStamp, fields: Pick<LedgerEntry, 'state'> & Partial<LedgerEntry>): LedgerEntry {
  const personEventAt = action.personEventAt ?? prev?.personEventAt;
  return {
    email: action.email,
    role: action.role,
    updatedAt: stamp.at,
    renewals: prev?.renewals ?? 0,
    runId: stamp.runId,
    ...(personEventAt ? { personEventAt } : {}),
    ...fields,
  };
}

/**
 * none/any → `intent`: written (durably) before the invite's POST is sent.
 * @example putLedgerEntries(target, [intentEntry(action, ledger.get(action.email), stamp)])
 */
export function intentEntry(action: Action, prev: LedgerEntry | undefined, stamp: LedgerStamp): LedgerEntry {
  return next(action, prev, stamp, { state: 'intent' });
}

/**
 * `intent` → `intent` marked `unsent`: the run stopped (deadline, signal, lost lease) before it started
 * this invite's POST. Nothing can be on the way, so it neither settles nor claims (intentStatus `unsent`).
 */
export function unsentEntry(action: Action, prev: LedgerEntry | undefined, stamp: LedgerStamp): LedgerEntry {
  return next(action, prev, stamp, { state: 'intent', unsent: true });
}

/**
 * `intent` → `sent` after an invite's POST; `sent` → `sent` after a resend (a `renew` counts one
 * more renewal, a `fixRole` does not). `invitedAt` is Losant's inviteDate, else the stamp's time.
 */
export function sentEntry(action: Action, prev: LedgerEntry | undefined, invite: AnsweredInvite, stamp: LedgerStamp): LedgerEntry {
  const invitedAt = invite.inviteDate || stamp.at;
  if (action.kind === 'invite') return next(action, prev, stamp, { state: 'sent', inviteId: invite.id, invitedAt });
  // an adoption is the first renewal of an invite we did not create
  if (action.adopted) return next(action, undefined, stamp, { state: 'sent', inviteId: invite.id, invitedAt, renewals: 1, adopted: true });
  const renewals = (prev?.renewals ?? 0) + (action.kind === 'renew' ? 1 : 0);
  const adopted = prev?.state === 'sent' && prev.adopted === true ? { adopted: true } : {};
  return next(action, prev, stamp, { state: 'sent', inviteId: invite.id, invitedAt, renewals, ...adopted });
}

/** `sent` → `revoked` once invite-sync revoked the invite; `member` (or `sent`) → `revoked` once it removed the member. */
export function revokedEntry(action: Action, prev: LedgerEntry | undefined, stamp: LedgerStamp): LedgerEntry {
  return next(action, prev, stamp, { state: 'revoked', ...(action.inviteId ? { inviteId: action.inviteId } : {}) });
}

/**
 * `intent` → `failed` when Losant refused the invite itself (400-class or 404): not tried again
 * until the next run. Any other failure (throttling, 5xx, network, other kinds of action) leaves
 * the ledger as it is: undefined.
 */
export function failedEntry(action: Action, prev: LedgerEntry | undefined, err: ApiError, stamp: LedgerStamp): LedgerEntry | undefined {
  if (action.kind !== 'invite' || (err.kind !== 'badRequest' && err.kind !== 'notFound')) return undefined;
  const error = `${err.kind}${err.status ? ` ${err.status}` : ''}: ${err.apiType ?? ''}`.trim();
  return next(action, prev, stamp, { state: 'failed', error });
}

/**
 * `intent` → `sent` for a claiming intent whose invite Losant lists (claimedInvite): the run that
 * wrote it crashed after the POST and before recording the answer. Claiming it lets later renewals
 * and revocations know the invite is ours.
 */
export function claimedEntry(entry: LedgerEntry, invite: AnsweredInvite, at: string): LedgerEntry {
  return { ...entry, state: 'sent', inviteId: invite.id, invitedAt: invite.inviteDate, updatedAt: at };
}
