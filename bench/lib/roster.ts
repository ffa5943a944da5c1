// bench scenarios --> roster: deterministic people, pending invites, members and ledger entries
import type { LedgerEntry, Member, PendingInvite, Person, Policy, Rule, StoredPerson } from '../../functions/sync/types.ts';

/** The clock every generated record is relative to (epoch ms). */
export const BENCH_NOW = Date.parse('2025-06-02T12:00:00.000Z');
const DAY = 86_400_000;

/** The rules of every bench target: three matching rules and a catch-all, as a small company writes them. */
export const BENCH_RULES: Rule[] = [
  { when: { title: '*Manager*' }, role: 'admin' },
  { when: { department: 'Engineering' }, role: 'edit' },
  { when: { department: ['Sales', 'Support*'] }, role: 'view' },
  { when: {}, role: 'collaborate' },
];

/** The sync config's default policy. */
export const BENCH_POLICY: Policy = { renewExpired: true, maxRenewals: 3, revokeLeft: false, fixRole: false };

const DEPARTMENTS = ['Engineering', 'Sales', 'Support EMEA', 'Finance', 'Operations'] as const;
const TITLES = ['Engineer', 'Account Manager', 'Analyst', 'Specialist', 'Director'] as const;

/** `${prefix}${i}@example.com`: every call builds a new string, as a JSON parse of another source would. */
export const emailOf = (i: number, prefix = 'person'): string => `${prefix}${i}@example.com`;

/** A 24-hex invite id derived from a number. */
export const inviteIdOf = (i: number): string => i.toString(16).padStart(24, '0');

/** The attributes HR sends for person i. */
export function attributesOf(i: number): Record<string, string> {
  return { department: DEPARTMENTS[i % DEPARTMENTS.length]!, title: TITLES[(i >> 3) % TITLES.length]!, location: i % 3 === 0 ? 'Berlin' : 'Austin' };
}

/** People as HR sends them (for StateStore.replaceSource). */
export function people(count: number, prefix = 'person'): Person[] {
  return Array.from({ length: count }, (_, i) => ({ email: emailOf(i, prefix), status: 'active' as const, employeeId: `E${i}`, attributes: attributesOf(i) }));
}

/** People as the state store returns them. */
export function storedPeople(count: number, prefix = 'person', lastEventAt = new Date(BENCH_NOW - 30 * DAY).toISOString()): StoredPerson[] {
  return Array.from({ length: count }, (_, i) => ({
    email: emailOf(i, prefix),
    employeeId: `E${i}`,
    identity: `E${i}`,
    status: 'active' as const,
    attributes: attributesOf(i),
    source: 'default',
    lastEventAt,
  }));
}

export interface PlannerInputs {
  people: StoredPerson[];
  pending: PendingInvite[];
  members: Member[];
  ledger: LedgerEntry[];
}

export interface PlannerShape {
  people: number;
  pending: number;
  members: number;
  /** people (from the front of the roster) that have a pending invite; the rest of `pending` are former staff */
  peoplePending: number;
  /** people after those that are members; the rest of `members` are outside the roster */
  peopleMembers: number;
  /** every n-th pending invite has expired */
  expiredEvery: number;
}

/** Scenario 1: 100 000 people, 80 000 pending, 20 000 members, half the people covered, 5 % expired. */
export const PLANNER_SHAPE: PlannerShape = { people: 100_000, pending: 80_000, members: 20_000, peoplePending: 40_000, peopleMembers: 10_000, expiredEvery: 20 };

/**
 * The four inputs of the planner: people, pending invites (a ledger entry `sent` for each), members.
 * Strings of different lists are distinct objects (as after parsing separate API answers).
 * @example const { people, pending, members, ledger } = plannerInputs(PLANNER_SHAPE);
 */
export function plannerInputs(shape: PlannerShape): PlannerInputs {
  const peopleList = storedPeople(shape.people);
  const pending: PendingInvite[] = new Array<PendingInvite>(shape.pending);
  const ledger: LedgerEntry[] = new Array<LedgerEntry>(shape.pending);
  for (let i = 0; i < shape.pending; i++) {
    const expired = i % shape.expiredEvery === 0;
    const inviteDate = new Date(BENCH_NOW - (expired ? 9 : 2) * DAY - i * 1000).toISOString();
    const email = i < shape.peoplePending ? emailOf(i) : emailOf(i - shape.peoplePending, 'former');
    const id = inviteIdOf(i + 1);
    pending[i] = { id, email, role: 'view', inviteDate, hasExpired: expired, ttl: expired ? 0 : 5 * DAY };
    ledger[i] = {
      email: i < shape.peoplePending ? emailOf(i) : emailOf(i - shape.peoplePending, 'former'),
      state: 'sent',
      role: 'view',
      inviteId: inviteIdOf(i + 1),
      updatedAt: inviteDate,
      invitedAt: inviteDate,
      renewals: 0,
      runId: 'r-bench',
      personEventAt: new Date(BENCH_NOW - 40 * DAY).toISOString(),
    };
  }
  const members: Member[] = new Array<Member>(shape.members);
  for (let i = 0; i < shape.members; i++) {
    const email = i < shape.peopleMembers ? emailOf(shape.peoplePending + i) : emailOf(i - shape.peopleMembers, 'guest');
    members[i] = { email, role: 'view', userId: inviteIdOf(1_000_000 + i) };
  }
  return { people: peopleList, pending, members, ledger };
}

/** A 24-hex org id per number (bench orgs are seeded into one emulator, one per repetition). */
export const orgIdOf = (i: number): string => `b${i.toString(16).padStart(23, '0')}`;
