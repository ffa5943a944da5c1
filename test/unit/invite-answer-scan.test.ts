// test --> createInvite: the created invite found in the POST answer's bytes (answer-bytes.ts), and the full parse it falls back to
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent, type Interceptable } from 'undici';
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
