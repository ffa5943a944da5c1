// reconcile --> cutToSeats (plan + org's member limit + this run's lists) --> the plan that fits the free seats (pure)
//
// The one owner of the seat rule. Losant counts members plus unexpired pending invites against an
// org's `limits.member` and refuses invites past it; a plan that ignores the limit turns a hiring
// wave into a burst of failed POSTs. So the seats are handed out before apply:
//
//   free = limit − members − unexpired pending invites (this run's lists) − limits.reserveSeats
//
// Every invite, and every renewal (an expired invite does not count; renewing it takes a seat
// again), needs one free seat. Past the free seats, actions are cut from the plan and counted in
// skip key `noSeat` (not a brake: the rest of the plan goes ahead, the exit code is unchanged).
// Who gets a seat is deterministic: the earlier rule first (rule order of the target), then the
// earlier start date (`people.startDateField`, local midnight; a person without one after those
// with one), then the person whose newest HR event is older (`personEventAt`, i.e. occurredAt /
// lastEventAt), then email.
// Revocations and role fixes take no seat; revocations are not counted as freeing one for this
// run either (they run alongside the invites, so the seat may not be free yet when a POST lands).
import type { Action, Member, PendingInvite, Plan, Rule, StoredPerson, TargetSeats } from './types.ts';
import { compileRules, latestPeople, ruleIndexIn } from './rules.ts';
import { personDates, type DateSettings } from './dates.ts';
import { hashPlan } from './plan-hash.ts';

/** Actions that occupy a seat once done. */
const TAKES_SEAT: ReadonlySet<Action['kind']> = new Set(['invite', 'renew']);

/** True for an action that needs a free seat (invite, renew). */
export function takesSeat(action: Pick<Action, 'kind'>): boolean {
  return TAKES_SEAT.has(action.kind);
}

/**
 * Seats an org's current lists occupy: every member, and every pending invite that has not expired.
 * @example seatsUsed(members, pending) // 12
 */
export function seatsUsed(members: readonly Member[], pending: readonly PendingInvite[]): number {
  let live = 0;
  for (const inv of pending) if (!inv.hasExpired) live++;
  return members.length + live;
}

/**
 * Free seats for this run: limit − used − reserve, never below 0.
 * @example freeSeats({ limit: 10, used: 7, reserve: 1 }) // 2
 */
export function freeSeats(s: { limit: number; used: number; reserve: number }): number {
  return Math.max(0, s.limit - s.used - s.reserve);
}

/** What decides who gets a seat first. */
export interface SeatRank {
  /** 0-based index of the rule that gave the role (a person no rule matches: last) */
  rule: number;
  /** epoch ms of the person's start date (people.startDateField, local midnight); absent or unknown: after every known start */
  start?: number;
  /** epoch ms of the person's newest HR event (unknown: last) */
  at: number;
  email: string;
}

/** Earlier rule, then earlier start date, then older event, then email: negative when `a` gets a seat before `b`. */
export function compareSeatRank(a: SeatRank, b: SeatRank): number {
  if (a.rule !== b.rule) return a.rule - b.rule;
  const [sa, sb] = [a.start ?? Infinity, b.start ?? Infinity];
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.email < b.email ? -1 : a.email > b.email ? 1 : 0;
}

/**
 * Which of `requests` get one of `free` seats: the first `free` by compareSeatRank. Returns the
 * chosen indexes of `requests`.
 * @example allotSeats([{ rule: 1, at: 0, email: 'b@x' }, { rule: 0, at: 5, email: 'a@x' }], 1) // Set { 1 }
 */
export function allotSeats(requests: readonly SeatRank[], free: number): Set<number> {
  const order = requests.map((_, i) => i).sort((i, j) => compareSeatRank(requests[i]!, requests[j]!));
  return new Set(order.slice(0, Math.max(0, free)));
}

