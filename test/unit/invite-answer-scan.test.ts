// test --> scanCollectionForEmail (find one email's items in a POST answer without parsing it all) and createInvite's fallback
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MockAgent, type Interceptable } from 'undici';
import { scanCollectionForEmail } from '../../functions/losant/answers.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import type { RateGovernor } from '../../functions/losant/governor.ts';
import { ApiError } from '../../functions/sync/errors.ts';

const ORIGIN = 'https://api.losant.test';
const ID = '575ec8687ae143cd83dc4a97';
const TARGET = { instanceId: ID, orgId: ID };
const INVITES = `/instances/${ID}/orgs/${ID}/invites`;
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };
const hex = (c: string) => c.repeat(24);

function invite(email: string, extra: Record<string, unknown> = {}) {
  return { id: hex('a'), email, role: 'view', applicationRoles: [], dashboardRoles: [], inviteDate: '2024-05-01T10:00:00.000Z', ttl: 1000, hasExpired: false, disallowTransfer: false, ...extra };
}
function collection(items: unknown[], extra: Record<string, unknown> = {}) {
  return { items, instanceId: ID, orgId: ID, count: items.length, sortField: 'inviteDate', sortDirection: 'desc', _type: 'orgInvites', _links: { self: { href: INVITES } }, ...extra };
}
const text = (body: unknown) => JSON.stringify(body);

describe('Function: scanCollectionForEmail', () => {
  it('returns only the items of that email, and the envelope with empty items', () => {
    const body = collection([invite('bob@x.com', { id: hex('b') }), invite('ann@x.com', { id: hex('c') }), invite('carl@x.com')]);
    const scan = scanCollectionForEmail(text(body), 'ann@x.com');
    expect(scan?.items).toEqual([invite('ann@x.com', { id: hex('c') })]);
    expect(scan?.envelope).toEqual({ ...body, items: [] });
  });

  it('returns both items when two carry the email, in answer order', () => {
    const scan = scanCollectionForEmail(text(collection([invite('ann@x.com', { id: hex('b') }), invite('zed@x.com'), invite('ann@x.com', { id: hex('c') })])), 'ann@x.com');
    expect(scan?.items.map((i) => (i as { id: string }).id)).toEqual([hex('b'), hex('c')]);
  });

  it('returns the item when the answer spells the address with lower-case \\u escapes or pretty-prints', () => {
    const escaped = text(collection([invite('zoë@x.com')])).replace('ë', '\\u00eb');
    expect(escaped).toContain('zo\\u00eb@x.com');
    expect(scanCollectionForEmail(escaped, 'zoë@x.com')?.items).toEqual([invite('zoë@x.com')]);
    expect(scanCollectionForEmail(JSON.stringify(collection([invite('ann@x.com')]), null, 2), 'ann@x.com')?.items).toHaveLength(1);
  });

  it.each([
    ['no item of that email', text(collection([invite('bob@x.com')]))],
    ['the address only inside another field\'s string', text(collection([invite('bob@x.com', { note: '"email":"ann@x.com"' })]))],
    ['the address in a nested object', text(collection([invite('bob@x.com', { inviter: { email: 'ann@x.com' } })]))],
    ['the address in a nested array of objects', text(collection([invite('bob@x.com', { cc: [{ email: 'ann@x.com' }] })]))],
    ['the address in another root array after items', text(collection([], { other: [{ email: 'ann@x.com' }] }))],
    ['the address in another root array before items', `{"other":[{"email":"ann@x.com"}],${text(collection([])).slice(1)}`],
    ['upper-case \\u hex (not searched)', text(collection([invite('zoë@x.com')])).replace('ë', '\\u00EB')],
    ['the answer cut off after the item', text(collection([invite('ann@x.com'), invite('bob@x.com')])).slice(0, 200)],
    ['the answer cut off after the items array', text(collection([invite('ann@x.com')])).replace(/,"_links".*$/, '')],
    ['a root that is an array', text([invite('ann@x.com')])],
    ['text before the root', `x${text(collection([invite('ann@x.com')]))}`],
    ['a broken item', text(collection([invite('ann@x.com')])).replace('"role":"view"', '"role":view')],
  ])('returns undefined (the caller parses everything) for %s', (_why, answer) => {
    expect(scanCollectionForEmail(answer, 'ann@x.com')).toBeUndefined();
  });

  it('never finds an item JSON.parse would not find as an element of items with exactly that email, also in a text cut off or cut into', () => {
    // CI found a text cut off inside a note `]}` that a scan reading back from the end took for the items' end
    const email = fc.constantFrom('ann@x.com', 'ANN@x.com', 'zoë@x.com', 'a"b@x.com', 'a\\b@x.com');
    const note = fc.oneof(fc.constantFrom('"email":"ann@x.com"', '{[', ']}', '\\', '}]}', '"}],"x":[{"email":"ann@x.com"}]}'), fc.string());
    const item = fc.record({
      email,
      id: fc.constantFrom(hex('a'), hex('b')),
      note: fc.option(note, { nil: undefined }),
      cc: fc.option(fc.array(fc.record({ email }), { maxLength: 2 }), { nil: undefined }),
    });
    const other = fc.option(fc.array(fc.record({ email }), { maxLength: 2 }), { nil: undefined });
    let found = 0;
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), email, fc.nat(400), fc.boolean(), other, (items, wanted, cut, pretty, more) => {
        const body = collection(items, more ? { other: more } : {});
        const full = pretty ? JSON.stringify(body, null, 2) : text(body);
        for (const answer of [full, full.slice(0, full.length - cut), full.slice(cut)]) {
          const scan = scanCollectionForEmail(answer, wanted);
          if (!scan) continue;
          found += 1;
          const parsed = JSON.parse(answer) as { items: { email: string }[] };
          expect(scan.items).toEqual(parsed.items.filter((i) => i.email === wanted || i.email === wanted.toLowerCase()));
          expect(scan.envelope).toEqual({ ...parsed, items: [] });
        }
      }),
      { numRuns: 1000 },
    );
    expect(found).toBeGreaterThan(0); // the property saw answers the scan does answer
  });

  it('returns undefined for a text cut off inside a string that holds `]}` (the counterexample CI found)', () => {
    const full = text(collection([invite('ann@x.com'), invite('bob@x.com', { note: ']}' })]));
    const cut = full.slice(0, full.indexOf(']}"') + 2);
    expect(cut.endsWith(']}')).toBe(true);
    expect(scanCollectionForEmail(cut, 'ann@x.com')).toBeUndefined();
  });
});

