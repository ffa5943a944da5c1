// chaos --> runSync / ingestHrEvent with a DynamoDB client that throttles, conflicts and leaves items unprocessed
// (seeded SDK middleware) --> every POST finds its intent already saved; runs end cleanly; a retry converges
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../../emulator/index.ts';
import { LosantClient } from '../../../functions/losant/client.ts';
import { DynamoStateStore } from '../../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../../functions/state/table-design.ts';
import { parseSyncConfig, type SyncConfig } from '../../../functions/config/sync-config.schema.ts';
import { runSync, type SyncDeps } from '../../../functions/sync/reconcile.ts';
import { ingestHrEvent } from '../../../functions/sync/ingest.ts';
import { toPerson } from '../../../functions/sync/people.ts';
import { StateError } from '../../../functions/sync/errors.ts';
import { SETTLE_MS } from '../../../functions/sync/ownership.ts';
import type { RunReport } from '../../../functions/sync/types.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../cli/local-dynamodb.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../../helpers/dynamo.ts';
import { memoryLog } from '../../helpers/sync-harness.ts';
import {
  addDynamoFaults, chaosCount, faultFigures, inviteCounts, ledgerDisagreements, startIntentProxy,
  type DynamoFaultLog, type DynamoFaultOptions, type IntentProxy,
} from '../../helpers/chaos.ts';

const target = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const SEEDS = Array.from({ length: chaosCount(2, 10) }, (_, i) => 9_000 + i);
const PEOPLE = chaosCount(60, 150);
const WAVES = 3;
const ERROR_CODES = ['leaseBusy', 'unauthorized', 'forbidden', 'unreachable', 'deadline', 'notFound', 'invalidResponse', 'other'];

interface World {
  emulator: RunningEmulator;
  faulty: DynamoDBClient;
  clean: DynamoDBClient;
  proxy: IntentProxy;
  api: LosantClient;
  store: DynamoStateStore;
  deps: SyncDeps;
  config: SyncConfig;
  faults: DynamoFaultLog;
}

let world: World | undefined;

/** `complete`, or the error code and message (emails in store errors are already masked). */
const runOutcome = (r: RunReport): string => {
  const t = r.targets[0];
  if (r.complete) return 'complete';
  return t?.blocked ? `blocked: ${t.blocked}` : `${t?.error?.code ?? '?'}: ${t?.error?.message ?? ''}`;
};
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

const RANDOM_FAULTS = { throttleRate: 0.2, leaseConflictRate: 0.25, unprocessedRate: 0.3 };

async function build(seed: number, faultOptions: Omit<DynamoFaultOptions, 'seed'> = RANDOM_FAULTS): Promise<World> {
  const emulator = await startEmulator({ port: 0, latencyMs: 2, lostResponseRate: 0.1, faultSeed: seed });
  const tableName = uniqueTableName('ddbfault');
  const clean = localDynamoClient();
  await createTableIfMissing(clean, tableName);
  const faulty = new DynamoDBClient({ endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const faults = addDynamoFaults(faulty, { seed, ...faultOptions });
  faults.active = false;
  const store = new DynamoStateStore({ tableName, client: faulty });
  const proxy = await startIntentProxy({ upstream: emulator.url, client: clean, tableName, target });
  const log = memoryLog();
  const api = new LosantClient({ baseUrl: proxy.url, token: DEFAULT_TOKEN, log });
  const config = parseSyncConfig({
    targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }],
    leaseSeconds: 10,
    concurrency: 8,
    // each wave doubles the org: the fraction brake would hold it back, and brakes are not under test here
    limits: { minSizeForFraction: 100_000 },
  });
  return { emulator, faulty, clean, proxy, api, store, deps: { api, store, clock: { now: () => Date.now() }, log }, config, faults };
}

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  if (world) {
    await world.api.close();
    await world.proxy.close();
    await world.emulator.close();
    world.faulty.destroy();
    world.clean.destroy();
  }
  world = undefined;
});

