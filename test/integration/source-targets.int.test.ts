// Issue 16 (sources.<name>.targets): runSync over DynamoDB Local and the Losant emulator (real HTTP): a source
// restricted to one target invites nobody into the others, and does not speak for a person in them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ID } from '../../emulator/index.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { toPerson } from '../../functions/sync/people.ts';
import { startHarness, type Harness } from '../helpers/sync-harness.ts';

const OPS_ORG = 'b1b2b3b4b5b6b7b8b9b0b1b2';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    emulator: { seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID }, { id: OPS_ORG }] }] } },
    config: {
      targets: [
        { name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'edit' }] },
        { name: 'ops', instanceId: DEFAULT_ID, orgId: OPS_ORG, rules: [{ when: {}, role: 'view' }] },
      ],
      sources: { contractors: { targets: ['eng'] } },
    },
  });
});

afterAll(async () => {
  await h?.close();
});

const snapshot = (source: string, emails: string[], minutesAgo: number) =>
  ingestHrEvent(
    h.deps,
    { id: `${source}-${minutesAgo}`, type: 'roster.snapshot', occurredAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(), source, people: emails.map((email) => toPerson({ email })) },
    { targets: h.config.targets, sources: h.config.sources },
  );

const invited = (orgId: string): string[] => h.emulator.invites(DEFAULT_ID, orgId).map((i) => i.email).sort();

describe('Function: runSync (sources.<name>.targets)', () => {
  it('invites people of a source restricted to eng into eng only; a person also in an unrestricted source is invited to both', async () => {
    // Arrange: `contractors` feeds eng only; `default` feeds every target. both@ is in both, newest in contractors
    await snapshot('default', ['staff@example.com', 'both@example.com'], 20);
    await snapshot('contractors', ['temp@example.com', 'both@example.com'], 10);

    // Act
    const report = await h.apply();

    // Assess
    expect(report.targets.map((t) => [t.name, t.desired])).toEqual([['eng', 3], ['ops', 2]]);
    expect(invited(DEFAULT_ID)).toEqual(['both@example.com', 'staff@example.com', 'temp@example.com']);
    expect(invited(OPS_ORG)).toEqual(['both@example.com', 'staff@example.com']);
  });
});
