// bench/run.ts --> rate-bound apply --> runSync (LosantClient's governor against the emulator's token bucket)
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { runSync } from '../../functions/sync/reconcile.ts';
import { systemClock } from '../../functions/sync/ports.ts';
import { quietLog, type Scenario } from '../lib/context.ts';
import { countRequests, ROUTES, startRemoteEmulator } from '../lib/remote-emulator.ts';
import { within, type Row } from '../lib/report.ts';
import { BENCH_RULES, orgIdOf, people } from '../lib/roster.ts';
import { median } from '../lib/stats.ts';

const INVITES = 500;
const RATE = 50;
const REPS = 3;
/** statuses the bucket never charged: refused before it (401, 403) or by it (429) */
const UNCHARGED = new Set([401, 403, 429]);

interface RateSample {
  ms: number;
  charged: number;
  total: number;
  throttled: number;
  posts: number;
  duplicates: number;
  idealMs: number;
  complete: boolean;
  invited: number;
}

/** Scenario 3: 500 missing invites against a 50 requests/s token bucket (capacity 50). */
export const applyRateScenario: Scenario = {
  id: '3',
  title: 'Rate-bound apply, 500 invites at 50 requests/s',
  async run(ctx, scope) {
    const orgs = Array.from({ length: REPS }, (_, i) => orgIdOf(100 + i));
    const emu = await startRemoteEmulator(scope, { rateLimit: RATE, seed: { instances: [{ id: DEFAULT_ID, orgs: orgs.map((id) => ({ id })) }] } });
    const ddb = await ctx.dynamoClient(scope);
    const tableName = await ctx.table(ddb, 'rate', scope);
    const store = new DynamoStateStore({ tableName, client: ddb, writeConcurrency: 16 });
    await store.replaceSource('default', people(INVITES), new Date().toISOString());

    const samples: RateSample[] = [];
    for (const [r, orgId] of orgs.entries()) {
      const config = parseSyncConfig({
        targets: [{ name: `rate-${r}`, instanceId: DEFAULT_ID, orgId, rules: BENCH_RULES }],
        limits: { maxInvitesPerRun: 100_000, maxChangeFraction: 1000 },
        concurrency: 16,
      });
      // a fresh client (its governor knows nothing yet) and a full bucket, as at the start of an invocation
      const log = quietLog();
      const api = new LosantClient({ baseUrl: emu.url, token: DEFAULT_TOKEN, log });
      await emu.setFaults({ rateLimit: 0 });
      await emu.setFaults({ rateLimit: RATE });
      await emu.reset();
      const start = performance.now();
      const report = await runSync({ api, store, clock: systemClock, log }, config, { mode: 'apply', trigger: 'cli', deadline: Date.now() + 120_000 });
      const ms = performance.now() - start;
      await api.close();
      const failure = report.targets[0]?.error;
      if (!report.complete) throw new Error(`the apply run did not complete: ${failure ? `${failure.code}: ${failure.message}` : 'no target report'}`);
      const stats = await emu.stats();
      const total = countRequests(stats, {});
      const charged = countRequests(stats, { status: (s) => !UNCHARGED.has(s) });
      samples.push({
        ms,
        charged,
        total,
        throttled: countRequests(stats, { status: (s) => s === 429 }),
        posts: countRequests(stats, { method: 'POST', route: ROUTES.invites, status: (s) => s === 201 }),
        duplicates: stats.duplicateInvites,
        idealMs: (Math.max(0, charged - RATE) / RATE) * 1000,
        complete: report.complete,
        invited: report.targets[0]?.done.invite ?? 0,
      });
    }
    const ratios = samples.map((s) => s.ms / s.idealMs);
    const shares = samples.map((s) => s.throttled / s.total);
    const ok = samples.every((s) => s.complete && s.invited === INVITES && s.posts === INVITES);
    const duplicates = samples.reduce((n, s) => n + s.duplicates, 0);
    const mid = samples[ratios.indexOf(median(ratios))] ?? samples[0]!;
    const rows: Row[] = [
      {
        id: '3a',
        metric: `runSync apply, ${INVITES} invites at ${RATE}/s (median of ${REPS})`,
        value: median(samples.map((s) => s.ms)),
        unit: 'ms',
        baseline: { label: `ideal (charged ${mid.charged} − ${RATE}) ÷ ${RATE}/s`, value: mid.idealMs, unit: 'ms' },
        ratio: median(ratios),
        target: '≤ 1.15× ideal',
        status: within(median(ratios), 1.15),
      },
      {
        id: '3b',
        metric: '429 answers ÷ all requests (worst repetition)',
        value: Math.max(...shares) * 100,
        unit: '%',
        target: '≤ 5 %',
        status: within(Math.max(...shares), 0.05),
        note: samples.map((s) => `${s.throttled}/${s.total}`).join(', '),
      },
      {
        id: '3c',
        metric: 'duplicate invites / every invite sent once',
        value: duplicates,
        unit: '',
        target: '0',
        status: duplicates === 0 && ok ? 'pass' : 'miss',
        note: ok ? undefined : 'a run did not complete or sent a different number of POSTs',
      },
    ];
    return { rows, details: { samples } };
  },
};
