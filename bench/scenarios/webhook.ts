// bench/run.ts --> webhook under load --> `invite-sync serve` (child) --> emulator (child) at 2000 ms and 0 ms latency
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import type { BenchContext, Scenario } from '../lib/context.ts';
import { ROOT, startServer, withScope } from '../lib/processes.ts';
import { countRequests, startRemoteEmulator } from '../lib/remote-emulator.ts';
import { within, type Row } from '../lib/report.ts';
import { BENCH_RULES, emailOf } from '../lib/roster.ts';
import { percentile } from '../lib/stats.ts';

const WAVES = 10;
const PER_WAVE = 50;
const SLOW_MS = 2000;
/**
 * ABBA: each latency runs twice, half the waves each time (slow, fast, fast, slow), every time on a
 * fresh emulator, table and serve, so drift of a noisy machine falls on both latencies alike.
 */
const ORDER = [SLOW_MS, 0, 0, SLOW_MS] as const;
const WAVES_PER_RUN = WAVES / 2;
/** waves each fresh serve gets first, not counted (JIT, lazy SDK loading, connections) */
const WARMUP_WAVES = 2;

interface Phase {
  latencyMs: number;
  /** answer time of each measured request, ms */
  times: number[];
  statuses: Record<string, number>;
  /** Losant requests the background reconciles made while the waves ran */
  losantRequests: number;
}

interface Summary extends Phase {
  p50: number;
  p99: number;
}

function summarise(latencyMs: number, phases: Phase[]): Summary {
  const mine = phases.filter((p) => p.latencyMs === latencyMs);
  const times = mine.flatMap((p) => p.times);
  const statuses: Record<string, number> = {};
  for (const p of mine) for (const [k, v] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const losantRequests = mine.reduce((n, p) => n + p.losantRequests, 0);
  return { latencyMs, times, statuses, losantRequests, p50: percentile(times, 50), p99: percentile(times, 99) };
}

function signedEvent(wh: Webhook, i: number, phase: string): { body: string; headers: Record<string, string> } {
  const msgId = `msg_${randomUUID()}`;
  const now = new Date();
  const body = JSON.stringify({
    id: `evt-${phase}-${i}-${randomUUID().slice(0, 8)}`,
    type: 'person.upserted',
    occurredAt: now.toISOString(),
    source: 'default',
    person: { email: emailOf(i, `hook${phase}-`), department: i % 2 ? 'Engineering' : 'Sales' },
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': wh.sign(msgId, now, body),
    },
  };
}

async function runPhase(ctx: BenchContext, latencyMs: number, dir: string, run: number): Promise<Phase> {
  return withScope(`webhook ${latencyMs} ms`, async (scope) => {
    const emu = await startRemoteEmulator(scope, { latencyMs });
    const ddb = await ctx.dynamoClient(scope);
    const table = await ctx.table(ddb, `hook${run}`, scope);
    // the fresh table's first read marks its person index done (nothing to backfill), as in a stage's table after
    // its first scheduled run: the waves then measure person events read through the index, not the backfill
    await new DynamoStateStore({ tableName: table, client: ddb }).listPeople();
    const { endpoint } = await ctx.dynamo();
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const configFile = join(dir, `sync-${run}.json`);
    await writeFile(
      configFile,
      JSON.stringify({
        targets: [{ name: 'bench', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: BENCH_RULES }],
        limits: { maxInvitesPerRun: 100_000, maxChangeFraction: 1000 },
      }),
    );
    const server = await startServer(scope, join(ROOT, 'bin/invite-sync.js'), ['serve', '--config', configFile, '--port', '0'], {
      env: {
        ...process.env,
        LOSANT_API_URL: emu.url,
        LOSANT_API_TOKEN: DEFAULT_TOKEN,
        WEBHOOK_SECRET: secret,
        DYNAMODB_ENDPOINT: endpoint,
        STATE_TABLE: table,
        INVITE_SYNC_LOG_LEVEL: 'error',
      },
      timeoutMs: 60_000,
    });
    const agent = new Agent({ connections: PER_WAVE + 8, keepAliveTimeout: 30_000 });
    scope.defer('http agent', () => agent.close());
    const wh = new Webhook(secret);
    const url = `${server.url}/webhook`;
    const times: number[] = [];
    const statuses: Record<string, number> = {};
    let n = 0;
    for (let wave = 0; wave < WARMUP_WAVES + WAVES_PER_RUN; wave++) {
      const events = Array.from({ length: PER_WAVE }, () => signedEvent(wh, n++, String(run)));
      const answers = await Promise.all(
        events.map(async (e) => {
          const start = performance.now();
          const res = await request(url, { method: 'POST', headers: e.headers, body: e.body, dispatcher: agent });
          await res.body.text();
          return { ms: performance.now() - start, status: res.statusCode };
        }),
      );
      if (wave < WARMUP_WAVES) continue;
      for (const a of answers) {
        times.push(a.ms);
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      }
    }
    const losantRequests = countRequests(await emu.stats(), {});
    return { latencyMs, times, statuses, losantRequests };
  });
}

/** Scenario 6: signed webhook answer times while the background reconcile waits on a slow Losant. */
export const webhookScenario: Scenario = {
  id: '6',
  title: 'Webhook under load, serve + emulator',
  async run(ctx, scope) {
    const dir = await mkdtemp(join(tmpdir(), 'invite-sync-bench-hook-'));
    scope.defer('temp dir', () => rm(dir, { recursive: true, force: true }));
    const phases: Phase[] = [];
    for (const [run, latencyMs] of ORDER.entries()) phases.push(await runPhase(ctx, latencyMs, dir, run));
    const slow = summarise(SLOW_MS, phases);
    const fast = summarise(0, phases);
    const limit = 1.2 * fast.p99 + 20;
    const all202 = [slow, fast].every((p) => (p.statuses['202'] ?? 0) === WAVES * PER_WAVE);
    const rows: Row[] = [
      {
        id: '6a',
        metric: `answer time p50, Losant at ${SLOW_MS} ms (${WAVES} waves × ${PER_WAVE}, ABBA)`,
        value: slow.p50,
        unit: 'ms',
        baseline: { label: 'Losant at 0 ms', value: fast.p50, unit: 'ms' },
        ratio: slow.p50 / fast.p50,
        status: 'info',
      },
      {
        id: '6b',
        metric: `answer time p99, Losant at ${SLOW_MS} ms`,
        value: slow.p99,
        unit: 'ms',
        baseline: { label: 'Losant at 0 ms', value: fast.p99, unit: 'ms' },
        ratio: slow.p99 / fast.p99,
        target: `≤ 1.2× p99(0) + 20 ms = ${limit.toFixed(0)} ms`,
        status: within(slow.p99, limit),
      },
      {
        id: '6c',
        metric: 'answers 202 (both phases)',
        value: [slow, fast].reduce((s, p) => s + (p.statuses['202'] ?? 0), 0),
        unit: '',
        target: `${2 * WAVES * PER_WAVE}`,
        status: all202 ? 'pass' : 'miss',
        note: `statuses ${JSON.stringify(slow.statuses)} / ${JSON.stringify(fast.statuses)}; Losant requests by the background reconciles: ${slow.losantRequests} / ${fast.losantRequests}`,
      },
    ];
    return { rows, details: { order: ORDER, slow, fast } };
  },
};
