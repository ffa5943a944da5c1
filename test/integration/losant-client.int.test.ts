// tests --> LosantClient --> real HTTP on 127.0.0.1 --> the Losant emulator (contract, faults, rate limit)
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type EmulatorOptions, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient, type LosantClientOptions } from '../../functions/losant/client.ts';
import { ROUTES } from '../../functions/losant/routes.ts';
import { KEEP_AFTER_HIT } from '../../functions/losant/answer-bytes.ts';
import type { RequestEvent } from '../../functions/losant/transport.ts';
import { LosantApiError } from '../../functions/losant/errors.ts';
import { expectValid } from '../helpers/schemas.ts';

const ORG = DEFAULT_ID;
const TARGET = { instanceId: DEFAULT_ID, orgId: ORG };
const OTHER_ORG = 'aaaaaaaaaaaaaaaaaaaaaaaa';

let emulator: RunningEmulator | undefined;
let api: LosantClient | undefined;

async function start(emu: EmulatorOptions = {}, client: Partial<LosantClientOptions> = {}): Promise<{ emu: RunningEmulator; api: LosantClient }> {
  emulator = await startEmulator({ port: 0, faultSeed: 7, ...emu });
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, retry: { baseDelayMs: 5, maxDelayMs: 50 }, ...client });
  return { emu: emulator, api };
}

function posts(emu: RunningEmulator): { status: number; count: number }[] {
  return emu.stats().requests.filter((r) => r.method === 'POST' && r.route === ROUTES.invites);
}

async function failure(p: Promise<unknown>): Promise<LosantApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LosantApiError);
  return err as LosantApiError;
}

afterEach(async () => {
  await api?.close();
  await emulator?.close();
  api = undefined;
  emulator = undefined;
});

