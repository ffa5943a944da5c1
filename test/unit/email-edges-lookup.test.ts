// test --> LosantClient.createInvite --> emulator (real HTTP on 127.0.0.1): recovery lookups compare addresses exactly
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { normalizeEmail } from '../../functions/sync/email.ts';

const TARGET = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const INVITES = '/instances/:instanceId/orgs/:orgId/invites';

let emulator: RunningEmulator;
let client: LosantClient;

function count(method: string, status: number): number {
  return emulator
    .stats()
    .requests.filter((r) => r.method === method && r.route === INVITES && r.status === status)
    .reduce((n, r) => n + r.count, 0);
}

function invitesOf(email: string): string[] {
  return emulator
    .invites(DEFAULT_ID, DEFAULT_ID)
    .filter((i) => i.email.toLowerCase() === email)
    .map((i) => i.id);
}

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, faultSeed: 1 });
  // every backoff of the client passes here: the first one heals the emulator, so the next request is clean
  const sleep = async (): Promise<void> => emulator.setFaults({ errorRate: 0, lostResponseRate: 0 });
  client = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, sleep, random: () => 0 });
});

afterEach(async () => {
  await client.close();
  await emulator.close();
});

describe('Function: LosantClient.createInvite', () => {
  it.each([
    ['a*b@x.com', 'axxb@x.com'],
    ['a?b@x.com', 'axb@x.com'],
    ['a*@x.com', 'a@x.com'],
  ])('returns the invite of %s, not of %s, when the POST answer is lost (no duplicate)', async (email, lookalike) => {
    // Arrange: the look-alike already has an invite that a glob lookup for `email` would match
    const other = emulator.addInvite(DEFAULT_ID, DEFAULT_ID, { email: lookalike, role: 'view' });
    emulator.setFaults({ lostResponseRate: 1 });

    // Act
    const result = await client.createInvite(TARGET, { email, role: 'edit' }, { deadline: Date.now() + 10_000 });

    // Assess
    expect(count('POST', 0)).toBe(1); // the answer really was lost
    expect(result.recovered).toBe(true);
    expect(result.invite.email).toBe(email);
    expect(result.invite.id).not.toBe(other.id);
    expect(invitesOf(email)).toEqual([result.invite.id]);
    expect(invitesOf(lookalike)).toEqual([other.id]);
    expect(emulator.stats().duplicateInvites).toBe(0);
  });

  it('POSTs again, rather than adopting a look-alike, when a refused POST left no invite of the exact address', async () => {
    // Arrange: the first POST is answered 503 before any effect; the lookup then matches only `axxb` by glob
    const other = emulator.addInvite(DEFAULT_ID, DEFAULT_ID, { email: 'axxb@x.com', role: 'view' });
    emulator.setFaults({ errorRate: 1 });

    // Act
    const result = await client.createInvite(TARGET, { email: 'a*b@x.com', role: 'edit' }, { deadline: Date.now() + 10_000 });

    // Assess
    expect(count('POST', 503)).toBe(1);
    expect(count('POST', 201)).toBe(1);
    expect(result.recovered).toBe(false);
    expect(result.invite.email).toBe('a*b@x.com');
    expect(result.invite.id).not.toBe(other.id);
    expect(invitesOf('a*b@x.com')).toEqual([result.invite.id]);
    expect(emulator.stats().duplicateInvites).toBe(0);
  });

  it('returns the invite of a 1 024-character address and of an IDN address (punycode) after a lost answer', async () => {
    // Arrange
    const domain = `${'b'.repeat(63)}.com`;
    const long = `${'a'.repeat(1024 - domain.length - 1)}@${domain}`;
    const idn = normalizeEmail('Jan+HR@Müller.de');

    for (const email of [long, idn]) {
      emulator.setFaults({ lostResponseRate: 1 });

      // Act
      const result = await client.createInvite(TARGET, { email, role: 'view' }, { deadline: Date.now() + 10_000 });

      // Assess
      expect(result).toMatchObject({ recovered: true, invite: { email } });
      expect(invitesOf(email)).toEqual([result.invite.id]);
    }
    expect(count('POST', 0)).toBe(2);
    expect(emulator.stats().duplicateInvites).toBe(0);
  });

  it('returns listed addresses in the normalised form, so an invite an admin typed in mixed case matches the roster', async () => {
    // Arrange: invites created by hand, as Losant keeps them
    emulator.addInvite(DEFAULT_ID, DEFAULT_ID, { email: 'Jane.Doe+HR@Example.COM', role: 'view' });
    emulator.addInvite(DEFAULT_ID, DEFAULT_ID, { email: 'jan@XN--MLLER-KVA.de', role: 'view' });

    // Act
    const listed = await client.listInvites(TARGET);

    // Assess
    expect(listed.map((i) => i.email).sort()).toEqual([normalizeEmail('jan@Müller.de'), normalizeEmail('Jane.Doe+HR@example.com')].sort());
  });

  it('refuses a 1 025-character address before sending anything', async () => {
    // Arrange
    const domain = `${'b'.repeat(63)}.com`;
    const over = `${'a'.repeat(1025 - domain.length - 1)}@${domain}`;

    // Act / Assess
    await expect(client.createInvite(TARGET, { email: over, role: 'view' })).rejects.toMatchObject({ name: 'LosantApiError', kind: 'badRequest' });
    expect(emulator.stats().requests).toEqual([]);
  });
});
