// chaos --> runSync against an emulator that fails, loses answers and rate-limits (seeded) --> N invites, 0 duplicates
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorOptions } from '../../../emulator/index.ts';
import { INSTANCE, ORG, person, startHarness, type Harness } from '../../helpers/sync-harness.ts';
import { chaosCount, faultFigures, inviteCounts, ledgerDisagreements } from '../../helpers/chaos.ts';
import type { RunReport } from '../../../functions/sync/types.ts';
import { runSync } from '../../../functions/sync/reconcile.ts';
import { SETTLE_MS } from '../../../functions/sync/ownership.ts';

const target = { instanceId: INSTANCE, orgId: ORG };
const MAX_RUNS = 3;
let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Profile {
  name: string;
  people: number;
  faults: Pick<EmulatorOptions, 'errorRate' | 'lostResponseRate' | 'rateLimit' | 'faultSeed' | 'latencyMs'>;
}

const PROFILES: Profile[] = [
  // the matrix: 300 missing invites (CI: 120), 20 % 503, 10 % lost answers, 40 requests/s
  { name: 'mixed', people: chaosCount(120, 300), faults: { errorRate: 0.2, lostResponseRate: 0.1, rateLimit: 40, faultSeed: 20_240_501 } },
  // every other mutating answer lost: recovery by exact lookup carries the run
  { name: 'lost answers', people: chaosCount(40, 150), faults: { lostResponseRate: 0.5, faultSeed: 11 } },
  // half the requests refused with 503 before any effect
  { name: 'unavailable', people: chaosCount(40, 150), faults: { errorRate: 0.5, faultSeed: 12 } },
  // a tight rate limit: 429 with Retry-After paces the client
  { name: 'rate limited', people: chaosCount(30, 100), faults: { rateLimit: 8, faultSeed: 13 } },
];

describe('Function: runSync (apply) under injected Losant faults', () => {
  it.each(PROFILES)(
    'invites exactly N people once each within three runs, with 0 duplicates and a ledger that agrees ($name)',
    async ({ name, people, faults }) => {
      // Arrange
      h = await startHarness({ emulator: faults });
      const emails = Array.from({ length: people }, (_, i) => `fm${i}.${name.replace(/\s/g, '-')}@example.com`);
      await h.roster(emails.map((e) => person(e)));

      // Act: apply until everyone is invited, at most three runs; a POST whose answer was a 5xx or lost
      // leaves an intent that settles for SETTLE_SECONDS, so each later run looks that far past the one before
      const reports: RunReport[] = [];
      const later = (runs: number) => ({ now: () => Date.now() + runs * (SETTLE_MS + 10_000) });
      const applyAfter = (runs: number) => runSync({ ...h!.deps, clock: later(runs) }, h!.config, { mode: 'apply', trigger: 'cli', deadline: later(runs).now() + 60_000 });
      for (let run = 1; run <= MAX_RUNS; run++) {
        reports.push(await applyAfter(run - 1));
        if (inviteCounts(h.emulator, target).size === people) break;
      }

      // Assess
      const counts = inviteCounts(h.emulator, target);
      const figures = faultFigures(h.emulator);
      console.log(`[chaos] fault matrix "${name}": ${people} people, ${reports.length} run(s), ` + `done per run ${JSON.stringify(reports.map((r) => r.targets[0]?.done.invite))}, ${JSON.stringify(figures)}`);
      expect([...counts.keys()].sort()).toEqual([...emails].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(figures.duplicateInvites).toBe(0);
      expect(await ledgerDisagreements(h.store, h.emulator, target)).toEqual([]);
      const ledger = await h.store.getLedger(target);
      // every invite is known to the ledger: sent, or an intent whose invite the next run adopts
      expect(ledger.filter((e) => e.state === 'sent' || e.state === 'intent').map((e) => e.email).sort()).toEqual([...emails].sort());
      // the faults were real: the profile's kind of fault was injected
      if (faults.errorRate) expect(figures.injected.unavailable).toBeGreaterThan(0);
      if (faults.lostResponseRate) expect(figures.injected.lost).toBeGreaterThan(0);
      if (faults.rateLimit) expect(figures.injected.rateLimited).toBeGreaterThan(0);
      // and a later run finds nothing to do
      const settled = await applyAfter(MAX_RUNS);
      expect(settled.targets[0]?.planned.invite).toBe(0);
      expect(faultFigures(h.emulator).duplicateInvites).toBe(0);
    },
    240_000,
  );

  it('retries many calls at once without a process warning (MaxListenersExceeded on the run\'s abort signal)', async () => {
    // Arrange: 16 workers that all back off at the same time
    h = await startHarness({ emulator: { errorRate: 0.6, faultSeed: 21 }, config: { concurrency: 16 } });
    await h.roster(Array.from({ length: 64 }, (_, i) => person(`warn${i}@example.com`)));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(`${w.name}: ${w.message}`);
    };
    process.on('warning', onWarning);

    // Act
    try {
      await h.apply();
    } finally {
      process.off('warning', onWarning);
    }

    // Assess
    expect(faultFigures(h.emulator).injected.unavailable).toBeGreaterThan(16);
    expect(warnings).toEqual([]);
  }, 60_000);
});

