// test --> reconcileTarget on MemoryStateStore + the real LosantClient against the emulator (real HTTP on
// 127.0.0.1) with a token made from the old README's list: no `instanceOrgInvite.resendInvite`, no delete.
// Losant cannot tell a client its token's scopes: the first 403 stops that kind of action, invites go on.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ID, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { reconcileTarget, type SyncDeps } from '../../functions/sync/reconcile.ts';
import type { Log } from '../../functions/sync/ports.ts';
import type { LedgerEntry, Person, TargetRef } from '../../functions/sync/types.ts';
import { MemoryStateStore } from '../helpers/memory-store.ts';

const target: TargetRef = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const quiet: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const DAY = 24 * 3600 * 1000;
/** what the README used to list: resend as `instanceOrgInvite.post`, and no delete */
const OLD_README_SCOPES = ['instanceOrgInvites.get', 'instanceOrgInvites.post', 'instanceOrgMembers.get', 'instanceOrgInvite.post'];

const open: { emulator: RunningEmulator; api: LosantClient }[] = [];
afterEach(async () => {
  for (const { api, emulator } of open.splice(0)) {
    await api.close();
    await emulator.close();
  }
});

/** The README's least-privilege token for the default policy (section "Losant token"), and what it says to add for revokeLeft. */
function readmeScopes(): { defaults: string[]; revokeLeft: string } {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const m = /The least-privilege token for the default policy: ([^;]+); add `([^`]+)` for `revokeLeft`/.exec(readme);
  if (!m) throw new Error('README: no least-privilege token list');
  return { defaults: [...m[1]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!), revokeLeft: m[2]! };
}

async function run(scopes: string[], opts: { dirtyRounds?: number; concurrency?: number; renewals?: number; revokeLeft?: boolean } = {}) {
  const now = Date.now();
  const emulator = await startEmulator({ port: 0, seed: { tokens: [{ token: 'narrow', scopes }] } });
  const api = new LosantClient({ baseUrl: emulator.url, token: 'narrow' });
  open.push({ emulator, api });
  const store = new MemoryStateStore({});
  // two expired invites of ours (renew), one of ours for a person who left (revoke), one new person (invite)
  const renewed = Array.from({ length: opts.renewals ?? 2 }, (_, i) => `x${i + 1}@example.com`);
  const ours = [...renewed, 'gone@example.com'].map((email) =>
    emulator.addInvite(target.instanceId, target.orgId, { email, role: 'edit', inviteDate: new Date(now - 9 * DAY).toISOString(), hasExpired: email !== 'gone@example.com' }),
  );
  const entries: LedgerEntry[] = ours.map((inv) => ({
    email: inv.email, role: 'edit', state: 'sent', inviteId: inv.id, invitedAt: inv.inviteDate, updatedAt: inv.inviteDate, renewals: 0, runId: 'r-0',
  }));
  await store.putLedgerEntries(target, entries);
  const people: Person[] = [...renewed, 'new@example.com'].map((email) => ({ email, status: 'active', attributes: { department: 'Engineering' } }));
  await store.replaceSource('default', people, new Date(now - 1000).toISOString());
  const config = parseSyncConfig({
    targets: [{ name: 'eng', ...target, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] }],
    policy: { revokeLeft: opts.revokeLeft ?? true },
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
  });
  const deps: SyncDeps = { api, store, clock: { now: () => Date.now() }, log: quiet };
  // changes landing while the lease is held: the target is reconciled again in the same run
  let dirty = opts.dirtyRounds ?? 0;
  const landChange = async (): Promise<void> => {
    await store.markDirty([target]);
    if (--dirty > 0) store.beforeNext('releaseLease', landChange);
  };
  if (dirty > 0) store.beforeNext('releaseLease', landChange);
  const report = await reconcileTarget(deps, config, config.targets[0]!, { mode: 'apply', runId: 'r-1', owner: 'o-1', deadline: Date.now() + 30_000 });
  const requests = (method: string, status: number) =>
    emulator.stats().requests.filter((r) => r.method === method && r.route.endsWith(':inviteId') && r.status === status).reduce((n, r) => n + r.count, 0);
  return { report, emulator, requests };
}

describe('Function: reconcileTarget with a token that lacks the resend and delete scopes', () => {
  it('returns a complete run: invites sent, resends and revokes skipped as missingScope, one warning per scope', async () => {
    // Act
    const { report, emulator, requests } = await run(OLD_README_SCOPES);

    // Assess
    expect(report.error).toBeUndefined();
    expect(report.complete).toBe(true);
    expect(report.planned).toMatchObject({ invite: 1, renew: 2, revoke: 1 });
    expect(report.done).toMatchObject({ invite: 1, renew: 0, revoke: 0 });
    expect(report.failed).toBe(0);
    expect(report.skipped.missingScope).toBe(3);
    expect(report.warnings).toEqual(
      expect.arrayContaining([
        { code: 'missingScope', scope: 'instanceOrgInvite.resendInvite' },
        { code: 'missingScope', scope: 'instanceOrgInvite.delete' },
        { code: 'missingScope', scope: 'instanceOrg.get' },
      ]),
    );
    expect(report.warnings).toHaveLength(3);
    expect(report.seats).toBeUndefined();
    expect(requests('DELETE', 403)).toBe(1);
    expect(requests('POST', 403)).toBeGreaterThanOrEqual(1);
    expect(emulator.invites(target.instanceId, target.orgId).map((i) => i.email).sort()).toEqual(['gone@example.com', 'new@example.com', 'x1@example.com', 'x2@example.com']);
  });

  it('sends one resend only: after its 403 the other renewals of the target are skipped without a request (one at a time)', async () => {
    // Act: five renewals, concurrency 1, so every resend after the first would be a request of its own
    const { report, requests } = await run(OLD_README_SCOPES, { concurrency: 1, renewals: 5 });

    // Assess
    expect(report.planned).toMatchObject({ invite: 1, renew: 5, revoke: 1 });
    expect(requests('POST', 403)).toBe(1);
    expect(requests('DELETE', 403)).toBe(1);
    expect(report.skipped.missingScope).toBe(6);
    expect(report.done.invite).toBe(1);
    expect(report.failed).toBe(0);
    expect(report.complete).toBe(true);
  });

  it('returns no warning with the README\'s least-privilege token: renews with the default policy, and revokes once its revokeLeft scope is added', async () => {
    // Arrange
    const { defaults, revokeLeft } = readmeScopes();

    // Act
    const byDefault = await run(defaults, { revokeLeft: false });
    const revoking = await run([...defaults, revokeLeft]);

    // Assess
    expect(defaults).toContain('instanceOrgInvite.resendInvite');
    expect(byDefault.report.done).toMatchObject({ invite: 1, renew: 2, revoke: 0 });
    expect(byDefault.report.warnings).toBeUndefined();
    expect(revoking.report.done).toMatchObject({ invite: 1, renew: 2, revoke: 1 });
    expect(revoking.report.warnings).toBeUndefined();
  });

  it('returns no warning and renews and revokes with the scopes Losant documents', async () => {
    // Act
    const { report } = await run([...OLD_README_SCOPES, 'instanceOrgInvite.resendInvite', 'instanceOrgInvite.delete', 'instanceOrg.get']);

    // Assess
    expect(report.done).toMatchObject({ invite: 1, renew: 2, revoke: 1 });
    expect(report.skipped.missingScope).toBe(0);
    expect(report.warnings).toBeUndefined();
  });
});

describe('Function: reconcileTarget with a token that lacks instanceOrg.get', () => {
  it('returns the missingScope warning once and asks for the org once, however many rounds the run takes', async () => {
    // Act: two more rounds after the first (changes land before each release)
    const { report, emulator } = await run([...OLD_README_SCOPES, 'instanceOrgInvite.resendInvite', 'instanceOrgInvite.delete'], { dirtyRounds: 2 });

    // Assess
    const orgGets = emulator.stats().requests.filter((r) => r.method === 'GET' && r.route === '/instances/:instanceId/orgs/:orgId');
    const memberGets = emulator.stats().requests.filter((r) => r.method === 'GET' && r.route.endsWith('/members')).reduce((n, r) => n + r.count, 0);
    expect(report.complete).toBe(true);
    expect(memberGets).toBe(3);
    expect(orgGets).toEqual([{ method: 'GET', route: '/instances/:instanceId/orgs/:orgId', status: 403, count: 1 }]);
    expect(report.warnings).toEqual([{ code: 'missingScope', scope: 'instanceOrg.get' }]);
    expect(report.done).toMatchObject({ invite: 1, renew: 2, revoke: 1 });
  });
});

describe('Function: startEmulator scopes (as Losant documents them)', () => {
  it('returns 403 for a resend with instanceOrgInvite.post, 201 with resendInvite, and every GET route (invites, one invite, members, one member, org, /me) for the .bounded scopes', async () => {
    // Arrange
    const tokens = [
      { token: 'post', scopes: ['instanceOrgInvite.post'] },
      { token: 'resend', scopes: ['instanceOrgInvite.resendInvite'] },
      { token: 'invite-star', scopes: ['instanceOrgInvite.*'] },
      { token: 'instance', scopes: ['all.Instance'] },
      { token: 'user', scopes: ['all.User'] },
      { token: 'bounded-instance', scopes: ['all.Instance.bounded'] },
      { token: 'bounded-user', scopes: ['all.User.bounded'], userEmail: 'owner@example.com' },
    ];
    const emulator = await startEmulator({ port: 0, seed: { tokens, instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID, members: [{ email: 'owner@example.com', role: 'admin' }] }] }] } });
    const api = new LosantClient({ baseUrl: emulator.url, token: 'post' });
    open.push({ emulator, api });
    const inv = emulator.addInvite(target.instanceId, target.orgId, { email: 'ann@example.com', role: 'view' });
    const base = `${emulator.url}/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}`;
    const call = async (token: string, method: string, path: string, body?: unknown) =>
      (await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })).status;

    // Act
    const refused = await api.resend(target, inv.id, { role: 'edit' }).catch((e: unknown) => e as { kind: string; scope?: string });
    const statuses = {
      resendWithResendInvite: await call('resend', 'POST', `/invites/${inv.id}`, { role: 'edit' }),
      resendWithBroaderScopes: [
        await call('invite-star', 'POST', `/invites/${inv.id}`, { role: 'edit' }),
        await call('instance', 'POST', `/invites/${inv.id}`, { role: 'edit' }),
        await call('user', 'POST', `/invites/${inv.id}`, { role: 'edit' }),
      ],
      boundedReads: [
        await call('bounded-instance', 'GET', '/invites'),
        await call('bounded-instance', 'GET', '/members'),
        await call('bounded-user', 'GET', `/invites/${inv.id}`),
        await call('bounded-instance', 'GET', ''),
        await call('bounded-user', 'GET', `/members/${emulator.members(DEFAULT_ID, DEFAULT_ID)[0]!.userId}`),
        (await fetch(`${emulator.url}/me`, { headers: { authorization: 'Bearer bounded-user' } })).status,
      ],
      boundedPost: await call('bounded-instance', 'POST', '/invites', { email: 'bo@example.com', role: 'view' }),
    };

    // Assess
    expect(refused).toMatchObject({ kind: 'forbidden', scope: 'instanceOrgInvite.resendInvite' });
    expect(statuses).toEqual({ resendWithResendInvite: 201, resendWithBroaderScopes: [201, 201, 201], boundedReads: [200, 200, 200, 200, 200, 200], boundedPost: 403 });
  });
});
