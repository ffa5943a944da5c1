// planner / applier / reconcile --> ledger (what invite-sync remembers per email) --> LedgerEntry
//
// The one place that says what a ledger state means and which state follows which:
//   none, sent, failed, revoked --invite planned (written before the POST)--> intent
//   intent --POST answered--------------------------------------------------> sent
//   intent --the invite is listed after a crash (adoptListedInvites)--------> sent
//   intent --POST refused (400-class, 404)-----------------------------------> failed
//   sent   --renew / fixRole answered-----------------------------------------> sent
//   sent   --revoke answered--------------------------------------------------> revoked
import type { ApiError } from './errors.ts';
import type { Action, LedgerEntry } from './types.ts';

/** The ledger states, in the order a successful invite goes through them. */
export const LEDGER_STATES = ['intent', 'sent', 'failed', 'revoked'] as const;
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
 * True when an invite action is the remainder of an earlier run that passed the brakes, wrote its
 * intent and stopped (crash or deadline) before the invite was created: not a new change.
 */
export function isBrakedRemainder(action: Action, entry: LedgerEntry | undefined): boolean {
  return action.kind === 'invite' && entry?.state === 'intent';
}

/** What the ledger says about a desired email that has no pending invite and is not a member. */
export type UnlistedVerdict = 'invite' | 'invitedRecently' | 'removedOutsideSync';

/**
 * For a desired email with nothing pending:
 * | ledger entry                                   | verdict              |
 * |------------------------------------------------|----------------------|
 * | none, `intent` (the POST did not happen), `failed`, `revoked` | `invite` |
 * | `sent`, invited less than `settleMs` ago (Losant may not list it yet) | `invitedRecently` |
 * | `sent`, person has a newer HR event than the one we invited for, or `force` | `invite` |
 * | `sent`, otherwise (someone removed the invite by hand) | `removedOutsideSync` |
 * `personEventAt` is the person's lastEventAt; an entry without one counts as the epoch.
 */
export function unlistedVerdict(
  entry: LedgerEntry | undefined,
  personEventAt: string,
  now: number,
  opts: { settleMs: number; force?: boolean },
): UnlistedVerdict {
  if (entry === undefined || entry.state !== 'sent') return 'invite';
  if (now - Date.parse(entry.invitedAt ?? entry.updatedAt) < opts.settleMs) return 'invitedRecently';
  const answered = entry.personEventAt === undefined ? 0 : Date.parse(entry.personEventAt);
  if (opts.force || Date.parse(personEventAt) > answered) return 'invite';
  return 'removedOutsideSync';
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
 * `intent` → `sent` after an invite's POST; `sent` → `sent` after a resend (a `renew` counts one
 * more renewal, a `fixRole` does not). `invitedAt` is Losant's inviteDate, else the stamp's time.
 */
export function sentEntry(action: Action, prev: LedgerEntry | undefined, invite: AnsweredInvite, stamp: LedgerStamp): LedgerEntry {
  const invitedAt = invite.inviteDate || stamp.at;
  if (action.kind === 'invite') return next(action, prev, stamp, { state: 'sent', inviteId: invite.id, invitedAt });
  const renewals = (prev?.renewals ?? 0) + (action.kind === 'renew' ? 1 : 0);
  return next(action, prev, stamp, { state: 'sent', inviteId: invite.id, invitedAt, renewals });
}

/** `sent` → `revoked` once invite-sync revoked the invite. */
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
 * `intent` → `sent` for an intent whose invite Losant now lists: the run that wrote it crashed
 * after the POST and before recording the answer. Adopting it lets later renewals and revocations
 * know the invite is ours. Other states are left alone.
 * @returns the changed entries (also set in `ledger`)
 */
export function adoptListedInvites(ledger: Map<string, LedgerEntry>, newestByEmail: ReadonlyMap<string, AnsweredInvite>, at: string): LedgerEntry[] {
  const adopted: LedgerEntry[] = [];
  for (const [email, entry] of ledger) {
    if (entry.state !== 'intent') continue;
    const inv = newestByEmail.get(email);
    if (!inv) continue;
    const fixed: LedgerEntry = { ...entry, state: 'sent', inviteId: inv.id, invitedAt: inv.inviteDate, updatedAt: at };
    ledger.set(email, fixed);
    adopted.push(fixed);
  }
  return adopted;
}
