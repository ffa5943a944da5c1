// bench/run.ts --> cost --> converged runs measured at 1 000 and 10 000 people (100 000 scaled) + the prod stack's fixed items --> bench/cost.ts --> a month in USD
import { cpus } from 'node:os';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { METRIC_NAMES } from '../../functions/runtime/metric-names.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { runSync } from '../../functions/sync/reconcile.ts';
import { systemClock, type Log } from '../../functions/sync/ports.ts';
import { buildApp } from '../../lib/build-app.ts';
import { loadStageConfig } from '../../lib/stages.ts';
import { monthCost, PRICES_AS_OF, PRICES_REGION, renderCostTable, runsPerMonth, scalePerRun, sqsPollRequestsPerMonth, type Fixed, type PerRun, type SizedMonth } from '../cost.ts';
import type { BenchContext, Scenario } from '../lib/context.ts';
import type { Scope } from '../lib/processes.ts';
import { countRequests, startRemoteEmulator } from '../lib/remote-emulator.ts';
import type { Row } from '../lib/report.ts';
import { BENCH_RULES, emailOf, orgIdOf, people } from '../lib/roster.ts';
import { median, round } from '../lib/stats.ts';
import { seedPeople, sentLedger } from '../lib/seed-people.ts';

const STAGE = 'prod';
const MEASURED = [1_000, 10_000] as const;
const SCALED_TO = 100_000;
const REPS = 3;
/** START / END / REPORT lines Lambda writes per invocation (estimate) */
const PLATFORM_LOG_BYTES = 400;
/** the EMF metrics blob a run flushes to its log (estimate: ~80 bytes a metric + envelope) */
const EMF_LOG_BYTES = 300 + 80 * METRIC_NAMES.length;
/** the schedule invocation that queues the targets (one SendMessageBatch, the source watch's read): estimate, not measured */
const SCHEDULE_INVOCATION_MS = 100;
/** a run = the schedule invocation + one SQS-triggered reconcile (one target: one message, one batch) */
const INVOCATIONS_PER_RUN = 2;
/** SendMessageBatch by the schedule + DeleteMessageBatch by the event source (its ReceiveMessage is in the polling) */
const SQS_REQUESTS_PER_RUN = 2;
/** Losant token fetched once per cold start; a 15-minute schedule is priced as a cold start every run */
const SECRET_CALLS_PER_RUN = 1;

/** A Log that counts the bytes the Lambda logger would write at INFO (JSON line with its standard keys). */
function byteCountingLog(): Log & { bytes: () => number; reset: () => void } {
  let bytes = 0;
  const base = { service: 'invite-sync', timestamp: new Date(0).toISOString(), xray_trace_id: '1-00000000-000000000000000000000000', sampling_rate: 0 };
  const keep = (level: string, counted: boolean) => (message: string, extra?: Record<string, unknown>) => {
    if (counted) bytes += JSON.stringify({ level, message, ...base, ...extra }).length + 1;
  };
  return { debug: keep('DEBUG', false), info: keep('INFO', true), warn: keep('WARN', true), error: keep('ERROR', true), bytes: () => bytes, reset: () => (bytes = 0) };
}

interface Measured {
  people: number;
  perRun: PerRun;
  losantRequests: number;
  samplesMs: number[];
}

/** Converged runs of `size` people (all pending with ledger entries), the way scenario 4 measures them. */
async function measureConverged(ctx: BenchContext, scope: Scope, size: number): Promise<Measured> {
  const orgId = orgIdOf(300 + size);
  const target = { instanceId: DEFAULT_ID, orgId };
  const invitedAt = new Date(Date.now() - 86_400_000).toISOString();
  const invites = Array.from({ length: size }, (_, i) => ({ email: emailOf(i), role: 'view' as const, inviteDate: invitedAt }));
  const emu = await startRemoteEmulator(scope, { seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: orgId, invites }] }] } });
  const ddb = await ctx.dynamoClient(scope);
  const tableName = await ctx.table(ddb, `cost${size}`, scope);
  const setup = new DynamoStateStore({ tableName, client: ddb });
  const listed = await emu.invites(DEFAULT_ID, orgId);
  const ledger = sentLedger(listed);
  await Promise.all([seedPeople(ddb, tableName, people(size), 'default', new Date(Date.now() - 3_600_000).toISOString()), setup.putLedgerEntries(target, ledger)]);
  const config = parseSyncConfig({ targets: [{ name: 'cost', instanceId: DEFAULT_ID, orgId, rules: BENCH_RULES }] });
  const log = byteCountingLog();
  const store = new DynamoStateStore({ tableName, client: ddb });
  const api = new LosantClient({ baseUrl: emu.url, token: DEFAULT_TOKEN, log });
  scope.defer('losant client', () => api.close());
  const samples: { ms: number; readUnits: number; writeUnits: number; logBytes: number; requests: number }[] = [];
  for (let r = 0; r <= REPS; r++) {
    await emu.reset();
    store.resetStats();
    log.reset();
    const start = performance.now();
    const report = await runSync({ api, store, clock: systemClock, log }, config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + 120_000 });
    const ms = performance.now() - start;
    if (!report.complete) throw new Error(`the converged run of ${size} did not complete`);
    const planned = Object.values(report.targets[0]?.planned ?? {}).reduce((a, b) => a + b, 0);
    if (planned !== 0) throw new Error(`the converged run of ${size} planned ${planned} actions; expected none`);
    const io = store.stats();
    const requests = countRequests(await emu.stats(), {});
    if (r > 0) samples.push({ ms, readUnits: io.readUnits, writeUnits: io.writeUnits, logBytes: log.bytes(), requests }); // run 0 warms up
  }
  return {
    people: size,
    losantRequests: median(samples.map((s) => s.requests)),
    samplesMs: samples.map((s) => round(s.ms, 1)),
    perRun: {
      durationMs: median(samples.map((s) => s.ms)), // the reconcile alone; withSchedule adds the schedule invocation
      invocations: INVOCATIONS_PER_RUN,
      readUnits: median(samples.map((s) => s.readUnits)),
      writeUnits: median(samples.map((s) => s.writeUnits)),
      sqsRequests: SQS_REQUESTS_PER_RUN, // a converged run sends no continuation
      secretCalls: SECRET_CALLS_PER_RUN,
      logBytes: median(samples.map((s) => s.logBytes)) + PLATFORM_LOG_BYTES + EMF_LOG_BYTES,
    },
  };
}

