// test --> emulator fast collection answers (sorted lists kept incrementally, item JSON cached) vs the plain serializer
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ROUTE, ROLES, type InviteSortField, type ListQuery, type Role } from '../../emulator/contract.ts';
import { invitesBody, invitesBodyPlain } from '../../emulator/hal.ts';
import { EmulatorState, INVITE_LIFETIME_MS } from '../../emulator/state.ts';

const ID = '575ec8687ae143cd83dc4a97';
const DAY = 24 * 60 * 60 * 1000;
const START = 1_700_000_000_000;
/** upper-case instance/org ids in the request path: the answer lower-cases them */
const WHERE = { route: ROUTE.invites, instanceId: ID.toUpperCase(), orgId: ID } as const;

const emails = ['ann@example.com', 'ANN@example.com', 'bob@example.com', 'b*b@x.com', 'zoë@example.com', 'a"q\\@x.com', 'carl+hr@example.org'];

type Op =
  | { kind: 'create'; email: number; role: Role; ageDays: number | undefined; hasExpired: boolean | undefined; roles: boolean }
  | { kind: 'resend'; pick: number; role: Role | undefined }
  | { kind: 'delete'; pick: number }
  | { kind: 'accept' | 'revoke'; email: number }
  | { kind: 'tick'; ms: number };

const role = fc.constantFrom(...ROLES);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('create' as const), email: fc.nat(emails.length - 1), role, ageDays: fc.option(fc.integer({ min: -1, max: 9 }), { nil: undefined }), hasExpired: fc.option(fc.boolean(), { nil: undefined }), roles: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resend' as const), pick: fc.nat(), role: fc.option(role, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('accept' as const, 'revoke' as const), email: fc.nat(emails.length - 1) }) },
  // 0: the same clock reading twice (the answer cache); a week: invites run out
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 }), fc.constant(INVITE_LIFETIME_MS)) }) },
);

const query: fc.Arbitrary<ListQuery<InviteSortField>> = fc
  .record({
    sortField: fc.constantFrom<InviteSortField>('email', 'role', 'inviteDate'),
    sortDirection: fc.constantFrom('asc' as const, 'desc' as const),
    filterField: fc.option(fc.constantFrom('email' as const, 'role' as const), { nil: undefined }),
    filter: fc.option(fc.constantFrom('ann@example.com', 'ANN@EXAMPLE.COM', '*@example.com', 'b*', '*', 'view', 'ADMIN', 'zoë@example.com', 'nobody@x.com', 'a"q\\@x.com'), { nil: undefined }),
  })
  .map((q) => {
    const out: ListQuery<InviteSortField> = { sortField: q.sortField, sortDirection: q.sortDirection };
    if (q.filterField !== undefined) out.filterField = q.filterField;
    if (q.filter !== undefined) out.filter = q.filter;
    return out;
  });

function apply(state: EmulatorState, clock: { ms: number }, o: Op): void {
  const ids = state.listInvitesPlain(ID, ID, { sortField: 'inviteDate', sortDirection: 'asc' }).map((i) => i.id);
  switch (o.kind) {
    case 'create':
      state.createInvite(ID, ID, {
        email: emails[o.email]!,
        role: o.role,
        ...(o.ageDays === undefined ? {} : { inviteDateMs: clock.ms - o.ageDays * DAY }),
        ...(o.hasExpired === undefined ? {} : { hasExpired: o.hasExpired }),
        ...(o.roles ? { applicationRoles: [{ resourceId: 'app1', role: 'view' }] } : {}),
      });
      return;
    case 'resend':
      if (ids.length) state.resendInvite(ID, ID, ids[o.pick % ids.length]!, o.role === undefined ? {} : { role: o.role });
      return;
    case 'delete':
      if (ids.length) state.deleteInvite(ID, ID, ids[o.pick % ids.length]!);
      return;
    case 'accept':
    case 'revoke':
      if (!state.hasLiveInvite(ID, ID, emails[o.email]!) && !state.listInvitesPlain(ID, ID, { sortField: 'email', sortDirection: 'asc', filterField: 'email', filter: emails[o.email]! }).length) return;
      if (o.kind === 'accept') state.acceptInvite(ID, ID, emails[o.email]!);
      else state.revokeInviteByEmail(ID, ID, emails[o.email]!);
      return;
    case 'tick':
      clock.ms += o.ms;
  }
}