describe('Function: LosantClient against the emulator', () => {
  it('returns invites sorted as asked and filtered by a glob', async () => {
    // Arrange
    const { emu, api } = await start();
    for (const [email, role] of [['Carl@Example.com', 'view'], ['ann+hr@example.com', 'edit'], ['bob@other.org', 'admin'], ['ann@example.com', 'none']] as const) {
      emu.addInvite(DEFAULT_ID, ORG, { email, role });
    }
    const raw = await fetch(`${emu.url}/instances/${DEFAULT_ID}/orgs/${ORG}/invites`, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } });
    expectValid('orgInviteCollection.json', await raw.json());

    // Act
    const byEmail = await api.listInvites(TARGET, { sortField: 'email', sortDirection: 'asc' });
    const byRoleDesc = await api.listInvites(TARGET, { sortField: 'role', sortDirection: 'desc' });
    const exampleOnly = await api.listInvites(TARGET, { filterField: 'email', filter: '*@EXAMPLE.com', sortField: 'email', sortDirection: 'asc' });
    const plusExact = await api.listInvites(TARGET, { filterField: 'email', filter: 'ann+hr@example.com' });

    // Assert
    expect(byEmail.map((i) => i.email)).toEqual(['ann+hr@example.com', 'ann@example.com', 'bob@other.org', 'carl@example.com']);
    expect(byRoleDesc.map((i) => i.role)).toEqual(['view', 'none', 'edit', 'admin']);
    expect(exampleOnly.map((i) => i.email)).toEqual(['ann+hr@example.com', 'ann@example.com', 'carl@example.com']);
    expect(plusExact.map((i) => i.email)).toEqual(['ann+hr@example.com']);
  });

  it('returns badRequest, unauthorized, forbidden and notFound for the matching refusals', async () => {
    // Arrange
    const seed = {
      tokens: [{ token: DEFAULT_TOKEN, scopes: ['all.Instance'] }, { token: 'read-only-token', scopes: ['all.Instance.read'] }],
      instances: [{ id: DEFAULT_ID, orgs: [{ id: ORG }] }],
    };
    const { emu, api } = await start({ seed });
    const readOnly = new LosantClient({ baseUrl: emu.url, token: 'read-only-token' });
    const stranger = new LosantClient({ baseUrl: emu.url, token: 'not-a-token-at-all' });

    // Act
    const bad = await failure(api.listInvites(TARGET, { sortField: 'bogus' as never }));
    const unauthorized = await failure(stranger.listInvites(TARGET));
    const forbidden = await failure(readOnly.createInvite(TARGET, { email: 'ann@example.com', role: 'view' }));
    const missing = await failure(api.listMembers({ instanceId: DEFAULT_ID, orgId: OTHER_ORG }));
    await Promise.all([readOnly.close(), stranger.close()]);

    // Assert
    expect([bad.kind, bad.status, bad.apiType]).toEqual(['badRequest', 400, 'Validation']);
    expect([unauthorized.kind, unauthorized.status]).toEqual(['unauthorized', 401]);
    expect(unauthorized.message).not.toContain('not-a-token-at-all');
    expect([forbidden.kind, forbidden.status, forbidden.apiType]).toEqual(['forbidden', 403, 'Forbidden']);
    expect([missing.kind, missing.status, missing.apiType]).toEqual(['notFound', 404, 'NotFound']);
    expect(emu.invites(DEFAULT_ID, ORG)).toEqual([]);
  });

  it('returns the answer after a 401 made a token function supply a fresh token', async () => {
    // Arrange
    const asked: boolean[] = [];
    const token = async (o?: { refresh?: boolean }) => {
      asked.push(o?.refresh === true);
      return o?.refresh ? DEFAULT_TOKEN : 'rotated-away-token';
    };
    const { emu, api } = await start({}, { token });
    emu.addInvite(DEFAULT_ID, ORG, { email: 'ann@example.com', role: 'view' });

    // Act
    const list = await api.listInvites(TARGET);

    // Assert
    expect(list.map((i) => i.email)).toEqual(['ann@example.com']);
    expect(asked).toEqual([false, true]);
  });

  it('returns every answer through injected 503s (errorRate 0.5) by retrying', async () => {
    // Arrange
    const { emu, api } = await start({ errorRate: 0.5, faultSeed: 12345 }, { retry: { maxAttempts: 12, baseDelayMs: 2, maxDelayMs: 20 } });
    emu.addInvite(DEFAULT_ID, ORG, { email: 'ann@example.com', role: 'view' });

    // Act
    const lists = [];
    for (let i = 0; i < 8; i++) lists.push(await api.listInvites(TARGET));
    const members = await api.listMembers(TARGET);

    // Assert
    expect(lists.every((l) => l.length === 1 && l[0]?.email === 'ann@example.com')).toBe(true);
    expect(members).toEqual([]);
    const served503 = emu.stats().requests.filter((r) => r.status === 503).reduce((n, r) => n + r.count, 0);
    expect(served503).toBeGreaterThan(0);
  });

  it('returns the invite of a POST whose answer was lost, without a duplicate (lostResponseRate 1)', async () => {
    // Arrange
    const { emu } = await start({ lostResponseRate: 1 });
    const events: RequestEvent[] = [];
    const observed = new LosantClient({ baseUrl: emu.url, token: DEFAULT_TOKEN, retry: { baseDelayMs: 5 }, onRequest: (e) => events.push(e) });

    // Act
    const result = await observed.createInvite(TARGET, { email: 'Dana@Example.com', role: 'edit' });
    await observed.close();

    // Assert
    expect(result.recovered).toBe(true);
    expect(result.invite).toMatchObject({ email: 'dana@example.com', role: 'edit', hasExpired: false });
    expect(emu.invites(DEFAULT_ID, ORG).map((i) => i.email.toLowerCase())).toEqual(['dana@example.com']);
    expect(emu.stats().duplicateInvites).toBe(0);
    expect(posts(emu)).toEqual([{ method: 'POST', route: ROUTES.invites, status: 0, count: 1 }]);
    expect(events.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 0', 'GET 200']);
  });

  it('returns the created invite of a POST into an org of 1 000 pending from its answer alone: one POST, no lookup', async () => {
    // Arrange: an answer of ~450 KB, longer than the scan keeps (KEEP_AFTER_HIT): the body is taken over, so
    // anything but the emulator's stated newest-first order would cost a GET lookup
    const { emu } = await start();
    for (let i = 0; i < 1_000; i++) emu.addInvite(DEFAULT_ID, ORG, { email: `p${i}@example.com`, role: 'view' });
    const events: RequestEvent[] = [];
    const observed = new LosantClient({ baseUrl: emu.url, token: DEFAULT_TOKEN, retry: { baseDelayMs: 5 }, onRequest: (e) => events.push(e) });

    // Act
    const first = await observed.createInvite(TARGET, { email: 'Zed@Example.com', role: 'edit' });
    const second = await observed.createInvite(TARGET, { email: 'amy@example.com', role: 'view' });
    await observed.close();

    // Assert
    expect(events.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 201', 'POST 201']);
    const whole = await fetch(`${emu.url}/instances/${DEFAULT_ID}/orgs/${ORG}/invites`, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } });
    expect((await whole.arrayBuffer()).byteLength).toBeGreaterThan(KEEP_AFTER_HIT * 2);
    const listed = new Map(emu.invites(DEFAULT_ID, ORG).map((i) => [i.email.toLowerCase(), i.id]));
    expect(first).toMatchObject({ recovered: false, invite: { id: listed.get('zed@example.com'), email: 'zed@example.com', role: 'edit', hasExpired: false } });
    expect(second).toMatchObject({ recovered: false, invite: { id: listed.get('amy@example.com'), email: 'amy@example.com', role: 'view' } });
  });

  it('returns the right invite when the address has a * that, as a glob, also matches someone else', async () => {
    // Arrange: `a*b@example.com` as a filter also matches `a.b@example.com`
    const { emu } = await start({ errorRate: 1 });
    emu.addInvite(DEFAULT_ID, ORG, { email: 'a.b@example.com', role: 'view' });
    const events: string[] = [];
    const starApi = new LosantClient({
      baseUrl: emu.url,
      token: DEFAULT_TOKEN,
      retry: { baseDelayMs: 5 },
      // the first POST is refused before any effect; then the faults stop
      onRequest: (e) => {
        events.push(`${e.method} ${e.status}`);
        if (e.status === 503) emu.setFaults({ errorRate: 0 });
      },
    });

    // Act
    const created = await starApi.createInvite(TARGET, { email: 'a*b@example.com', role: 'edit' });
    await starApi.close();

    // Assert
    expect(created.recovered).toBe(false);
    expect(created.invite).toMatchObject({ email: 'a*b@example.com', role: 'edit' });
    expect(events).toEqual(['POST 503', 'GET 200', 'POST 201']);
    const emails = emu.invites(DEFAULT_ID, ORG).map((i) => i.email).sort();
    expect(emails).toEqual(['a*b@example.com', 'a.b@example.com']);
    expect(emu.stats().duplicateInvites).toBe(0);
  });

  it('returns members once an invite is accepted, and a recovered * address is the exact one', async () => {
    // Arrange
    const seed = { instances: [{ id: DEFAULT_ID, orgs: [{ id: ORG, members: [{ email: 'Zoe@Example.com', role: 'admin' as const }] }] }] };
    const { emu, api } = await start({ seed, lostResponseRate: 1 });
    emu.addInvite(DEFAULT_ID, ORG, { email: 'x.y@example.com', role: 'view' });

    // Act
    const recovered = await api.createInvite(TARGET, { email: 'x*y@example.com', role: 'view' });
    emu.acceptInvite(DEFAULT_ID, ORG, 'x.y@example.com');
    const members = await api.listMembers(TARGET);
    const pending = await api.listInvites(TARGET);

    // Assert
    expect(recovered).toMatchObject({ recovered: true, invite: { email: 'x*y@example.com' } });
    expect(members.map((m) => [m.email, m.role])).toEqual([['x.y@example.com', 'view'], ['zoe@example.com', 'admin']]);
    expect(members.every((m) => /^[a-f\d]{24}$/i.test(m.userId ?? ''))).toBe(true);
    expect(pending.map((i) => i.email)).toEqual(['x*y@example.com']);
    expect(emu.stats().duplicateInvites).toBe(0);
  });

  it('removes a member by user id (a lost answer then 404 counts as removed) and reads the own user from GET /me', async () => {
    // Arrange
    const seed = {
      tokens: [{ token: DEFAULT_TOKEN, scopes: ['all.Instance', 'me.get'], userEmail: 'Boss@Example.com' }, { token: 'instance-only', scopes: ['all.Instance'] }],
      instances: [{ id: DEFAULT_ID, orgs: [{ id: ORG, members: [{ email: 'Boss@Example.com', role: 'admin' as const }, { email: 'ann@example.com', role: 'view' as const }, { email: 'bob@example.com', role: 'view' as const }] }] }],
    };
    const { emu, api } = await start({ seed });
    const idOf = (email: string) => emu.members(DEFAULT_ID, ORG).find((m) => m.email === email)!.userId;
    const instanceOnly = new LosantClient({ baseUrl: emu.url, token: 'instance-only', retry: { baseDelayMs: 5, maxDelayMs: 50 } });

    // Act
    const own = await api.ownUser();
    const unknown = await instanceOnly.ownUser();
    await instanceOnly.close();
    await api.removeMember(TARGET, idOf('ann@example.com'));
    emu.setFaults({ lostResponseRate: 1 });
    const bob = idOf('bob@example.com');
    const lost = api.removeMember(TARGET, bob, { deadline: Date.now() + 300 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    emu.setFaults({ lostResponseRate: 0 });
    const afterLost = await lost;
    const again = await failure(api.removeMember(TARGET, bob));

    // Assess
    expect(own).toEqual({ userId: idOf('Boss@Example.com'), email: 'boss@example.com' });
    expect(unknown).toBe('unknown');
    expect(afterLost).toBeUndefined();
    expect(again.kind).toBe('notFound');
    expect(emu.members(DEFAULT_ID, ORG).map((m) => m.email)).toEqual(['Boss@Example.com']);
  });

  it('returns a resent invite that is no longer expired, and revokes it', async () => {
    // Arrange
    const { emu, api } = await start();
    const old = emu.addInvite(DEFAULT_ID, ORG, { email: 'eve@example.com', role: 'view', inviteDate: '2020-01-01T00:00:00.000Z', hasExpired: true });

    // Act
    const before = await api.getInvite(TARGET, old.id);
    const resent = await api.resend(TARGET, old.id, { role: 'edit' });
    await api.revoke(TARGET, old.id);
    const gone = await failure(api.getInvite(TARGET, old.id));
    const revokeAgain = await failure(api.revoke(TARGET, old.id));

    // Assert
    expect(before).toMatchObject({ id: old.id, hasExpired: true, role: 'view' });
    expect(resent).toMatchObject({ id: old.id, hasExpired: false, role: 'edit' });
    expect(Date.parse(resent.inviteDate)).toBeGreaterThan(Date.parse(before.inviteDate));
    expect(gone.kind).toBe('notFound');
    expect(revokeAgain.kind).toBe('notFound');
    expect(emu.invites(DEFAULT_ID, ORG)).toEqual([]);
  });

  it('returns 200 POSTs under a 20/s rate limit near the ideal time, with few 429s and no duplicate', async () => {
    // Arrange
    const rate = 20;
    const total = 200;
    const { emu, api } = await start({ rateLimit: rate });
    const emails = Array.from({ length: total }, (_, i) => `user${i}@example.com`);
    let next = 0;

    // Act
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < emails.length) {
          const email = emails[next++] as string;
          await api.createInvite(TARGET, { email, role: 'view' }, { deadline: Date.now() + 30_000 });
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;

    // Assert
    const ideal = (total - rate) / rate;
    const byStatus = Object.fromEntries(posts(emu).map((p) => [p.status, p.count]));
    const throttled = byStatus[429] ?? 0;
    expect(byStatus[201]).toBe(total);
    // pacing, not speed: a governor that stalls or halves its rate lands well past 1.6× (the bench measures the real ratio)
    expect(seconds).toBeLessThanOrEqual(1.6 * ideal);
    expect(throttled / (total + throttled)).toBeLessThanOrEqual(0.1);
    expect(emu.stats().duplicateInvites).toBe(0);
    expect(emu.invites(DEFAULT_ID, ORG)).toHaveLength(total);
  });
});
