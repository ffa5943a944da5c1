// reconcile --> planTarget (people + rules, pending invites, members, ledger) --> Plan (pure, no I/O)
import type {
  Action, LedgerEntry, Member, PendingInvite, Plan, Policy, Rule, StoredPerson,
} from './types.ts';
import { emptySkipCounts } from './types.ts';
import { compileRules, newerPerson, roleIn } from './rules.ts';
import { hashPlan } from './plan-hash.ts';

/** How long an invite we sent is trusted to show up in Losant's list before we act again. */
export const DEFAULT_SETTLE_MS = 10 * 60 * 1000;

const EPOCH = Date.parse('1970-01-01T00:00:00Z');

export interface PlanInput {
  rules: Rule[];
  people: StoredPerson[];
  pending: PendingInvite[];
  members: Member[];
  ledger: LedgerEntry[];
  policy: Policy;
  /** epoch ms */
  now: number;
  /** invite people again whose invite was removed outside the sync (without a newer HR event) */
  force?: boolean;
  /** default DEFAULT_SETTLE_MS (10 min) */
  settleMs?: number;
}

/** a after b by inviteDate (ties: greater id), so the choice does not depend on list order */
function later(a: PendingInvite, b: PendingInvite): boolean {
  if (a.inviteDate !== b.inviteDate) {
    const ta = Date.parse(a.inviteDate);
    const tb = Date.parse(b.inviteDate);
    if (ta !== tb && !Number.isNaN(ta) && !Number.isNaN(tb)) return ta > tb;
    if (Number.isNaN(ta) !== Number.isNaN(tb)) return Number.isNaN(tb);
  }
  return a.id > b.id;
}

/** What the planner knows about one email. */
interface Slot {
  ledger: LedgerEntry | undefined;
  /** the unexpired invite that counts (ours first, then the newest) */
  live: PendingInvite | undefined;
  liveOurs: boolean;
  /** the newest expired invite */
  expired: PendingInvite | undefined;
  /** the invite the ledger says invite-sync sent, if it is listed */
  ours: PendingInvite | undefined;
  /** pending invites listed for the email */
  invites: number;
  member: boolean;
  /** the stored person who speaks for the email (latestPeople's choice) */
  person: StoredPerson | undefined;
}

function compareActions(a: Action, b: Action): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.email !== b.email) return a.email < b.email ? -1 : 1;
  const ia = a.inviteId ?? '';
  const ib = b.inviteId ?? '';
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/**
 * Works out what to change in one org so its invites match the desired people. Pure and
 * deterministic; emails are compared as given (adapters normalise them).
 *
 * For each desired email e (role r): a member → skipped; an unexpired pending invite → fixRole if
 * `policy.fixRole`, the role differs and the invite is ours, else skipped; only expired invites →
 * renew the newest if it is ours, `policy.renewExpired` and renewals are left; nothing pending →
 * invite, unless our last invite is younger than `settleMs` or was removed outside the sync with no
 * newer HR event since (`force` overrides the latter). Pending invites of emails no longer desired
 * are revoked when `policy.revokeLeft` and ours. "Ours" = the ledger says `sent` with that invite id.
 * Actions come sorted by (kind, email).
 * @example const plan = planTarget({ rules, people, pending, members, ledger, policy, now: Date.now() })
 */
export function planTarget(input: PlanInput): Plan {
  const { policy, now } = input;
  const settleMs = input.settleMs ?? DEFAULT_SETTLE_MS;
  const skipped = emptySkipCounts();
  const actions: Action[] = [];

  // One map, one slot per email, filled by one pass over each input list.
  const slots = new Map<string, Slot>();
  const slotOf = (email: string): Slot => {
    let slot = slots.get(email);
    if (slot === undefined) {
      slot = { ledger: undefined, live: undefined, liveOurs: false, expired: undefined, ours: undefined, invites: 0, member: false, person: undefined };
      slots.set(email, slot);
    }
    return slot;
  };

  for (const entry of input.ledger) slotOf(entry.email).ledger = entry;

  for (const inv of input.pending) {
    const slot = slotOf(inv.email);
    slot.invites++;
    const l = slot.ledger;
    const ours = l !== undefined && l.state === 'sent' && l.inviteId === inv.id;
    if (ours) slot.ours = inv;
    if (inv.hasExpired) {
      if (slot.expired === undefined || later(inv, slot.expired)) slot.expired = inv;
    } else if (slot.live === undefined || (ours !== slot.liveOurs ? ours : later(inv, slot.live))) {
      // the unexpired invite to look at: ours first, then the newest
      slot.live = inv;
      slot.liveOurs = ours;
    }
  }

  for (const m of input.members) slotOf(m.email).member = true;

  for (const p of input.people) {
    if (p.status === 'terminated' || p.leftSource) continue;
    const slot = slotOf(p.email);
    if (slot.person === undefined || newerPerson(p, slot.person)) slot.person = p;
  }

  const ruleSet = compileRules(input.rules);
  let desired = 0;
  let pending = 0;
  let members = 0;
  slots.forEach((slot, email) => {
    if (slot.invites > 0) pending++;
    if (slot.member) members++;
    const role = slot.person === undefined ? null : roleIn(slot.person, ruleSet);
    if (role === null) {
      // not desired: only invites invite-sync created are ever revoked
      if (slot.invites > 0 && policy.revokeLeft) {
        const ours = slot.ours;
        if (ours !== undefined) actions.push({ kind: 'revoke', email, role: ours.role, inviteId: ours.id });
        skipped.notOurs += slot.invites - (ours !== undefined ? 1 : 0);
      }
      return;
    }
    desired++;
    const personEventAt = slot.person!.lastEventAt;
    if (slot.member) {
      skipped.alreadyMember++;
      return;
    }
    const open = slot.live;
    if (open !== undefined) {
      if (policy.fixRole && open.role !== role && slot.liveOurs) {
        actions.push({ kind: 'fixRole', email, role, inviteId: open.id, personEventAt });
      } else skipped.alreadyPending++;
      return;
    }
    const l = slot.ledger;
    const old = slot.expired;
    if (old !== undefined) {
      if (slot.ours !== old) skipped.notOurs++;
      else if (!policy.renewExpired) skipped.alreadyPending++;
      else if (l!.renewals >= policy.maxRenewals) skipped.renewalsExhausted++;
      else actions.push({ kind: 'renew', email, role, inviteId: old.id, renewals: l!.renewals, personEventAt });
      return;
    }
    if (l === undefined || l.state !== 'sent') {
      // no record, or intent (a crashed run: the invite is not listed, so it was not created), failed, revoked
      actions.push({ kind: 'invite', email, role, personEventAt });
      return;
    }
    if (now - Date.parse(l.invitedAt ?? l.updatedAt) < settleMs) skipped.invitedRecently++;
    else if (input.force || Date.parse(personEventAt) > (l.personEventAt === undefined ? EPOCH : Date.parse(l.personEventAt))) {
      actions.push({ kind: 'invite', email, role, personEventAt });
    } else skipped.removedOutsideSync++;
  });

  actions.sort(compareActions);
  return { actions, skipped, desired, pending, members, hash: hashPlan(actions) };
}
