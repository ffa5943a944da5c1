// Issue 16 (start and end dates): runSync over DynamoDB Local and the Losant emulator (real HTTP) with an injected
// clock that walks two hires across local midnight of their start date, in Asia/Tokyo and America/Los_Angeles, and a
// leaver across the local end of their end date; plan --json's upcoming (the next 50, in the config's timeZone).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { runCli } from '../helpers/cli.ts';
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { dateSettings, localMidnight } from '../../functions/sync/dates.ts';
import { runSync } from '../../functions/sync/reconcile.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { toPerson } from '../../functions/sync/people.ts';
import { startHarness, type Harness } from '../helpers/sync-harness.ts';

const DAY = 86_400_000;
const MINUTE = 60_000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ config: { timeZone: 'Europe/Berlin', people: { startDateField: 'startDate', endDateField: 'endDate', timeZoneField: 'tz' } } });
});

afterAll(async () => {
  await h?.close();
});

/** A start date 10 days from now (relative: nothing here ages). */
const START = new Date(Date.now() + 10 * DAY).toISOString().slice(0, 10);
const invited = (): string[] => h.emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email).sort();
const applyAt = (now: number) => runSync({ ...h.deps, clock: { now: () => now } }, h.config, { mode: 'apply', trigger: 'schedule', deadline: now + 60_000 });

describe('Function: runSync (people.startDateField across local midnight)', () => {
  it('invites each hire on the first run after local midnight of their start date, not before; skip key notStarted', async () => {
    // Arrange
    const people = [
      toPerson({ email: 'tokyo@example.com', startDate: START, tz: 'Asia/Tokyo' }),
      toPerson({ email: 'la@example.com', startDate: START, tz: 'America/Los_Angeles' }),
    ];
    await ingestHrEvent(h.deps, { id: 'hires', type: 'roster.snapshot', occurredAt: new Date(Date.now() - MINUTE).toISOString(), source: 'default', people }, { targets: h.config.targets, dates: dateSettings(h.config)! });
    const tokyo = localMidnight(START, 'Asia/Tokyo')!;
    const la = localMidnight(START, 'America/Los_Angeles')!;

    // Act
    const beforeTokyo = await applyAt(tokyo - MINUTE);
    const invitedBeforeTokyo = invited();
    const afterTokyo = await applyAt(tokyo + MINUTE);
    const invitedAfterTokyo = invited();
    const beforeLa = await applyAt(la - MINUTE);
    const invitedBeforeLa = invited();
    const afterLa = await applyAt(la + MINUTE);

    // Assess
    expect(la - tokyo).toBeGreaterThanOrEqual(16 * 3600_000);
    expect(beforeTokyo.targets[0]).toMatchObject({ desired: 0, skipped: { notStarted: 2 } });
    expect(invitedBeforeTokyo).toEqual([]);
    expect(afterTokyo.targets[0]).toMatchObject({ desired: 1, skipped: { notStarted: 1 } });
    expect(invitedAfterTokyo).toEqual(['tokyo@example.com']);
    expect(beforeLa.targets[0]).toMatchObject({ skipped: { notStarted: 1 } });
    expect(invitedBeforeLa).toEqual(['tokyo@example.com']);
    expect(afterLa.targets[0]).toMatchObject({ desired: 2, skipped: { notStarted: 0 } });
    expect(invited()).toEqual(['la@example.com', 'tokyo@example.com']);
  });

  it('refuses a snapshot with a start date over 400 days ahead, naming people.<n>.startDate; stores nothing', async () => {
    // Arrange
    // 402 days as a UTC date: its local midnight is over 400 days ahead in every zone (+14 h at most) at any time
    // of day; 401 was not, in the last hour of a UTC day, for the config's Europe/Berlin (midnight 23:00 UTC)
    const far = new Date(Date.now() + 402 * DAY).toISOString().slice(0, 10);
    const event = { id: 'far', type: 'roster.snapshot' as const, occurredAt: new Date().toISOString(), source: 'far', people: [toPerson({ email: 'ok@example.com' }), toPerson({ email: 'far@example.com', startDate: far })] };

    // Act
    const err = await ingestHrEvent(h.deps, event, { targets: h.config.targets, dates: dateSettings(h.config)! }).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe('people.1.startDate: more than 400 days ahead');
    expect((await h.store.listPeople()).filter((p) => p.source === 'far')).toEqual([]);
  });
});

describe('Function: runSync (a full org and people.startDateField)', () => {
  it('gives the free seats to the earliest start dates, then people without one; the rest are skipped noSeat', async () => {
    // Arrange: 2 free seats, four hires from one snapshot (same HR event time: by email a and b would win)
    const dated = await startHarness({ config: { people: { startDateField: 'startDate' } } });
    const day = (ago: number): string => new Date(Date.now() - ago * DAY).toISOString().slice(0, 10);
    try {
      dated.emulator.setMemberLimit(DEFAULT_ID, DEFAULT_ID, dated.emulator.members(DEFAULT_ID, DEFAULT_ID).length + 2);
      await dated.roster([{ email: 'a@example.com', startDate: day(1) }, { email: 'b@example.com', startDate: day(20) }, { email: 'c@example.com', startDate: day(10) }, { email: 'd@example.com' }]);

      // Act
      const report = await dated.apply();

      // Assess
      expect(report.targets[0]).toMatchObject({ skipped: { noSeat: 2 }, blocked: null, seats: { free: 0, noSeat: 2 } });
      expect(dated.emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email).sort()).toEqual(['b@example.com', 'c@example.com']);
    } finally {
      await dated.close();
    }
  });
});

