// Offboarding end to end (policy.removeLeftMembers): real emulator over HTTP + DynamoDB Local + the real use
// cases, and the CLI's `plan` as a child process against the same emulator and table.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TOKEN } from '../../emulator/index.ts';
import { INSTANCE, ORG, person, startHarness, type Harness } from '../helpers/sync-harness.ts';
import { dynamoEndpoint } from '../helpers/dynamo.ts';
import { runCli } from '../helpers/cli.ts';

const OWNER = 'owner@example.com';
/** the harness's token belongs to the org's admin (GET /me answers it) */
const seed = (scopes: string[] = ['all.Instance', 'me.get']) => ({
  tokens: [{ token: DEFAULT_TOKEN, scopes, userEmail: OWNER }],
  instances: [{ id: INSTANCE, orgs: [{ id: ORG, members: [{ email: OWNER, role: 'admin' as const }] }] }],
});
const memberEmails = (h: Harness): string[] => h.emulator.members(INSTANCE, ORG).map((m) => m.email);
const deletes = (h: Harness): number =>
  h.emulator.stats().requests.filter((r) => r.method === 'DELETE' && r.route === '/instances/:instanceId/orgs/:orgId/members/:userId' && r.status === 200).reduce((n, r) => n + r.count, 0);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** ann and bob are invited by invite-sync, ann accepts, a run sees her as a member, then HR's roster drops her. */
async function annAcceptedThenLeft(removeLeftMembers: boolean, scopes?: string[]): Promise<Harness> {
  const harness = await startHarness({ emulator: { seed: seed(scopes) }, config: { policy: { removeLeftMembers } } });
  await harness.roster([person('ann@example.com'), person('bob@example.com')], new Date(Date.now() - 60_000).toISOString());
  await harness.apply();
  harness.emulator.acceptInvite(INSTANCE, ORG, 'ann@example.com');
  await harness.apply();
  await harness.roster([person('bob@example.com')]);
  return harness;
}

describe('Function: runSync (policy.removeLeftMembers)', () => {
  it('removes a leaver who accepted our invite with the policy on (DELETE /members/{userId}); the admin who owns the token stays', async () => {
    // Arrange
    h = await annAcceptedThenLeft(true);

    // Act
    const report = await h.apply();
    const again = await h.apply();

    // Assess
    expect(report.targets[0]).toMatchObject({ planned: { remove: 1 }, done: { remove: 1 }, failed: 0, complete: true });
    expect(memberEmails(h)).toEqual([OWNER]);
    expect(deletes(h)).toBe(1);
    const entry = (await h.store.getLedger({ instanceId: INSTANCE, orgId: ORG })).find((e) => e.email === 'ann@example.com');
    expect(entry?.state).toBe('revoked');
    expect(again.targets[0]!.planned.remove).toBe(0);
  });

  it('keeps the leaver with the policy off (the default)', async () => {
    // Arrange
    h = await annAcceptedThenLeft(false);

    // Act
    const report = await h.apply();

    // Assess
    expect(report.targets[0]!.planned.remove).toBe(0);
    expect(memberEmails(h)).toEqual(['ann@example.com', OWNER]);
    expect(deletes(h)).toBe(0);
  });

  it('removes nobody while the token may not read GET /me: skip missingScope and a me.get warning', async () => {
    // Arrange
    h = await annAcceptedThenLeft(true, ['all.Instance']);

    // Act
    const report = await h.apply();

    // Assess
    expect(report.targets[0]).toMatchObject({ planned: { remove: 0 }, skipped: { missingScope: 1 }, warnings: [{ code: 'missingScope', scope: 'me.get' }] });
    expect(memberEmails(h)).toEqual(['ann@example.com', OWNER]);
  });

  it('a token without instanceOrgMember.delete: the removal is skipped as missingScope with a warning; invites still go out', async () => {
    // Arrange
    h = await annAcceptedThenLeft(true, ['all.Instance.read', 'instanceOrgInvites.*', 'me.get']);
    await h.roster([person('bob@example.com'), person('cy@example.com')]);

    // Act
    const report = await h.apply();

    // Assess
    expect(report.targets[0]).toMatchObject({ done: { invite: 1, remove: 0 }, skipped: { missingScope: 1 }, warnings: [{ code: 'missingScope', scope: 'instanceOrgMember.delete' }] });
    expect(memberEmails(h)).toEqual(['ann@example.com', OWNER]);
    // the stored run keeps the warning (run record bug)
    const stored = await h.store.getRun(report.runId);
    expect(stored?.targets[0]?.warnings).toEqual([{ code: 'missingScope', scope: 'instanceOrgMember.delete' }]);
  });

  it('`invite-sync plan` shows `- remove <email>` and --json lists the remove action; nothing is removed', async () => {
    // Arrange
    h = await annAcceptedThenLeft(true);
    const dir = await mkdtemp(join(tmpdir(), 'offboard-'));
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ targets: h.config.targets, policy: { removeLeftMembers: true } }));
    const env = { LOSANT_API_URL: h.emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: h.tableName };

    // Act
    const text = await runCli(['plan', '--config', config], env);
    const json = await runCli(['plan', '--config', config, '--json'], env);

    // Assess
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}- remove {2}ann@example\.com {2}edit {2}left the roster$/m);
    expect(text.stdout).toContain('Plan: 1 to remove.');
    expect(text.stdout).toMatch(/target +desired +pending +members +invite +renew +fixRole +revoke +remove +failed +status/);
    const body = JSON.parse(json.stdout) as { targets: { planned: { remove: number }; actions: { kind: string; email: string; userId?: string }[] }[] };
    expect(body.targets[0]!.planned.remove).toBe(1);
    expect(body.targets[0]!.actions).toEqual([expect.objectContaining({ kind: 'remove', email: 'ann@example.com', userId: expect.stringMatching(/^[0-9a-f]{24}$/) })]);
    expect(memberEmails(h)).toEqual(['ann@example.com', OWNER]);
  });
});
