// reconcile --> planTarget (people + rules, pending invites, members, ledger) --> Plan (pure, no I/O)
import type {
  Action, LedgerEntry, Member, PendingInvite, Plan, Policy, Rule, StoredPerson,
} from './types.ts';
import { emptySkipCounts, SKIP_REASONS, type RevokeReason, type SkipReason } from './types.ts';
import { compileRules, newerPerson, ruleIndexIn } from './rules.ts';
import { hashPlan } from './plan-hash.ts';
import { isNewerInvite } from './invites.ts';

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
  /** also say why: actions carry `rule`, `fromRole`, `reason`; the plan lists `skippedPeople` (the CLI's view) */
  explain?: boolean;
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
  const explain = input.explain === true;
  const skippedPeople = explain ? (Object.fromEntries(SKIP_REASONS.map((r) => [r, [] as string[]])) as Record<SkipReason, string[]>) : undefined;
  const skip = (reason: SkipReason, email: string, n = 1): void => {
    skipped[reason] += n;
    if (skippedPeople !== undefined && n > 0) skippedPeople[reason].push(email);
  };
  const ruleRefs: NonNullable<Action['rule']>[] | undefined = explain ? input.rules.map((r, i) => ({ index: i + 1, when: r.when })) : undefined;
  const said = (a: Action, rule: Action['rule']): Action => {
    if (rule !== undefined) a.rule = rule;
    return a;
  };

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
            if (old === undefined || isNewerInvite(inv, old)) old = inv;
          } else if (open === undefined || isNewerInvite(inv, open)) open = inv;
        }
        if (ours !== undefined && !ours.hasExpired) open = ours;
      }
      pending++;
    }
    const isMember = member[slot] === 1;
    if (isMember) members++;

    const who = person[slot];
    const ruleAt = who === undefined ? -1 : ruleIndexIn(who, ruleSet);
    const role = ruleAt < 0 ? null : ruleSet.rules[ruleAt]!.role;
    const rule = ruleRefs !== undefined && ruleAt >= 0 ? ruleRefs[ruleAt] : undefined;
    if (role === null) {
      // not desired: only invites invite-sync created are ever revoked
      if (count > 0 && policy.revokeLeft) {
        if (ours !== undefined) {
          const revoke: Action = { kind: 'revoke', email, role: ours.role, inviteId: ours.id };
          if (explain) {
            const reason: RevokeReason = who === undefined ? 'leftRoster' : ruleAt < 0 ? 'noRule' : 'skipRule';
            revoke.reason = reason;
            said(revoke, rule);
          }
          actions.push(revoke);
        }
        skip('notOurs', email, count - (ours !== undefined ? 1 : 0));
      }
      return;
    }
    desired++;
    const personEventAt = who!.lastEventAt;
    if (isMember) {
      skip('alreadyMember', email);
      return;
    }
    if (open !== undefined) {
      if (policy.fixRole && open.role !== role && open === ours) {
        const fix: Action = { kind: 'fixRole', email, role, inviteId: open.id, personEventAt };
        if (explain) fix.fromRole = open.role;
        actions.push(said(fix, rule));
      } else skip('alreadyPending', email);
      return;
    }
    if (old !== undefined) {
      if (ours !== old) skip('notOurs', email);
      else if (!policy.renewExpired) skip('alreadyPending', email);
      else if (l!.renewals >= policy.maxRenewals) skip('renewalsExhausted', email);
      else actions.push(said({ kind: 'renew', email, role, inviteId: old.id, renewals: l!.renewals, personEventAt }, rule));
      return;
    }
    if (l === undefined || l.state !== 'sent') {
      // no record, or intent (a crashed run: the invite is not listed, so it was not created), failed, revoked
      actions.push(said({ kind: 'invite', email, role, personEventAt }, rule));
      return;
    }
    if (now - Date.parse(l.invitedAt ?? l.updatedAt) < settleMs) skip('invitedRecently', email);
    else if (input.force || Date.parse(personEventAt) > (l.personEventAt === undefined ? EPOCH : Date.parse(l.personEventAt))) {
      actions.push(said({ kind: 'invite', email, role, personEventAt }, rule));
    } else skip('removedOutsideSync', email);
  });

  actions.sort(compareActions);
  if (skippedPeople !== undefined) for (const r of SKIP_REASONS) skippedPeople[r].sort();
  return { actions, skipped, desired, pending, members, hash: hashPlan(actions), ...(skippedPeople !== undefined ? { skippedPeople } : {}) };
}
