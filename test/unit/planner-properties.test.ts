// unit (fast-check): planTarget invariants over random people, invites, members, ledgers and policies
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planTarget, type PlanInput } from '../../functions/sync/planner.ts';
import { hashPlan } from '../../functions/sync/plan-hash.ts';
import { desiredRoles } from '../../functions/sync/rules.ts';
import { ORG_ROLES, type Action, type LedgerEntry, type PendingInvite, type Plan, type Rule, type StoredPerson } from '../../functions/sync/types.ts';

const NOW = Date.parse('2024-06-01T12:00:00.000Z');
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const EMAILS = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io', 'e@x.io', 'f@x.io', 'g@x.io', 'h@x.io'];
const TIMES = [NOW - 40 * 24 * 60 * MIN, NOW - 9 * 24 * 60 * MIN, NOW - 60 * MIN, NOW - 5 * MIN, NOW];
const RULE_SETS: Rule[][] = [
  [{ when: {}, role: 'view' }],
  [{ when: { dept: 'eng' }, role: 'edit' }, { when: { dept: 'sales' }, role: 'skip' }, { when: {}, role: 'view' }],
  [{ when: { dept: ['eng', 'ops'] }, role: 'admin' }],
  [{ when: { email: '[a-d]*' }, role: 'collaborate' }, { when: { email: '*' }, role: 'none' }],
];

const email = fc.constantFrom(...EMAILS);
const time = fc.constantFrom(...TIMES).map(iso);
const role = fc.constantFrom(...ORG_ROLES);

const peopleArb = fc
  .uniqueArray(
    fc.record({
      email,
      source: fc.constantFrom('hr', 'crm'),
      id: fc.nat(3),
      status: fc.constantFrom('active', 'active', 'terminated'),
      leftSource: fc.boolean(),
      dept: fc.constantFrom('eng', 'sales', 'ops'),
      lastEventAt: time,
    }),
    { selector: (p) => `${p.source}/${p.email}/${p.id}`, maxLength: 12 },
  )
  .map((list) =>
    list.map((p): StoredPerson => ({
      email: p.email,
      identity: `${p.email}#${p.id}`,
      source: p.source,
      status: p.status as StoredPerson['status'],
      lastEventAt: p.lastEventAt,
      attributes: { dept: p.dept },
      ...(p.leftSource ? { leftSource: true } : {}),
    })),
  );

const pendingArb = fc
  .uniqueArray(fc.record({ n: fc.nat(10_000), email, role, inviteDate: time, hasExpired: fc.boolean() }), { selector: (p) => p.n, maxLength: 12 })
  .map((list) => list.map((p): PendingInvite => ({ id: p.n.toString(16).padStart(24, '0'), email: p.email, role: p.role, inviteDate: p.inviteDate, hasExpired: p.hasExpired })));

/** one ledger entry per email at most; its inviteId is one of that email's invites, or a stale one */
const inputArb = fc
  .record({
    people: peopleArb,
    pending: pendingArb,
    members: fc.uniqueArray(email, { maxLength: 4 }).map((l) => l.map((e) => ({ email: e, role: 'view' as const }))),
    ledgerSeed: fc.array(
      fc.record({ pick: fc.nat(5), state: fc.constantFrom('intent', 'sent', 'sent', 'failed', 'revoked'), invitedAt: time, renewals: fc.nat(4), personEventAt: fc.option(time, { nil: undefined }) }),
      { minLength: EMAILS.length, maxLength: EMAILS.length },
    ),
    policy: fc.record({ renewExpired: fc.boolean(), maxRenewals: fc.nat(3), revokeLeft: fc.boolean(), fixRole: fc.boolean(), adoptExpired: fc.boolean(), manageAdopted: fc.boolean() }),
    rules: fc.constantFrom(...RULE_SETS),
    force: fc.boolean(),
    settleMs: fc.constantFrom(undefined, 0, 10 * MIN, 24 * 60 * MIN),
  })
  .map(({ ledgerSeed, ...rest }): PlanInput => {
    const ledger: LedgerEntry[] = [];
    EMAILS.forEach((e, i) => {
      const seed = ledgerSeed[i]!;
      if (seed.pick === 0) return;
      const invites = rest.pending.filter((p) => p.email === e);
      const inviteId = invites[seed.pick % (invites.length + 1)]?.id ?? 'eeeeeeeeeeeeeeeeeeeeeeee';
      ledger.push({
        email: e, state: seed.state as LedgerEntry['state'], role: 'view', inviteId, updatedAt: seed.invitedAt, invitedAt: seed.invitedAt,
        renewals: seed.renewals, runId: 'r0', ...(seed.personEventAt ? { personEventAt: seed.personEventAt } : {}),
      });
    });
    return { ...rest, ledger, now: NOW };
  });