describe('Function: runSync (apply) with DynamoDB faults', () => {
  it.each(SEEDS)(
    'never sends a POST before its intent is saved, ends every run cleanly, and converges with 0 duplicates (seed %i)',
    async (seed) => {
      // Arrange: the roster arrives in waves through the faulty client; a failed ingest is retried as a sender would
      world = await build(seed);
      const w = world;
      const emails = Array.from({ length: PEOPLE }, (_, i) => `ddb${i}.s${seed}@example.com`);
      const waveSize = Math.ceil(PEOPLE / WAVES);
      let ingestFailures = 0;
      const ingestWave = async (wave: number): Promise<void> => {
        const event = {
          id: `snap-${randomUUID()}`,
          type: 'roster.snapshot' as const,
          occurredAt: new Date(Date.now() + wave).toISOString(),
          source: 'default',
          people: emails.slice(0, (wave + 1) * waveSize).map((email) => toPerson({ email })),
        };
        for (let attempt = 1; ; attempt++) {
          try {
            await ingestHrEvent(w.deps, event, { targets: w.config.targets });
            return;
          } catch (err) {
            // a failed ingest is a clean StateError, and the same event goes in again
            expect(err).toBeInstanceOf(StateError);
            ingestFailures++;
            expect(attempt).toBeLessThan(10);
          }
        }
      };
      w.faults.active = true;

      // Act: one run under faults per wave, then one clean run that may wait for a lease a faulted run left behind
      const faulted: RunReport[] = [];
      for (let wave = 0; wave < WAVES; wave++) {
        await ingestWave(wave);
        faulted.push(await runSync(w.deps, w.config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + 30_000, waitForLeaseMs: 11_000 }));
      }
      w.faults.active = false;
      // An intent whose run died on a DynamoDB error may have had its POST in flight: the next run leaves it
      // settling (ledger.ts intentStatus) until its run's end (at most the lease after it) + SETTLE_SECONDS.
      // The clean run comes after that, as the schedule's would.
      const later = w.config.leaseSeconds * 1000 + SETTLE_MS + 1000;
      const settledDeps = { ...w.deps, clock: { now: () => Date.now() + later } };
      const final = await runSync(settledDeps, w.config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + later + 30_000, waitForLeaseMs: 15_000 });

      // Assess
      const figures = faultFigures(w.emulator);
      console.log(
        `[chaos] dynamo faults seed ${seed}: ${PEOPLE} people; injected throttles ${w.faults.throttled}, lease conflicts ${w.faults.leaseConflicts}, ` +
          `partial batches ${w.faults.unprocessed} in ${w.faults.calls} calls; ingest retries ${ingestFailures}; ` +
          `runs ${JSON.stringify(faulted.map(runOutcome))} then ${final.complete ? 'complete' : 'incomplete'}; ` +
          `POSTs ${w.proxy.posts.length}, lost answers ${figures.injected.lost}, duplicates ${figures.duplicateInvites}`,
      );
      expect(w.faults.throttled + w.faults.leaseConflicts + w.faults.unprocessed).toBeGreaterThan(0);
      // the order: every POST found its email's intent in the table when it arrived
      expect(w.proxy.posts.length).toBeGreaterThanOrEqual(PEOPLE);
      expect(w.proxy.posts.filter((p) => p.ledgerState !== 'intent').map((p) => p.ledgerState)).toEqual([]);
      // clean ends: a report for every run, an error code whenever incomplete, nothing unhandled
      for (const r of faulted) {
        const t = r.targets[0]!;
        expect(t.blocked).toBeNull();
        if (!r.complete) expect(ERROR_CODES).toContain(t.error?.code);
      }
      expect(unhandled).toEqual([]);
      // convergence
      expect(final.complete).toBe(true);
      const counts = inviteCounts(w.emulator, target);
      expect([...counts.keys()].sort()).toEqual([...emails].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(figures.duplicateInvites).toBe(0);
      expect(await ledgerDisagreements(w.store, w.emulator, target)).toEqual([]);
    },
    120_000,
  );

  it('stops before any POST when the intents cannot be saved, reports the run incomplete, and a retry converges', async () => {
    // Arrange: every BatchWriteItem is throttled, past the SDK's own retries
    world = await build(77, { throttleRate: 1, throttleCommands: ['BatchWriteItemCommand'] });
    const w = world;
    const emails = Array.from({ length: 30 }, (_, i) => `stop${i}@example.com`);
    await ingestHrEvent(
      w.deps,
      { id: 'snap-stop', type: 'roster.snapshot', occurredAt: new Date().toISOString(), source: 'default', people: emails.map((email) => toPerson({ email })) },
      { targets: w.config.targets },
    );
    // the table's first read backfills its person index (BatchWriteItem too), as a stage's first run does
    await w.store.listPeople();
    w.faults.active = true;

    // Act
    const failed = await runSync(w.deps, w.config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + 30_000 });
    w.faults.active = false;
    const retried = await runSync(w.deps, w.config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + 30_000, waitForLeaseMs: 15_000 });

    // Assess
    expect(w.faults.throttled).toBeGreaterThan(0);
    expect(failed.complete).toBe(false);
    expect(failed.targets[0]?.error?.code).toBe('other');
    expect(failed.targets[0]?.error?.message).toMatch(/putLedgerEntries/);
    expect(failed.targets[0]?.done.invite).toBe(0);
    expect(unhandled).toEqual([]);
    expect(retried.complete).toBe(true);
    expect(retried.targets[0]?.done.invite).toBe(30);
    expect(w.proxy.posts).toHaveLength(30);
    expect(w.proxy.posts.every((p) => p.ledgerState === 'intent')).toBe(true);
    expect(inviteCounts(w.emulator, target).size).toBe(30);
    expect(faultFigures(w.emulator).duplicateInvites).toBe(0);
  }, 60_000);
});
