// reconcile --> planTarget (people + rules, pending invites, members, ledger, run ends) --> Plan (pure, no I/O)
import type {
  Action, LedgerEntry, Member, OrgRole, PendingInvite, Plan, Policy, Rule, StoredPerson,
} from './types.ts';
import { emptySkipCounts, SKIP_REASONS, type RevokeReason, type SkipReason } from './types.ts';
import { compileRules, ruleIndexIn } from './rules.ts';
import { speakersBySlot } from './people.ts';
import { hashPlan } from './plan-hash.ts';
import { isNewerInvite } from './invites.ts';
import {
  claimedEntry, claimedInvite, intentStatus, isManaged, learntEntry, ourInviteId, unlistedVerdict,
  type IntentClock, type IntentStatus, type LedgerStamp, type SeenEmail,
} from './ledger.ts';
import { SETTLE_MS, type RunEnds } from './ownership.ts';
import { planRemovals, type Leaver, type OwnUser } from './offboard.ts';

/** How long an invite we sent is trusted to show up in Losant's list before we act again: ownership.ts SETTLE_SECONDS. */
export const DEFAULT_SETTLE_MS = SETTLE_MS;
/** The lease length a run's end is estimated with when PlanInput.leaseSeconds is not given (the config default). */
const DEFAULT_LEASE_SECONDS = 120;

export interface PlanInput {
  rules: Rule[];
  people: StoredPerson[];
  pending: PendingInvite[];
  members: Member[];
  ledger: LedgerEntry[];
  policy: Policy;
  /** epoch ms */
  now: number;
  /** invite people again whose invite or membership was removed outside the sync (without a re-hire) */
  force?: boolean;
  /** default DEFAULT_SETTLE_MS (SETTLE_SECONDS) */
  settleMs?: number;
  /** when the runs behind the ledger's intents ended (ownership.ts loadRunEnds) */
  runEnds?: RunEnds;
  /** the config's leaseSeconds (a run missing from runEnds ends this long after its newest intent); default 120 */
  leaseSeconds?: number;
  /** who the entries in `plan.remember` are written by; default run `plan` at `now` */
  stamp?: LedgerStamp;
  /** also say why: actions carry `rule`, `fromRole`, `reason`; the plan lists `skippedPeople` (the CLI's view) */
  explain?: boolean;
  /** policy.removeLeftMembers: the token's own Losant user (GET /me); absent or `unknown`: nobody is removed (offboard.ts) */
  ownUser?: OwnUser;
}

function compareActions(a: Action, b: Action): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.email !== b.email) return a.email < b.email ? -1 : 1;
  const ia = a.inviteId ?? '';
  const ib = b.inviteId ?? '';
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/** What planTarget knows about one email when it decides (one object, refilled per email). */
export interface EmailFacts {
  email: string;
  /** the role the rules give the person who speaks for the email; null: not desired */
  role: OrgRole | null;
  /** lastEventAt of that person (undefined when no active person speaks for the email: they departed) */
  personEventAt: string | undefined;
  member: boolean;
  /** the member's role (when `member`) */
  memberRole?: OrgRole;
  /** how many invites Losant lists for the email */
  invites: number;
  /** the listed invite the ledger says invite-sync created (ledger.ts `ourInviteId`, or one a claiming intent claims) */
  ours: PendingInvite | undefined;
  /** the unexpired invite that counts: ours if unexpired, else the newest unexpired */
  open: PendingInvite | undefined;
  /** the newest expired invite */
  expired: PendingInvite | undefined;
  /** the ledger entry (after a claim: the `sent` one) */
  entry: LedgerEntry | undefined;
  /** ledger.ts intentStatus when the entry is an intent */
  intent?: IntentStatus;
  /** explain only: the rule that decided the role, and why a revoke happens */
  rule?: Action['rule'];
  revokeReason?: RevokeReason;
}

/** Where decideEmail puts its answer. */
export interface PlanSink {
  actions: Action[];
  skip(reason: SkipReason, email: string, n?: number): void;
  /** a ledger entry to write without an action (plan.remember) */
  remember?(entry: LedgerEntry): void;
  /** set `fromRole` and `reason` on actions (the rule comes from the facts) */
  explain: boolean;
}

export interface DecideOptions {
  policy: Policy;
  now: number;
  settleMs: number;
  force: boolean;
  /** for plan.remember; default run `plan` at `now` */
  stamp?: LedgerStamp;
}