export interface SeatInput {
  plan: Plan;
  /** the org's `limits.member`; undefined: no limit (the plan is returned as it is) */
  memberLimit: number | undefined;
  /** config `limits.reserveSeats` (default 0): seats kept free for admins */
  reserveSeats?: number;
  /** this run's lists */
  members: readonly Member[];
  pending: readonly PendingInvite[];
  /** the people and rules the plan was made from: the rule order decides who gets a seat */
  people: readonly StoredPerson[];
  rules: readonly Rule[];
  /** the config's date settings (sync/dates.ts `dateSettings`): an earlier start date gets a seat first */
  dates?: DateSettings | undefined;
}

export interface SeatOutcome {
  plan: Plan;
  /** undefined when the org has no member limit */
  seats?: TargetSeats;
}

function eventMs(at: string | undefined): number {
  const ms = at === undefined ? NaN : Date.parse(at);
  return Number.isNaN(ms) ? Infinity : ms;
}

/**
 * Cuts the plan's invites and renewals to the org's free seats (see the rule above). Pure: the
 * input plan is not changed; the returned plan has the kept actions (in their order), `skipped.noSeat`
 * and, when the plan is explained, `skippedPeople.noSeat`, and its hash recomputed. Without a limit
 * the plan is returned unchanged and `seats` is undefined.
 * @example const { plan, seats } = cutToSeats({ plan: planTarget(input), memberLimit: 50, members, pending, people, rules })
 */
export function cutToSeats(input: SeatInput): SeatOutcome {
  const { plan, memberLimit: limit } = input;
  if (limit === undefined) return { plan };
  const reserve = input.reserveSeats ?? 0;
  const usedBefore = seatsUsed(input.members, input.pending);
  const free = freeSeats({ limit, used: usedBefore, reserve });
  const wanting: number[] = [];
  plan.actions.forEach((a, i) => {
    if (takesSeat(a)) wanting.push(i);
  });
  let actions = plan.actions;
  const cut: string[] = [];
  if (wanting.length > free) {
    // rule order needs the person behind each email: only computed when seats run short
    const speaking = latestPeople(input.people);
    const set = compileRules(input.rules);
    const ranks = wanting.map((i): SeatRank => {
      const a = plan.actions[i]!;
      const who = speaking.get(a.email);
      const r = who === undefined ? -1 : ruleIndexIn(who, set);
      const start = who && input.dates ? personDates(who, input.dates).startsAt : undefined;
      return { rule: r < 0 ? Number.MAX_SAFE_INTEGER : r, ...(start !== undefined ? { start } : {}), at: eventMs(a.personEventAt ?? who?.lastEventAt), email: a.email };
    });
    const chosen = allotSeats(ranks, free);
    const dropped = new Set<number>();
    wanting.forEach((actionIndex, k) => {
      if (!chosen.has(k)) dropped.add(actionIndex);
    });
    actions = plan.actions.filter((a, i) => {
      if (!dropped.has(i)) return true;
      cut.push(a.email);
      return false;
    });
  }
  const granted = wanting.length - cut.length;
  // revoked unexpired invites free their seat once the plan ran
  const live = new Set(input.pending.filter((p) => !p.hasExpired).map((p) => p.id));
  const freed = actions.filter((a) => a.kind === 'revoke' && a.inviteId !== undefined && live.has(a.inviteId)).length;
  const used = usedBefore + granted - freed;
  const seats: TargetSeats = { limit, reserve, used, free: freeSeats({ limit, used, reserve }), noSeat: cut.length };
  if (cut.length === 0) return { plan, seats };
  cut.sort();
  const skippedPeople = plan.skippedPeople ? { ...plan.skippedPeople, noSeat: [...plan.skippedPeople.noSeat, ...cut].sort() } : undefined;
  return {
    plan: {
      ...plan,
      actions,
      skipped: { ...plan.skipped, noSeat: plan.skipped.noSeat + cut.length },
      hash: hashPlan(actions),
      ...(skippedPeople ? { skippedPeople } : {}),
    },
    seats,
  };
}
