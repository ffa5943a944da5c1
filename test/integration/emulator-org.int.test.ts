// test --> emulator over real HTTP: GET /instances/{I}/orgs/{O} (the org, its member limit) and the 400 past the limit
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ID, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { isApiError } from '../../functions/sync/errors.ts';
import { expectValid } from '../helpers/schemas.ts';

const I = DEFAULT_ID;
const FULL = '5a1b2c3d4e5f60718293a4b5';
const OPEN = '6a1b2c3d4e5f60718293a4b6';
const UNKNOWN = 'ffffffffffffffffffffffff';
const NOW = Date.parse('2031-02-03T04:05:06.000Z');
const DAY = 24 * 3600 * 1000;

let emu: RunningEmulator;
let clock: number;

beforeEach(async () => {
  clock = NOW;
  emu = await startEmulator({
    now: () => clock,
    seed: {
      tokens: [
        { token: 'all', scopes: ['all.Instance'] },
        { token: 'org-read', scopes: ['instanceOrg.get'] },
        { token: 'bounded', scopes: ['all.User.bounded'] },
        { token: 'invites-only', scopes: ['instanceOrgInvites.*', 'instanceOrgMembers.get', 'instanceOrgInvite.*'] },
      ],
      instances: [
        {
          id: I,
          orgs: [
            {
              id: FULL,
              name: 'Acme Field Ops',
              memberLimit: 3,
              members: [{ email: 'm@example.com', role: 'admin' }],
              invites: [
                { email: 'live@example.com', role: 'view', inviteDate: '-1d' },
                { email: 'gone@example.com', role: 'view', inviteDate: '-9d' },
              ],
            },
            { id: OPEN },
          ],
        },
      ],
    },
  });
});
afterEach(async () => {
  await emu.close();
});

async function call(method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const parsed = JSON.parse(await res.text()) as Record<string, unknown>;
  if (res.status >= 400) expectValid('error.json', parsed);
  return { status: res.status, body: parsed };
}

const orgPath = (org: string) => `/instances/${I}/orgs/${org}`;

describe('Function: startEmulator (GET org)', () => {
  it('returns the org with limits.member, summary counts, _type and _links', async () => {
    // Act
    const r = await call('GET', orgPath(FULL), 'all');

    // Assert
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      id: FULL,
      orgId: FULL,
      instanceId: I,
      name: 'Acme Field Ops',
      limits: { member: 3 },
      summary: { memberCount: 1, pendingInviteCount: 2 },
      _type: 'instanceOrg',
      _links: { self: { href: orgPath(FULL) }, invites: { href: `${orgPath(FULL)}/invites` }, members: { href: `${orgPath(FULL)}/members` } },
    });
  });

  it('returns limits without `member` for an org without a limit, and no _type/_links with plainAnswers', async () => {
    // Arrange
    const plain = await startEmulator({ plainAnswers: true, seed: { instances: [{ id: I, orgs: [{ id: OPEN }] }] } });

    // Act
    const r = await fetch(`${plain.url}${orgPath(OPEN)}`, { headers: { authorization: 'Bearer emulator-token' } });
    const body = (await r.json()) as Record<string, unknown>;
    await plain.close();

    // Assert
    expect(r.status).toBe(200);
    expect(body.limits).toEqual({});
    expect(body).not.toHaveProperty('_type');
    expect(body).not.toHaveProperty('_links');
  });

  it('returns 200 for instanceOrg.get and the bounded read scopes, 403 for a token with invite scopes only, 401 without a token', async () => {
    // Act
    const statuses = await Promise.all(['org-read', 'bounded', 'invites-only', null].map(async (t) => (await call('GET', orgPath(FULL), t)).status));

    // Assert
    expect(statuses).toEqual([200, 200, 403, 401]);
  });

  it('returns 404 NotFound for an unknown org, and 404 for other methods on the org', async () => {
    // Act
    const unknown = await call('GET', orgPath(UNKNOWN), 'all');
    const patch = await call('PATCH', orgPath(FULL), 'all', {});

    // Assert
    expect([unknown.status, unknown.body.type]).toEqual([404, 'NotFound']);
    expect(patch.status).toBe(404);
  });
});

describe('Function: startEmulator (member limit)', () => {
  it('returns 400 LimitExceeded for a POST once members + unexpired invites reach the limit (expired ones do not count), creating nothing', async () => {
    // Act: 1 member + 1 live invite of 3 → one more fits
    const first = await call('POST', `${orgPath(FULL)}/invites`, 'all', { email: 'new1@example.com', role: 'view' });
    const second = await call('POST', `${orgPath(FULL)}/invites`, 'all', { email: 'new2@example.com', role: 'view' });

    // Assert
    expect(first.status).toBe(201);
    expect(second.status).toBe(400);
    expect(second.body.type).toBe('LimitExceeded');
    expect(String(second.body.message)).toContain('member limit (3)');
    expect(emu.invites(I, FULL).map((i) => i.email).sort()).toEqual(['gone@example.com', 'live@example.com', 'new1@example.com']);
  });

  it('returns 400 for resending an expired invite into a full org, 201 for an unexpired one, and 201 again once a seat is free', async () => {
    // Arrange: fill the last seat
    await call('POST', `${orgPath(FULL)}/invites`, 'all', { email: 'new1@example.com', role: 'view' });
    const [gone, live] = ['gone@example.com', 'live@example.com'].map((e) => emu.invites(I, FULL).find((i) => i.email === e)!);

    // Act
    const expiredResend = await call('POST', `${orgPath(FULL)}/invites/${gone!.id}`, 'all', { role: 'view' });
    const liveResend = await call('POST', `${orgPath(FULL)}/invites/${live!.id}`, 'all', { role: 'view' });
    emu.setMemberLimit(I, FULL, 4);
    const afterRaise = await call('POST', `${orgPath(FULL)}/invites/${gone!.id}`, 'all', { role: 'view' });

    // Assert
    expect(expiredResend.status).toBe(400);
    expect(liveResend.status).toBe(201);
    expect(afterRaise.status).toBe(201);
  });

  it('frees the seat of an invite once it expires', async () => {
    // Arrange: full (1 member, 1 live, 1 new)
    await call('POST', `${orgPath(FULL)}/invites`, 'all', { email: 'new1@example.com', role: 'view' });

    // Act: 8 days later both live invites have expired
    clock = NOW + 8 * DAY;
    const r = await call('POST', `${orgPath(FULL)}/invites`, 'all', { email: 'new2@example.com', role: 'view' });

    // Assert
    expect(r.status).toBe(201);
  });
});

describe('Function: LosantClient.getOrg against the emulator', () => {
  it('returns the member limit, {} without one, and a forbidden error naming instanceOrg.get for a token without it', async () => {
    // Arrange
    const api = new LosantClient({ baseUrl: emu.url, token: 'all' });
    const narrow = new LosantClient({ baseUrl: emu.url, token: 'invites-only' });

    // Act
    const full = await api.getOrg({ instanceId: I, orgId: FULL });
    const open = await api.getOrg({ instanceId: I, orgId: OPEN });
    const refused = await narrow.getOrg({ instanceId: I, orgId: FULL }).catch((err: unknown) => err);
    await api.close();
    await narrow.close();

    // Assert
    expect(full).toEqual({ memberLimit: 3 });
    expect(open).toEqual({});
    expect(isApiError(refused) && refused.kind).toBe('forbidden');
    expect(isApiError(refused) && refused.scope).toBe('instanceOrg.get');
  });
});