/**
 * The per-email decision of planTarget. The first matching row wins ("ours" = the ledger says
 * `sent` with that invite id, or a claiming intent claims it; "managed" = ours and not adopted,
 * or `policy.manageAdopted`; only managed invites are ever revoked or role-fixed):
 *
 * | desired | member | what Losant lists for the email    | condition                                      | outcome                    |
 * |---------|--------|------------------------------------|------------------------------------------------|----------------------------|
 * | no      | any    | nothing                            |                                                | nothing                    |
 * | no      | any    | invites                            | not `policy.revokeLeft`                        | nothing                    |
 * | no      | any    | invites                            | `policy.revokeLeft`                            | revoke a managed one; skip notOurs for each other one |
 * | yes     | yes    | anything                           |                                                | skip alreadyMember         |
 * | yes     | no     | anything                           | the entry is a `settling` intent (ledger.ts intentStatus) | skip settling   |
 * | yes     | no     | an unexpired invite (`open`)       | `policy.fixRole`, it is managed, its role differs | fixRole                 |
 * | yes     | no     | an unexpired invite                | not ours, its role differs                     | skip notOurs and roleMismatch |
 * | yes     | no     | an unexpired invite                | otherwise                                      | skip alreadyPending        |
 * | yes     | no     | expired invites only (the newest counts) | ours, not `policy.renewExpired`          | skip alreadyPending        |
 * | yes     | no     | expired invites only               | ours, renewals ≥ `policy.maxRenewals`          | skip renewalsExhausted     |
 * | yes     | no     | expired invites only               | ours, otherwise                                | renew                      |
 * | yes     | no     | expired invites only               | not ours, `adoptExpired` (default on), `renewExpired`, `maxRenewals` > 0 | renew, `adopted` |
 * | yes     | no     | expired invites only               | not ours, otherwise                            | skip notOurs               |
 * | yes     | no     | nothing                            | ledger.ts `unlistedVerdict`: invite            | invite                     |
 * | yes     | no     | nothing                            | `unlistedVerdict`: invitedRecently / removedOutsideSync | skip that reason  |
 *
 * A member who is not desired is also a removal candidate with `policy.removeLeftMembers`: planTarget
 * hands those to offboard.ts `planRemovals` (ours only, never the last admin or the token's own user).
 *
 * `unlistedVerdict` invites when there is no `sent` or `member` entry, holds off for `settleMs`
 * after our invite, and re-invites a person whose invite was revoked or membership removed by hand
 * only after a re-hire (`departedAt`) or with `force`. Without an action the ledger may learn
 * something (`sink.remember`, ledger.ts learntEntry): a member first seen, a departure, a return.
 * @example decideEmail(facts, { policy, now, settleMs: DEFAULT_SETTLE_MS, force: false }, sink)
 */
export function decideEmail(f: EmailFacts, opts: DecideOptions, out: PlanSink): void {
  const { email, role, ours, open, expired, rule, entry } = f;
  const { policy } = opts;
  const managed = ours !== undefined && isManaged(entry, policy.manageAdopted === true);
  if (role === null) {
    const revoke = f.invites > 0 && policy.revokeLeft && managed;
    if (!revoke) learn(f, opts, out);
    if (f.invites === 0 || !policy.revokeLeft) return;
    if (revoke) {
      const action: Action = { kind: 'revoke', email, role: ours!.role, inviteId: ours!.id };
      if (out.explain && f.revokeReason !== undefined) action.reason = f.revokeReason;
      if (rule !== undefined) action.rule = rule;
      out.actions.push(action);
    }
    out.skip('notOurs', email, f.invites - (revoke ? 1 : 0));
    return;
  }
  if (f.member) return skip(f, opts, out, 'alreadyMember');
  if (f.intent === 'settling') return skip(f, opts, out, 'settling');
  const personEventAt = f.personEventAt!;
  let action: Action;
  if (open !== undefined) {
    if (open.role !== role && policy.fixRole && open === ours && managed) {
      action = { kind: 'fixRole', email, role, inviteId: open.id, personEventAt };
      if (out.explain) action.fromRole = open.role;
    } else if (open.role !== role && open !== ours) {
      out.skip('roleMismatch', email);
      return skip(f, opts, out, 'notOurs');
    } else return skip(f, opts, out, 'alreadyPending');
  } else if (expired !== undefined) {
    if (ours === expired) {
      if (!policy.renewExpired) return skip(f, opts, out, 'alreadyPending');
      const renewals = entry!.renewals;
      if (renewals >= policy.maxRenewals) return skip(f, opts, out, 'renewalsExhausted');
      action = { kind: 'renew', email, role, inviteId: expired.id, renewals, personEventAt };
    } else if (policy.adoptExpired !== false && policy.renewExpired && policy.maxRenewals > 0) {
      action = { kind: 'renew', email, role, inviteId: expired.id, renewals: 0, personEventAt, adopted: true };
    } else return skip(f, opts, out, 'notOurs');
  } else {
    const verdict = unlistedVerdict(entry, opts.now, opts);
    if (verdict !== 'invite') return skip(f, opts, out, verdict);
    action = { kind: 'invite', email, role, personEventAt };
  }
  if (rule !== undefined) action.rule = rule;
  out.actions.push(action);
}