describe('Function: plan (upcoming starts)', () => {
  it('lists upcoming: [{ email, startsAt }] by startsAt in plan --json, a bad roster date is a bad row naming the field', async () => {
    // Arrange: the hires of the first test start in 10 days, both still ahead of the real clock
    const dir = await mkdtemp(join(tmpdir(), 'invite-sync-dates-'));
    const config = join(dir, 'sync-config.json');
    const roster = join(dir, 'bad.csv');
    await writeFile(config, JSON.stringify({ targets: h.config.targets, people: { startDateField: 'startDate', timeZoneField: 'tz' } }));
    await writeFile(roster, 'email,startDate\nbad@example.com,2030-02-30\n');
    const env = { LOSANT_API_URL: h.emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: h.tableName };

    try {
      // Act
      const plan = await runCli(['plan', '--config', config, '--json'], env);
      const bad = await runCli(['plan', '--config', config, '--roster', roster], env);

      // Assess
      // the first test's runs (clock 10 days ahead) sent both invites; by the real clock nobody has started: emptyDesired
      expect(plan.code).toBe(3);
      expect((JSON.parse(plan.stdout) as { upcoming: unknown }).upcoming).toEqual([
        { email: 'tokyo@example.com', startsAt: new Date(localMidnight(START, 'Asia/Tokyo')!).toISOString() },
        { email: 'la@example.com', startsAt: new Date(localMidnight(START, 'America/Los_Angeles')!).toISOString() },
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('line 2: startDate: must be a date YYYY-MM-DD (got "2030-02-30")');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Function: plan (the next 50 starts, the config timeZone)', () => {
  it("lists only the next 50 of 51 upcoming starts, by startsAt, at local midnight of the config's timeZone for people without a zone", async () => {
    // Arrange: a table of its own; 51 hires in a roster, one a day from 10 days ahead, none with a zone of their own
    const client = localDynamoClient();
    const table = uniqueTableName('dates-upcoming');
    await createTableIfMissing(client, table);
    const dir = await mkdtemp(join(tmpdir(), 'invite-sync-upcoming-'));
    const config = join(dir, 'sync-config.json');
    const roster = join(dir, 'hires.csv');
    const day = (i: number): string => new Date(Date.now() + (10 + i) * DAY).toISOString().slice(0, 10);
    const hires = Array.from({ length: 51 }, (_, i) => ({ email: `hire${String(i).padStart(2, '0')}@example.com`, startDate: day(i) }));
    await writeFile(config, JSON.stringify({ targets: h.config.targets, timeZone: 'Asia/Tokyo', people: { startDateField: 'startDate' } }));
    await writeFile(roster, ['email,startDate', ...hires.reverse().map((x) => `${x.email},${x.startDate}`)].join('\n') + '\n');
    hires.reverse();
    const env = { LOSANT_API_URL: h.emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table };

    try {
      // Act
      const plan = await runCli(['plan', '--config', config, '--roster', roster, '--json'], env);

      // Assert: nobody has started yet; the last hire is left out
      expect(plan.code, plan.stderr).toBe(0);
      const doc = JSON.parse(plan.stdout) as { upcoming: { email: string; startsAt: string }[]; targets: { skipped: Record<string, number> }[] };
      expect(doc.targets[0]?.skipped).toMatchObject({ notStarted: 51 });
      expect(doc.upcoming).toEqual(hires.slice(0, 50).map((x) => ({ email: x.email, startsAt: new Date(localMidnight(x.startDate, 'Asia/Tokyo')!).toISOString() })));
      expect(doc.upcoming[0]!.startsAt).toBe(`${new Date(Date.parse(`${hires[0]!.startDate}T00:00:00Z`) - DAY).toISOString().slice(0, 10)}T15:00:00.000Z`);
    } finally {
      client.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Function: runSync (people.endDateField across the local end of the end date)', () => {
  let leave: Harness;
  beforeAll(async () => {
    leave = await startHarness({ config: { policy: { revokeLeft: true }, people: { startDateField: 'startDate', endDateField: 'endDate', timeZoneField: 'tz' } } });
  });
  afterAll(async () => {
    await leave?.close();
  });

  it('keeps a leaver invited through their last local day and revokes the invite on the first run after its end (revokeLeft)', async () => {
    // Arrange: a contract that ends 10 days from now, in Los Angeles (its end is local midnight after that day);
    // a colleague who stays keeps the desired set from being empty (the emptyDesired brake)
    const people = [toPerson({ email: 'leaver@example.com', endDate: START, tz: 'America/Los_Angeles' }), toPerson({ email: 'stayer@example.com' })];
    await ingestHrEvent(leave.deps, { id: 'leaver', type: 'roster.snapshot', occurredAt: new Date(Date.now() - MINUTE).toISOString(), source: 'default', people }, { targets: leave.config.targets, dates: dateSettings(leave.config)! });
    const nextDay = new Date(Date.parse(`${START}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
    const ends = localMidnight(nextDay, 'America/Los_Angeles')!;
    const at = (now: number) => runSync({ ...leave.deps, clock: { now: () => now } }, leave.config, { mode: 'apply', trigger: 'schedule', deadline: now + 60_000 });
    const pending = (): string[] => leave.emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email);

    // Act
    const lastDay = await at(ends - 10 * MINUTE);
    const invitedOnLastDay = pending();
    const after = await at(ends + MINUTE);

    // Assert
    expect(lastDay.targets[0]).toMatchObject({ desired: 2 });
    expect(invitedOnLastDay.sort()).toEqual(['leaver@example.com', 'stayer@example.com']);
    expect(after.targets[0]).toMatchObject({ desired: 1 });
    expect(pending()).toEqual(['stayer@example.com']);
  });
});
