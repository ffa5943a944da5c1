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
  const { policy, now, pending: invites } = input;
  const settleMs = input.settleMs ?? DEFAULT_SETTLE_MS;
  const skipped = emptySkipCounts();
  const actions: Action[] = [];

  // One index, email → slot. An email with invites gets the position of its last invite in
  // `invites` as its slot (so the common single invite needs no per-email record); other emails
  // get slots from P upwards. What else is known per slot lives in flat arrays.
  const P = invites.length;
  const index = new Map<string, number>();
  /** emails with more than one invite (rare) */
  let repeated: Set<string> | undefined;
  for (let i = 0; i < P; i++) {
    const size = index.size;
    index.set(invites[i]!.email, i);
    if (index.size === size) (repeated ??= new Set()).add(invites[i]!.email);
  }
  /** every invite of an email that has more than one (rare) */
  let groups: Map<number, PendingInvite[]> | undefined;
  if (repeated !== undefined) {
    groups = new Map();
    for (const inv of invites) {
      if (!repeated.has(inv.email)) continue;
      const slot = index.get(inv.email)!;
      const list = groups.get(slot);
      if (list === undefined) groups.set(slot, [inv]);
      else list.push(inv);
    }
  }

  const cap = P + input.ledger.length + input.members.length + input.people.length;
  const ledger = new Array<LedgerEntry | undefined>(cap);
  /** the stored person who speaks for the email (latestPeople's choice) */
  const person = new Array<StoredPerson | undefined>(cap);
  const member = new Uint8Array(cap);
  let next = P;
  const slotOf = (email: string): number => {
    let slot = index.get(email);
    if (slot === undefined) {
      slot = next++;
      index.set(email, slot);
    }
    return slot;
  };

  for (const entry of input.ledger) ledger[slotOf(entry.email)] = entry;
  for (const m of input.members) member[slotOf(m.email)] = 1;
  for (const p of input.people) {
    if (p.status === 'terminated' || p.leftSource) continue;
    const slot = slotOf(p.email);
    const prev = person[slot];
    if (prev === undefined || newerPerson(p, prev)) person[slot] = p;
  }

  const ruleSet = compileRules(input.rules);
  let desired = 0;
  let pending = 0;
  let members = 0;
  index.forEach((slot, email) => {
    const l = ledger[slot];
    const sentId = l !== undefined && l.state === 'sent' ? l.inviteId : undefined;
    // the invites of this email: count, ours, the unexpired one that counts (ours first, then the newest), the newest expired
    let count = 0;
    let ours: PendingInvite | undefined;
    let open: PendingInvite | undefined;
    let old: PendingInvite | undefined;
    if (slot < P) {
      const list = groups?.get(slot);
      if (list === undefined) {
        const inv = invites[slot]!;
        count = 1;
        if (sentId !== undefined && inv.id === sentId) ours = inv;
        if (inv.hasExpired) old = inv;
        else open = inv;
      } else {
        count = list.length;
        for (const inv of list) {
          if (sentId !== undefined && inv.id === sentId) ours = inv;
          if (inv.hasExpired) {
            if (old === undefined || later(inv, old)) old = inv;
          } else if (open === undefined || later(inv, open)) open = inv;
        }
        if (ours !== undefined && !ours.hasExpired) open = ours;
      }
      pending++;
    }
    const isMember = member[slot] === 1;
    if (isMember) members++;

    const who = person[slot];
    const role = who === undefined ? null : roleIn(who, ruleSet);
    if (role === null) {
      // not desired: only invites invite-sync created are ever revoked
      if (count > 0 && policy.revokeLeft) {
        if (ours !== undefined) actions.push({ kind: 'revoke', email, role: ours.role, inviteId: ours.id });
        skipped.notOurs += count - (ours !== undefined ? 1 : 0);
      }
      return;
    }
    desired++;
    const personEventAt = who!.lastEventAt;
    if (isMember) {
      skipped.alreadyMember++;
      return;
    }
    if (open !== undefined) {
      if (policy.fixRole && open.role !== role && open === ours) {
        actions.push({ kind: 'fixRole', email, role, inviteId: open.id, personEventAt });
      } else skipped.alreadyPending++;
      return;
    }
    if (old !== undefined) {
      if (ours !== old) skipped.notOurs++;
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