/** What learn hands learntEntry (refilled per call: learntEntry keeps nothing of it). */
const seen: SeenEmail = { member: undefined, personEventAt: undefined, desired: false };

/** decideEmail without an action: the ledger may learn something (ledger.ts learntEntry; usually nothing). */
function learn(f: EmailFacts, opts: DecideOptions, out: PlanSink): void {
  const { role } = f;
  seen.member = f.member ? (f.memberRole ?? role ?? 'view') : undefined;
  // absent and '' alike mean "no active person" (learntEntry tests for undefined)
  seen.personEventAt = f.personEventAt || undefined;
  seen.desired = role !== null;
  const learnt = learntEntry(f.email, f.entry, seen, opts.stamp ?? { runId: 'plan', at: new Date(opts.now).toISOString() });
  if (learnt !== undefined) out.remember?.(learnt);
}

function skip(f: EmailFacts, opts: DecideOptions, out: PlanSink, reason: SkipReason): void {
  learn(f, opts, out);
  out.skip(reason, f.email);
}

/**
 * Works out what to change in one org so its invites match the desired people. Pure and
 * deterministic; emails are compared as given (adapters normalise them).
 *
 * Every email that appears anywhere (people, pending invites, members, ledger) is decided once by
 * decideEmail (its TSDoc holds the decision table); the person who speaks for an email is chosen by
 * people.ts `speakersBySlot` (speakingPeople's rule over the planner's index), their role by the first matching rule. Actions come sorted by
 * (kind, email, invite id), so the plan hash does not depend on input order.
 * @example const plan = planTarget({ rules, people, pending, members, ledger, policy, now: Date.now() })
 */
