// test --> emulator over real HTTP --> answer shape: Losant's `_type` / `_links` by default, plain on request; collection bytes vs the plain serializer
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ROLES, ROUTE, type Role } from '../../emulator/contract.ts';
import { collectionJsonPlain } from '../../emulator/hal.ts';
import { DEFAULT_ID, DEFAULT_TOKEN, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { expectValid } from '../helpers/schemas.ts';

const ORG_PATH = `/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}`;
const SEED = {
  orgs: [{ id: DEFAULT_ID, invites: [{ email: 'ann@example.com', role: 'view' as const }], members: [{ email: 'bo@example.com', role: 'edit' as const }] }],
};

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function answers(plainAnswers: boolean): Promise<Record<string, Record<string, unknown>>> {
  emu = await startEmulator({ seed: { instances: [{ id: DEFAULT_ID, ...SEED }] }, plainAnswers });
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emu!.url}${ORG_PATH}${path}`, {
      method,
      headers: { authorization: `Bearer ${DEFAULT_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  };
  const invites = await request('GET', '/invites');
  const members = await request('GET', '/members');
  const id = String((invites.items as { id: string }[])[0]?.id);
  const one = await request('GET', `/invites/${id}`);
  const resent = await request('POST', `/invites/${id}`, { role: 'edit' });
  const posted = await request('POST', '/invites', { email: 'cy@example.com', role: 'view' });
  const deleted = await request('DELETE', `/invites/${id}`);
  return { invites, members, one, resent, posted, deleted };
}

const items = (collection: Record<string, unknown>) => collection.items as Record<string, unknown>[];

describe('Function: startEmulator answers', () => {
  it('returns _type and _links on every collection and item by default, still valid against the published schemas otherwise', async () => {
    // Act
    const a = await answers(false);

    // Assess
    expect(a.invites).toMatchObject({ _type: 'orgInvites', _links: { self: { href: `${ORG_PATH}/invites` } } });
    expect(a.posted).toMatchObject({ _type: 'orgInvites' });
    expect(a.members).toMatchObject({ _type: 'instanceOrgMembers', _links: { self: { href: `${ORG_PATH}/members` } } });
    for (const item of [...items(a.invites!), ...items(a.posted!), a.one!, a.resent!]) {
      expect(item).toMatchObject({ _type: 'orgInvite', _links: { self: { href: `${ORG_PATH}/invites/${String(item.id)}` } } });
    }
    for (const item of items(a.members!)) expect(item).toMatchObject({ _type: 'instanceOrgMember', _links: { org: { href: ORG_PATH } } });
    expect(a.deleted).toEqual({ success: true });
    expectValid('orgInviteCollection.json', a.invites);
    expectValid('instanceOrgMembers.json', a.members);
  });

  it('returns no _type or _links anywhere with plainAnswers', async () => {
    // Act
    const a = await answers(true);

    // Assess
    const text = JSON.stringify(a);
    expect(text).not.toContain('_type');
    expect(text).not.toContain('_links');
    expect(items(a.members!)).toEqual([expect.objectContaining({ email: 'bo@example.com', role: 'edit' })]);
  });
});