describe('Function: invitesBody', () => {
  it('answers byte for byte what the plain serializer answers, after any sequence of changes, for any query, with and without _links', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(fc.tuple(query, fc.boolean()), { minLength: 1, maxLength: 4 }), (ops, queries) => {
        const clock = { ms: START };
        const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
        for (const o of ops) {
          apply(state, clock, o);
          for (const [q, links] of queries) {
            const fast = invitesBody(state, WHERE, q, links).toString('utf8');
            expect(fast).toBe(invitesBodyPlain(state, WHERE, q, links));
            // asked again at the same clock reading: from the cache or the image, still the same
            expect(invitesBody(state, WHERE, q, links).toString('utf8')).toBe(fast);
            expect(state.listInvites(ID, ID, q)).toEqual(state.listInvitesPlain(ID, ID, q));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers a seeded org (dates out of order, ties of equal dates) like the plain serializer', () => {
    const clock = { ms: START };
    const seed = {
      instances: [{ id: ID, orgs: [{ id: ID, invites: [
        { email: 'c@example.com', role: 'view' as const, inviteDate: '2023-11-10T00:00:00.000Z' },
        { email: 'a@example.com', role: 'edit' as const, inviteDate: '2023-11-14T00:00:00.000Z' },
        { email: 'b@example.com', role: 'view' as const, inviteDate: '2023-11-10T00:00:00.000Z', hasExpired: true },
      ] }] }],
    };
    const state = new EmulatorState(seed, () => clock.ms);
    const q = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
    const body = invitesBody(state, WHERE, q, true).toString('utf8');
    expect(body).toBe(invitesBodyPlain(state, WHERE, q, true));
    const items = (JSON.parse(body) as { items: { email: string; hasExpired: boolean; _links: { self: { href: string } } }[] }).items;
    expect(items.map((i) => i.email)).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(items[1]?.hasExpired).toBe(true);
    expect(items[0]?._links.self.href).toMatch(new RegExp(`^/instances/${ID}/orgs/${ID}/invites/[0-9a-f]{24}$`));
  });

  it('moves with the clock: the same state a millisecond later answers a smaller ttl', () => {
    const clock = { ms: START };
    const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
    state.createInvite(ID, ID, { email: 'ann@example.com', role: 'view' });
    const q = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
    const ttl = () => (JSON.parse(invitesBody(state, WHERE, q, false).toString('utf8')) as { items: { ttl: number }[] }).items[0]?.ttl;
    expect(ttl()).toBe(INVITE_LIFETIME_MS);
    clock.ms += 1;
    expect(ttl()).toBe(INVITE_LIFETIME_MS - 1);
  });

  it('turns an invite expired when its last milliseconds run out, though its ttl keeps one digit', () => {
    const clock = { ms: START };
    const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
    state.createInvite(ID, ID, { email: 'ann@example.com', role: 'view', inviteDateMs: START - INVITE_LIFETIME_MS + 5 });
    const q = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
    const item = () => (JSON.parse(invitesBody(state, WHERE, q, true).toString('utf8')) as { items: { ttl: number; hasExpired: boolean }[] }).items[0];
    expect(item()).toMatchObject({ ttl: 5, hasExpired: false });
    clock.ms += 5;
    expect(item()).toMatchObject({ ttl: 0, hasExpired: true });
    expect(invitesBody(state, WHERE, q, true).toString('utf8')).toBe(invitesBodyPlain(state, WHERE, q, true));
  });
});