export function planTarget(input: PlanInput): Plan {
  const { policy, now, pending: invites } = input;
  const settleMs = input.settleMs ?? DEFAULT_SETTLE_MS;
  const skipped = emptySkipCounts();
  const actions: Action[] = [];
  const explain = input.explain === true;
  const skippedPeople = explain ? (Object.fromEntries(SKIP_REASONS.map((r) => [r, [] as string[]])) as Record<SkipReason, string[]>) : undefined;
  const remembered: LedgerEntry[] = [];
  const sink: PlanSink = {
    actions,
    explain,
    skip(reason, email, n = 1) {
      skipped[reason] += n;
      if (skippedPeople !== undefined && n > 0) skippedPeople[reason].push(email);
    },
    remember: (entry) => void remembered.push(entry),
  };
  const ruleRefs: NonNullable<Action['rule']>[] | undefined = explain ? input.rules.map((r, i) => ({ index: i + 1, when: r.when })) : undefined;
  const stamp = input.stamp ?? { runId: 'plan', at: new Date(now).toISOString() };
  const decide: DecideOptions = { policy, now, settleMs, force: input.force === true, stamp };
  const clock: IntentClock = { now, leaseMs: (input.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000, ...(input.runEnds ? { ends: input.runEnds } : {}) };
  let ledgerSent = 0;
  /** members the rules no longer want (policy.removeLeftMembers: offboard.ts decides) */
  const leavers: Leaver[] | undefined = policy.removeLeftMembers === true ? [] : undefined;

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
  /** 1 at the positions of invites that are not their email's last (their email's slot is elsewhere) */
  let shadowed: Uint8Array | undefined;
  if (repeated !== undefined) {
    groups = new Map();
    shadowed = new Uint8Array(P);
    for (let i = 0; i < P; i++) {
      const inv = invites[i]!;
      if (!repeated.has(inv.email)) continue;
      const slot = index.get(inv.email)!;
      if (slot !== i) shadowed[i] = 1;
      const list = groups.get(slot);
      if (list === undefined) groups.set(slot, [inv]);
      else list.push(inv);
    }
  }

  const cap = P + input.ledger.length + input.members.length + input.people.length;
  const ledger = new Array<LedgerEntry | undefined>(cap);
  /** the stored person who speaks for the email (people.ts speakersBySlot) */
  const person = new Array<StoredPerson | undefined>(cap);
  /** the member, for emails that are members */
  const member = new Array<Member | undefined>(cap);
  /** the email of each slot from P on */
  const unlisted: string[] = [];
  const slotOf = (email: string): number => {
    let slot = index.get(email);
    if (slot === undefined) {
      slot = P + unlisted.length;
      unlisted.push(email);
      index.set(email, slot);
    }
    return slot;
  };

  const ledgerList = input.ledger;
  for (let i = 0; i < ledgerList.length; i++) ledger[slotOf(ledgerList[i]!.email)] = ledgerList[i];
  const memberList = input.members;
  for (let i = 0; i < memberList.length; i++) member[slotOf(memberList[i]!.email)] = memberList[i];
  // people.ts: the one rule for who speaks for an email, over this index's slots
  speakersBySlot(input.people, slotOf, person);

  const ruleSet = compileRules(input.rules);
  let desired = 0;
  let pending = 0;
  let members = 0;
  const facts: EmailFacts = { email: '', role: null, personEventAt: undefined, member: false, invites: 0, ours: undefined, open: undefined, expired: undefined, entry: undefined };
  const slots = P + unlisted.length;
  for (let slot = 0; slot < slots; slot++) {
    if (shadowed !== undefined && slot < P && shadowed[slot] === 1) continue;
    const email = slot < P ? invites[slot]!.email : unlisted[slot - P]!;
    let l = ledger[slot];
    // an intent: settling, abandoned, or claiming the invite dated inside its window (then it is `sent`)
    let intent: IntentStatus | undefined;
    if (l !== undefined && l.state === 'intent') {
      intent = intentStatus(l, clock);
      const claim = intent === 'claiming' && slot < P ? claimedInvite(l, groups?.get(slot) ?? [invites[slot]!], clock) : undefined;
      if (claim !== undefined) {
        l = claimedEntry(l, claim, stamp.at);
        remembered.push(l);
        intent = undefined;
      }
    }
    if (l !== undefined && l.state === 'sent') ledgerSent++;
    const sentId = ourInviteId(l);
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
    const m = member[slot];
    const isMember = m !== undefined;
    if (isMember) members++;

    const who = person[slot];
    const ruleAt = who === undefined ? -1 : ruleIndexIn(who, ruleSet);
    const role = ruleAt < 0 ? null : ruleSet.rules[ruleAt]!.role;
    if (role !== null) desired++;
    facts.email = email;
    facts.role = role;
    facts.personEventAt = who?.lastEventAt;
    facts.member = isMember;
    facts.memberRole = m?.role;
    facts.invites = count;
    facts.ours = ours;
    facts.open = open;
    facts.expired = old;
    facts.entry = l;
    facts.intent = intent;
    if (ruleRefs !== undefined) {
      facts.rule = ruleAt >= 0 ? ruleRefs[ruleAt] : undefined;
      facts.revokeReason = who === undefined ? 'leftRoster' : ruleAt < 0 ? 'noRule' : 'skipRule';
    }
    decideEmail(facts, decide, sink);
    if (leavers !== undefined && role === null && isMember) {
      leavers.push({ email, member: m, entry: l, ...(facts.revokeReason !== undefined ? { reason: facts.revokeReason } : {}), ...(facts.rule !== undefined ? { rule: facts.rule } : {}) });
    }
  }
  if (leavers !== undefined && leavers.length > 0) {
    const removal = planRemovals(leavers, input.members, policy, input.ownUser, explain);
    actions.push(...removal.actions);
    for (const reason of ['lastAdmin', 'ownUser', 'missingScope'] as const) for (const email of removal.skipped[reason]) sink.skip(reason, email);
  }

  actions.sort(compareActions);
  if (skippedPeople !== undefined) for (const r of SKIP_REASONS) skippedPeople[r].sort();
  remembered.sort((x, y) => (x.email < y.email ? -1 : x.email > y.email ? 1 : 0));
  return {
    actions, skipped, desired, pending, members, hash: hashPlan(actions), ledgerSent, remember: remembered,
    ...(skippedPeople !== undefined ? { skippedPeople } : {}),
  };
}