/** The run with its schedule invocation's estimated duration added (after any scaling: it does not grow with people). */
const withSchedule = (perRun: PerRun): PerRun => ({ ...perRun, durationMs: perRun.durationMs + SCHEDULE_INVOCATION_MS });

/** The fixed monthly items, counted from the synthesized prod stack. */
function fixedItems(): { fixed: Fixed; alarms: number } {
  const app = new App({ context: { stage: STAGE } });
  const template = Template.fromStack(buildApp(app)).toJSON() as { Resources: Record<string, { Type: string; Properties?: { Metrics?: { MetricStat?: unknown }[] } }> };
  const of = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
  const alarms = of('AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((n, a) => n + (a.Properties?.Metrics ? a.Properties.Metrics.filter((m) => m.MetricStat).length : 1), 0);
  return {
    alarms: alarms.length,
    fixed: {
      alarmMetrics,
      dashboards: of('AWS::CloudWatch::Dashboard').length,
      secrets: of('AWS::SecretsManager::Secret').length,
      kmsKeys: of('AWS::KMS::Key').length,
      customMetrics: METRIC_NAMES.length,
      sqsPollRequests: of('AWS::Lambda::EventSourceMapping').length * sqsPollRequestsPerMonth(),
    },
  };
}

/** Scenario 8: a month of the prod stage in USD for 1 000, 10 000 (measured) and 100 000 people (scaled). */
export const costScenario: Scenario = {
  id: '8',
  title: `A month of the ${STAGE} stage (AWS list prices, ${PRICES_REGION}, as of ${PRICES_AS_OF})`,
  async run(ctx, scope) {
    const stage = loadStageConfig(STAGE);
    const runs = runsPerMonth(stage.scheduleExpression);
    const { fixed, alarms } = fixedItems();
    const measured: Measured[] = [];
    for (const size of MEASURED) measured.push(await measureConverged(ctx, scope, size));
    const largest = measured[measured.length - 1]!;
    const sizes: SizedMonth[] = [
      ...measured.map((m) => {
        const perRun = withSchedule(m.perRun);
        return { people: m.people, basis: 'measured', perRun, month: monthCost(perRun, runs, stage.memoryMb, fixed) };
      }),
      (() => {
        const perRun = withSchedule(scalePerRun(largest.perRun, largest.people, SCALED_TO));
        return { people: SCALED_TO, basis: `scaled from ${largest.people.toLocaleString('en-US')}`, perRun, month: monthCost(perRun, runs, stage.memoryMb, fixed) };
      })(),
    ];
    const table = renderCostTable(sizes);
    process.stdout.write(
      `\n${this.title}: ${stage.scheduleExpression} = ${runs} runs a month, ${stage.memoryMb} MB arm64, one target, converged runs, no free tier; reconcile durations measured on this machine (${cpus().length} cores), not on a Lambda\n${table}\n`,
    );
    const rows: Row[] = sizes.map((s, i) => ({
      id: `8${String.fromCharCode(97 + i)}`,
      metric: `${s.people.toLocaleString('en-US')} people, a month of ${runs} converged runs (${s.basis})`,
      value: round(s.month.totalUsd, 2),
      unit: 'USD',
      status: 'info',
      note: `variable $${round(s.month.variableUsd, 3)} (${round(s.perRun.durationMs, 0)} billed ms, ${round(s.perRun.readUnits, 1)} RRU, ${round(s.perRun.writeUnits, 1)} WRU a run) + fixed $${round(s.month.fixedUsd, 2)}`,
    }));
    return {
      rows,
      details: { stage: STAGE, scheduleExpression: stage.scheduleExpression, runs, memoryMb: stage.memoryMb, pricesAsOf: PRICES_AS_OF, alarms, fixed, measured, sizes, table },
    };
  },
};
