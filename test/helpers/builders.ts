// tests --> builders --> domain values (people, invites, ledger entries) with plain defaults, overridable field by field
//
// Dates are never today's: every builder takes its times from the caller or from `at` (epoch ms),
// so a test reads the same whatever the clock says.
import type { Action, LedgerEntry, Member, PendingInvite, Person, StoredPerson } from '../../functions/sync/types.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** ISO form of epoch ms. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A 24-hex id from a number (ids sort as the numbers do). */
export const hexId = (n: number): string => n.toString(16).padStart(24, '0');

/**
 * A person as HR sends them: active, department Engineering.
 * @example person({ email: 'ada@example.com', attributes: { department: 'Sales' } })
 */
export function person(over: Partial<Person> = {}): Person {
  return { email: 'jane@example.com', status: 'active', attributes: { department: 'Engineering' }, ...over };
}

/**
 * A stored person of source `hr` (identity from the email) whose last HR event was at `lastEventAt`.
 * @example storedPerson('ada@example.com', { lastEventAt: iso(now - DAY) })
 */
export function storedPerson(email: string, over: Partial<StoredPerson> & { lastEventAt: string }): StoredPerson {
  return { email, identity: `email:${email}`, source: 'hr', status: 'active', attributes: { department: 'Engineering' }, ...over };
}

let nextInvite = 0x100;

/**
 * A pending, unexpired `edit` invite sent at `inviteDate`; ids count up from 0x100 per test file.
 * @example pendingInvite('ada@example.com', { inviteDate: iso(now - DAY), hasExpired: true })
 */
export function pendingInvite(email: string, over: Partial<PendingInvite> & { inviteDate: string }): PendingInvite {
  return { id: hexId(nextInvite++), email, role: 'edit', hasExpired: false, ...over };
}

/** An accepted `edit` member. */
export function member(email: string, over: Partial<Member> = {}): Member {
  return { email, role: 'edit', ...over };
}

/**
 * The `sent` ledger entry invite-sync keeps for an invite it created (run `run-1`, no renewals).
 * @example sentEntry(inv, { personEventAt: iso(now - 30 * DAY) })
 */
export function sentEntry(inv: PendingInvite, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    email: inv.email,
    state: 'sent',
    role: inv.role,
    inviteId: inv.id,
    updatedAt: inv.inviteDate,
    invitedAt: inv.inviteDate,
    renewals: 0,
    runId: 'run-1',
    ...over,
  };
}

/**
 * A ledger entry in any state for an email, last changed at `updatedAt`.
 * @example ledgerEntry('ada@example.com', { state: 'intent', updatedAt: iso(now) })
 */
export function ledgerEntry(email: string, over: Partial<LedgerEntry> & Pick<LedgerEntry, 'state' | 'updatedAt'>): LedgerEntry {
  return { email, role: 'edit', renewals: 0, runId: 'run-1', ...over };
}

/** An action of the plan (an invite unless `kind` says otherwise). */
export function action(email: string, over: Partial<Action> = {}): Action {
  return { kind: 'invite', email, role: 'edit', ...over };
}