// the collection answers are made from lent copies of the list's bytes (emulator/items-image.ts): what arrives must
// be exactly what the plain serializer writes for the state and clock reading of each request's effect
describe('Function: startEmulator collection answers on the wire', () => {
  const START = Date.parse('2026-03-02T09:00:00.000Z');
  const DAY = 24 * 60 * 60 * 1000;
  const WHERE = { route: ROUTE.invites, instanceId: DEFAULT_ID, orgId: DEFAULT_ID } as const;
  const DESC = { sortField: 'inviteDate', sortDirection: 'desc' } as const;
  const ASC = { sortField: 'inviteDate', sortDirection: 'asc' } as const;
  // what POST accepts (the published schema's `format: email`: ASCII only; the unit property test covers the rest)
  const emails = ['ann@example.com', 'ANN@example.com', 'bob@example.com', "o'neil@example.com", 'carl+hr@example.org', 'x.y@sub.example.com'];

  type WireOp =
    | { kind: 'post'; email: number; role: Role }
    | { kind: 'burst'; count: number }
    | { kind: 'resend' | 'delete'; pick: number }
    | { kind: 'get'; asc: boolean }
    | { kind: 'tick'; ms: number };
  const wireOp: fc.Arbitrary<WireOp> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('post' as const), email: fc.nat(emails.length - 1), role: fc.constantFrom(...ROLES) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('burst' as const), count: fc.integer({ min: 2, max: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('resend' as const, 'delete' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), asc: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.constant(DAY)) }) },
  );

  it('carries, byte for byte, what the plain serializer writes, after any sequence of POSTs, bursts of concurrent POSTs, resends, deletes and clock moves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wireOp, { minLength: 1, maxLength: 25 }), fc.boolean(), async (ops, plainAnswers) => {
        const clock = { ms: START };
        // seeded invites a few days old: some run out when the clock moves a day at a time
        const seeded = Array.from({ length: 30 }, (_, i) => ({ email: `seed${i}@example.com`, role: 'view' as const, inviteDate: new Date(START - (i % 8) * DAY - i).toISOString() }));
        const running = await startEmulator({ seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID, invites: seeded }] }] }, now: () => clock.ms, plainAnswers });
        emu = running;
        const links = !plainAnswers;
        const url = `${running.url}${ORG_PATH}/invites`;
        const headers = { authorization: `Bearer ${DEFAULT_TOKEN}`, 'content-type': 'application/json' };
        const post = async (email: string, role: Role): Promise<string> => {
          const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ email, role }) });
          expect(res.status).toBe(201);
          return Buffer.from(await res.arrayBuffer()).toString('utf8');
        };
        const plain = (q: typeof DESC | typeof ASC, items = running.invites(DEFAULT_ID, DEFAULT_ID)) =>
          collectionJsonPlain(WHERE, q === ASC ? [...items].reverse() : items, q, links);
        const get = async (q: typeof DESC | typeof ASC): Promise<string> => {
          const res = await fetch(`${url}?sortField=inviteDate&sortDirection=${q.sortDirection}`, { headers });
          expect(res.status).toBe(200);
          return Buffer.from(await res.arrayBuffer()).toString('utf8');
        };
        try {
          for (const o of ops) {
            const ids = running.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.id);
            if (o.kind === 'post') expect(await post(emails[o.email]!, o.role)).toBe(plain(DESC));
            else if (o.kind === 'burst') {
              // answers wait after their effect, so each is made while later POSTs change the list
              running.setFaults({ latencyMs: 5 });
              const bodies = await Promise.all(Array.from({ length: o.count }, (_, i) => post(`burst${i}.${clock.ms}@example.com`, 'view')));
              running.setFaults({ latencyMs: 0 });
              // the clock stood still: the invites of the burst are the newest, first in the list; an answer lists its own and those before it
              const after = running.invites(DEFAULT_ID, DEFAULT_ID);
              for (const body of bodies) {
                const count = (JSON.parse(body) as { count: number }).count;
                expect(body).toBe(plain(DESC, after.slice(after.length - count)));
              }
            } else if (o.kind === 'get') expect(await get(o.asc ? ASC : DESC)).toBe(plain(o.asc ? ASC : DESC));
            else if (o.kind === 'tick') clock.ms += o.ms;
            else if (ids.length > 0) {
              const id = ids[o.pick % ids.length]!;
              const res = await fetch(`${url}/${id}`, o.kind === 'delete' ? { method: 'DELETE', headers } : { method: 'POST', headers, body: JSON.stringify({ role: 'edit' }) });
              expect(res.status).toBeLessThan(300);
              await res.arrayBuffer();
              expect(await get(DESC)).toBe(plain(DESC));
            }
          }
        } finally {
          await running.close();
          emu = undefined;
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