/** Applies a plan the way a successful applier and Losant would: the world after the run. */
function applyPlan(input: PlanInput, plan: Plan): PlanInput {
  const pending = input.pending.map((p) => ({ ...p }));
  const ledger = new Map(input.ledger.map((l) => [l.email, { ...l }]));
  // what the run writes without an action (claimed intents, members first seen, departures)
  for (const e of plan.remember ?? []) ledger.set(e.email, { ...e });
  let fresh = 0xf00000;
  for (const a of plan.actions) {
    const l = ledger.get(a.email);
    if (a.kind === 'invite') {
      const id = (fresh++).toString(16).padStart(24, '0');
      pending.push({ id, email: a.email, role: a.role, inviteDate: iso(input.now), hasExpired: false });
      ledger.set(a.email, { email: a.email, state: 'sent', role: a.role, inviteId: id, updatedAt: iso(input.now), invitedAt: iso(input.now), renewals: 0, runId: 'r1', ...(a.personEventAt ? { personEventAt: a.personEventAt } : {}) });
    } else if (a.kind === 'renew') {
      const inv = pending.find((p) => p.id === a.inviteId)!;
      Object.assign(inv, { hasExpired: false, inviteDate: iso(input.now), role: a.role });
      if (a.adopted) {
        ledger.set(a.email, { email: a.email, state: 'sent', role: a.role, inviteId: inv.id, updatedAt: iso(input.now), invitedAt: iso(input.now), renewals: 1, runId: 'r1', adopted: true });
      } else ledger.set(a.email, { ...l!, renewals: l!.renewals + 1, invitedAt: iso(input.now), updatedAt: iso(input.now), role: a.role });
    } else if (a.kind === 'fixRole') {
      pending.find((p) => p.id === a.inviteId)!.role = a.role;
      ledger.set(a.email, { ...l!, role: a.role, updatedAt: iso(input.now) });
    } else {
      pending.splice(pending.findIndex((p) => p.id === a.inviteId), 1);
      ledger.set(a.email, { ...l!, state: 'revoked', updatedAt: iso(input.now) });
    }
  }
  return { ...input, pending, ledger: [...ledger.values()] };
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('Function: planTarget (properties)', () => {
  it('returns no invite action for an email that is pending (expired or not) or a member', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        // Act
        const plan = planTarget(input);

        // Assert
        const taken = new Set([...input.pending.map((p) => p.email), ...input.members.map((m) => m.email)]);
        for (const a of plan.actions) if (a.kind === 'invite') expect(taken.has(a.email)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('returns only changes to invites invite-sync created (ledger sent with that inviteId, or claimed by an intent) and adopting renewals of expired ones', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planTarget(input);
        for (const a of plan.actions.filter((x) => x.kind !== 'invite')) {
          const l = plan.remember?.find((e) => e.email === a.email && e.state === 'sent') ?? input.ledger.find((e) => e.email === a.email);
          if (a.adopted) expect(a.kind === 'renew' && input.pending.find((p) => p.id === a.inviteId)?.hasExpired).toBe(true);
          else expect(l?.state === 'sent' && l.inviteId === a.inviteId).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('returns zero actions when planned again after its own plan was applied', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        // Arrange
        const first = planTarget(input);
        const after = applyPlan(input, first);

        // Act
        const second = planTarget(after);

        // Assert
        expect(second.actions).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('returns the same plan and hash whatever the order of its inputs', () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (input, seed) => {
        // Arrange
        const reordered: PlanInput = {
          ...input,
          people: shuffled(input.people, seed),
          pending: shuffled(input.pending, seed + 1),
          members: shuffled(input.members, seed + 2),
          ledger: shuffled(input.ledger, seed + 3),
        };

        // Act
        const a = planTarget(input);
        const b = planTarget(reordered);

        // Assert
        expect(b).toEqual(a);
        expect(hashPlan(shuffled(a.actions, seed))).toBe(a.hash);
      }),
      { numRuns: 300 },
    );
  });

  it('returns one action or one skip reason for every desired email, and notOurs for the rest', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        // Arrange
        const desired = desiredRoles(input.people, input.rules);
        const ledger = new Map(input.ledger.map((l) => [l.email, l]));

        // Act
        const plan = planTarget(input);

        // Assert (an intent may claim its invite: then it is ours, and managed, the arbitrary ledger adopts nothing)
        for (const e of plan.remember ?? []) if (e.state === 'sent') ledger.set(e.email, e);
        const ours = (p: PendingInvite) => ledger.get(p.email)?.state === 'sent' && ledger.get(p.email)?.inviteId === p.id;
        const notOursLeft = input.policy.revokeLeft ? input.pending.filter((p) => !desired.has(p.email) && !ours(p)).length : 0;        const forDesired = plan.actions.filter((a: Action) => a.kind !== 'revoke').length;
        const { alreadyMember, alreadyPending, invitedRecently, renewalsExhausted, removedOutsideSync, notOurs, settling, roleMismatch } = plan.skipped;
        expect(plan.desired).toBe(desired.size);
        // roleMismatch is a part of notOurs, not a reason of its own
        expect(roleMismatch).toBeLessThanOrEqual(notOurs);
        expect(forDesired + alreadyMember + alreadyPending + invitedRecently + renewalsExhausted + removedOutsideSync + notOurs + settling - notOursLeft).toBe(plan.desired);
      }),
      { numRuns: 300 },
    );
  });
});