describe('Function: LosantClient.createInvite (answer scan and its fallback)', () => {
  let agent: MockAgent;
  let pool: Interceptable;
  const openGovernor: RateGovernor = { acquire: async () => {}, onResponse: () => {} };
  const client = () => new LosantClient({ baseUrl: ORIGIN, token: 'tok', dispatcher: agent, governor: openGovernor, sleep: async () => {}, random: () => 0.5 });

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    pool = agent.get(ORIGIN);
  });
  afterEach(async () => {
    await agent.close();
  });

  it('returns the newest of two items for the email whatever their order', async () => {
    const older = invite('ann@x.com', { id: hex('b'), inviteDate: '2024-05-01T00:00:00.000Z' });
    const newer = invite('ann@x.com', { id: hex('c'), inviteDate: '2024-05-02T00:00:00.000Z' });
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, text(collection([older, newer])), JSON_HEADERS);
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, text(collection([newer, older])), JSON_HEADERS);
    expect((await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' })).invite.id).toBe(hex('c'));
    expect((await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' })).invite.id).toBe(hex('c'));
  });

  it('returns the invite through the full parse when the answer writes the address with \\u escapes the scan does not search', async () => {
    const escaped = text(collection([invite('bob@x.com'), invite('ann@x.com', { id: hex('d') })])).replace('ann@x.com', 'ann\\u0040x.com');
    expect(escaped).toContain('"email":"ann\\u0040x.com"');
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, escaped, JSON_HEADERS);
    const result = await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' });
    expect(result.invite).toMatchObject({ id: hex('d'), email: 'ann@x.com' });
  });

  it('returns the invite through the full parse when the scan hit an item with another role (the answer decides, as before)', async () => {
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, text(collection([invite('ann@x.com', { id: hex('e'), role: 'edit' })])), JSON_HEADERS);
    expect((await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' })).invite).toMatchObject({ id: hex('e'), role: 'edit' });
  });

  it('returns invalidResponse for a truncated answer that holds the invite (the full parse finds it is not JSON)', async () => {
    const cut = text(collection([invite('ann@x.com'), invite('bob@x.com')])).slice(0, 250);
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, cut, JSON_HEADERS);
    const err = await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('invalidResponse');
  });

  it('looks the invite up by email when the address appears only inside another item', async () => {
    pool.intercept({ path: INVITES, method: 'POST' }).reply(201, text(collection([invite('bob@x.com', { inviter: { email: 'ann@x.com' } })])), JSON_HEADERS);
    pool.intercept({ path: `${INVITES}?filterField=email&filter=ann%40x.com`, method: 'GET' }).reply(200, text(collection([invite('ann@x.com', { id: hex('f') })])), JSON_HEADERS);
    const result = await client().createInvite(TARGET, { email: 'ann@x.com', role: 'view' });
    expect(result).toEqual({ recovered: false, invite: expect.objectContaining({ id: hex('f'), email: 'ann@x.com' }) });
  });
});
