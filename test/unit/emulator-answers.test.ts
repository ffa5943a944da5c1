// test --> emulator fast collection answers (sorted lists kept incrementally, item JSON cached) vs the plain serializer
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ROUTE, ROLES, type InviteSortField, type ListQuery, type Role } from '../../emulator/contract.ts';
import { invitesBody, invitesBodyPlain } from '../../emulator/hal.ts';
import { EmulatorState, INVITE_LIFETIME_MS, type AnswerBody } from '../../emulator/state.ts';

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

/** The body's bytes as one string (its pieces in order), its length checked against them. */
function text(body: AnswerBody): string {
  const whole = Buffer.concat(body.chunks());
  expect(body.length).toBe(whole.length);
  return whole.toString('utf8');
}

/** Renders, reads and gives the body back at once. */
function answer(state: EmulatorState, q: ListQuery<InviteSortField>, links: boolean): string {
  const body = invitesBody(state, WHERE, q, links);
  const out = text(body);
  body.release();
  return out;
}

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
            const fast = answer(state, q, links);
            expect(fast).toBe(invitesBodyPlain(state, WHERE, q, links));
            // asked again at the same clock reading: from the cache or the image, still the same
            expect(answer(state, q, links)).toBe(fast);
            expect(state.listInvites(ID, ID, q)).toEqual(state.listInvitesPlain(ID, ID, q));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers with the state and clock of its effect however late it is made, and never changes an answer still being written', () => {
    // mostly what keeps an image alive (invites created now, the clock moving a little) and the lists such inserts extend
    const grows: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), email: fc.nat(emails.length - 1), role, ageDays: fc.constant(undefined), hasExpired: fc.constant(undefined), roles: fc.boolean() }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })) }) },
      { weight: 1, arbitrary: op },
    );
    const lists = fc.oneof(
      { weight: 4, arbitrary: fc.record({ sortField: fc.constant<InviteSortField>('inviteDate'), sortDirection: fc.constantFrom('asc' as const, 'desc' as const) }) },
      { weight: 1, arbitrary: query },
    );
    // each body is taken at its step, made (`chunks()`) `late` steps later, as an answer waiting out its latency is,
    // and then held unreleased `hold` more steps, as a socket still writing it would; `twice`: a second body at the
    // same step and clock reading (it may share the first one's bytes), with its own delays
    const timing = fc.record({ late: fc.nat(4), hold: fc.nat(6) });
    const step = fc.record({ op: grows, q: lists, links: fc.boolean(), first: timing, second: fc.option(timing, { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const clock = { ms: START };
        const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
        let open: { body: AnswerBody; expected: string; makeAt: number; releaseAt: number }[] = [];
        steps.forEach((s, n) => {
          apply(state, clock, s.op);
          const expected = invitesBodyPlain(state, WHERE, s.q, s.links);
          for (const t of s.second === undefined ? [s.first] : [s.first, s.second]) {
            const body = invitesBody(state, WHERE, s.q, s.links);
            expect(body.length).toBe(Buffer.byteLength(expected));
            open.push({ body, expected, makeAt: n + t.late, releaseAt: n + t.late + t.hold });
          }
          // made ones are read again every step: a copy lent out must not change under them
          for (const h of open) if (h.makeAt <= n) expect(text(h.body)).toBe(h.expected);
          for (const h of open) if (h.releaseAt <= n) h.body.release();
          open = open.filter((h) => h.releaseAt > n);
        });
        // the rest, made only now: long after they were taken
        for (const h of open) expect(text(h.body)).toBe(h.expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps up with many inserts at the head and the tail of one list (room regrown, copies made again), answers still exact', () => {
    const clock = { ms: START };
    const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
    const desc = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
    const asc = { sortField: 'inviteDate', sortDirection: 'asc' } as const;
    const held: { body: AnswerBody; expected: string }[] = [];
    for (let i = 0; i < 400; i++) {
      // new invites sort first in `desc` (head) and last in `asc` (tail); every 7th is backdated to the far end
      const backdated = i % 7 === 3;
      state.createInvite(ID, ID, { email: `p${i}@example.com`, role: 'view', ...(backdated ? { inviteDateMs: START - DAY - i } : {}) });
      clock.ms += i % 3;
      for (const q of [desc, asc]) {
        const body = invitesBody(state, WHERE, q, i % 2 === 0);
        const expected = invitesBodyPlain(state, WHERE, q, i % 2 === 0);
        expect(text(body)).toBe(expected);
        if (i % 5 === 0) held.push({ body, expected });
        else body.release();
      }
    }
    for (const h of held) expect(text(h.body)).toBe(h.expected);
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
    const body = answer(state, q, true);
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
    const ttl = () => (JSON.parse(answer(state, q, false)) as { items: { ttl: number }[] }).items[0]?.ttl;
    expect(ttl()).toBe(INVITE_LIFETIME_MS);
    clock.ms += 1;
    expect(ttl()).toBe(INVITE_LIFETIME_MS - 1);
  });

  it('writes a ttl that just lost a digit (1000 → 999 ms, 10 → 9) without a leading zero, and keeps the others exact', () => {
    const clock = { ms: START };
    const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
    state.createInvite(ID, ID, { email: 'ann@example.com', role: 'view', inviteDateMs: START - INVITE_LIFETIME_MS + 1000 });
    state.createInvite(ID, ID, { email: 'bob@example.com', role: 'view', inviteDateMs: START - INVITE_LIFETIME_MS + 10 });
    state.createInvite(ID, ID, { email: 'carl@example.com', role: 'view' });
    const q = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
    const ttls = () => (JSON.parse(answer(state, q, true)) as { items: { ttl: number }[] }).items.map((i) => i.ttl);
    expect(ttls()).toEqual([INVITE_LIFETIME_MS, 1000, 10]);
    clock.ms += 1;
    expect(answer(state, q, true)).toBe(invitesBodyPlain(state, WHERE, q, true));
    expect(ttls()).toEqual([INVITE_LIFETIME_MS - 1, 999, 9]);
  });

  it('follows a clock that goes back: a ttl that gains a digit (999 → 1000 ms) is written in full', () => {
    const clock = { ms: START };
    const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
    const q = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
    state.createInvite(ID, ID, { email: 'ann@example.com', role: 'view', inviteDateMs: START - DAY });
    expect(answer(state, q, true)).toBe(invitesBodyPlain(state, WHERE, q, true));
    clock.ms += 5;
    state.createInvite(ID, ID, { email: 'bob@example.com', role: 'view', inviteDateMs: clock.ms - INVITE_LIFETIME_MS + 999 });
    expect(answer(state, q, true)).toBe(invitesBodyPlain(state, WHERE, q, true));
    clock.ms -= 1;
    expect(answer(state, q, true)).toBe(invitesBodyPlain(state, WHERE, q, true));
    expect((JSON.parse(answer(state, q, true)) as { items: { email: string; ttl: number }[] }).items.find((i) => i.email === 'bob@example.com')?.ttl).toBe(1000);
  });

  it('turns an invite expired when its last milliseconds run out, though its ttl keeps one digit', () => {
    const clock = { ms: START };
    const state = new EmulatorState({ instances: [{ id: ID, orgs: [{ id: ID }] }] }, () => clock.ms);
    state.createInvite(ID, ID, { email: 'ann@example.com', role: 'view', inviteDateMs: START - INVITE_LIFETIME_MS + 5 });
    const q = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
    const item = () => (JSON.parse(answer(state, q, true)) as { items: { ttl: number; hasExpired: boolean }[] }).items[0];
    expect(item()).toMatchObject({ ttl: 5, hasExpired: false });
    clock.ms += 5;
    expect(item()).toMatchObject({ ttl: 0, hasExpired: true });
    expect(answer(state, q, true)).toBe(invitesBodyPlain(state, WHERE, q, true));
  });
});
