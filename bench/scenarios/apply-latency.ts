// bench/run.ts --> latency-bound apply --> applyActions (LosantClient + DynamoStateStore) vs a naive fetch loop
import { Agent, request } from 'undici';
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { applyActions, type ApplyResult } from '../../functions/sync/applier.ts';
import { planTarget } from '../../functions/sync/planner.ts';
import { systemClock } from '../../functions/sync/ports.ts';
import type { Action, TargetRef } from '../../functions/sync/types.ts';
import { quietLog, type Scenario } from '../lib/context.ts';
import { countRequests, ROUTES, startRemoteEmulator, type RemoteEmulator } from '../lib/remote-emulator.ts';
import { within, type Row } from '../lib/report.ts';
import { BENCH_POLICY, BENCH_RULES, emailOf, orgIdOf, storedPeople } from '../lib/roster.ts';
import { median } from '../lib/stats.ts';

const INVITES = 1000;
const LATENCY_MS = 25;
const CONCURRENCY = 16;
/** the naive loop runs on this many invites and is scaled linearly to INVITES */
const BASELINE_INVITES = 100;
const REPS = 3;
const IDEAL_MS = (INVITES * LATENCY_MS) / CONCURRENCY;

/** The plan of one org with nobody invited yet: INVITES invite actions. */
function missingInvites(count: number): Action[] {
  const plan = planTarget({ rules: BENCH_RULES, people: storedPeople(count), pending: [], members: [], ledger: [], policy: BENCH_POLICY, now: Date.now() });
  return plan.actions;
}

/**
 * The baseline: for each email, GET the invites filtered by that email, then POST if absent. One at a time, plain fetch.
 * @returns elapsed ms
 */
async function naiveLoop(baseUrl: string, target: TargetRef, emails: readonly string[]): Promise<number> {
  const collection = `${baseUrl}/instances/${target.instanceId}/orgs/${target.orgId}/invites`;
  const headers = { authorization: `Bearer ${DEFAULT_TOKEN}`, 'content-type': 'application/json' };
  const start = performance.now();
  for (const email of emails) {
    const query = new URLSearchParams({ filterField: 'email', filter: email });
    const got = await fetch(`${collection}?${query.toString()}`, { headers });
    if (got.status !== 200) throw new Error(`naive loop: GET answered ${got.status}`);
    const list = (await got.json()) as { items: { email: string }[] };
    if (list.items.some((i) => i.email.toLowerCase() === email)) continue;
    const posted = await fetch(collection, { method: 'POST', headers, body: JSON.stringify({ email, role: 'view' }) });
    if (posted.status !== 201) throw new Error(`naive loop: POST answered ${posted.status}`);
    await posted.arrayBuffer();
  }
  return performance.now() - start;
}

/**
 * The transport floor: the same POSTs, CONCURRENCY at a time on raw undici, each answer read in full and
 * thrown away (no parsing, no ledger). What the emulator and the wire cost, before any client work.
 * @returns elapsed ms
 */
async function rawFloor(baseUrl: string, target: TargetRef, emails: readonly string[]): Promise<number> {
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  const url = `${baseUrl}/instances/${target.instanceId}/orgs/${target.orgId}/invites`;
  const headers = { authorization: `Bearer ${DEFAULT_TOKEN}`, 'content-type': 'application/json' };
  try {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < emails.length) {
          const email = emails[next++]!;
          const res = await request(url, { method: 'POST', headers, body: JSON.stringify({ email, role: 'view' }), dispatcher: agent });
          await res.body.arrayBuffer();
          if (res.statusCode !== 201) throw new Error(`raw floor: POST answered ${res.statusCode}`);
        }
      }),
    );
    return performance.now() - start;
  } finally {
    await agent.close();
  }
}

interface ApplySample {
  ms: number;
  done: number;
  failed: number;
  posts: number;
  writes: number;
  writeUnits: number;
  duplicates: number;
}

async function timedApply(emu: RemoteEmulator, api: LosantClient, store: DynamoStateStore, orgId: string, actions: Action[]): Promise<ApplySample> {
  const target = { instanceId: DEFAULT_ID, orgId };
  await emu.reset();
  store.resetStats();
  const start = performance.now();
  const result: ApplyResult = await applyActions(actions, {
    api,
    store,
    clock: systemClock,
    log: quietLog(),
    target,
    runId: `r-bench-${orgId}`,
    ledger: new Map(),
    concurrency: CONCURRENCY,
    deadline: Date.now() + 120_000,
  });
  const ms = performance.now() - start;
  if (result.fatal) throw result.fatal;
  const stats = await emu.stats();
  const io = store.stats();
  return {
    ms,
    done: result.done.invite,
    failed: result.failed,
    posts: countRequests(stats, { method: 'POST', route: ROUTES.invites, status: (s) => s === 201 }),
    writes: io.writes,
    writeUnits: io.writeUnits,
    duplicates: stats.duplicateInvites,
  };
}

/** Scenario 2: 1 000 missing invites at 25 ms per answer, 16 at a time, ledger writes included. */
export const applyLatencyScenario: Scenario = {
  id: '2',
  title: 'Latency-bound apply, 1 000 invites',
  async run(ctx, scope) {
    // one org per run: 0 = warm-up, 1..REPS measured apply, REPS+1.. naive loop (warm-up first), then the raw floor
    const orgs = Array.from({ length: 3 * REPS + 2 }, (_, i) => orgIdOf(i));
    const emu = await startRemoteEmulator(scope, { latencyMs: LATENCY_MS, seed: { instances: [{ id: DEFAULT_ID, orgs: orgs.map((id) => ({ id })) }] } });
    const ddb = await ctx.dynamoClient(scope);
    const store = new DynamoStateStore({ tableName: await ctx.table(ddb, 'apply', scope), client: ddb });
    const api = new LosantClient({ baseUrl: emu.url, token: DEFAULT_TOKEN, log: quietLog() });
    scope.defer('losant client', () => api.close());
    const actions = missingInvites(INVITES);
    const baselineEmails = Array.from({ length: BASELINE_INVITES }, (_, i) => emailOf(i));

    const warm = await timedApply(emu, api, store, orgs[0]!, actions);
    await naiveLoop(emu.url, { instanceId: DEFAULT_ID, orgId: orgs[REPS + 1]! }, baselineEmails.slice(0, 10));
    const applied: ApplySample[] = [];
    const naive: number[] = [];
    const floor: number[] = [];
    const allEmails = actions.map((a) => a.email);
    for (let r = 1; r <= REPS; r++) {
      const runs = [
        async () => applied.push(await timedApply(emu, api, store, orgs[r]!, actions)),
        async () => naive.push(await naiveLoop(emu.url, { instanceId: DEFAULT_ID, orgId: orgs[REPS + 1 + r]! }, baselineEmails)),
        async () => floor.push(await rawFloor(emu.url, { instanceId: DEFAULT_ID, orgId: orgs[2 * REPS + 1 + r]! }, allEmails)),
      ];
      // rotate the order each repetition so drift of a noisy machine hurts all three alike
      for (let k = 0; k < runs.length; k++) await runs[(k + r) % runs.length]!();
    }
    const duplicates = [warm, ...applied].reduce((n, s) => n + s.duplicates, 0);
    const applyMs = median(applied.map((s) => s.ms));
    const naiveScaled = median(naive) * (INVITES / BASELINE_INVITES);
    const floorMs = median(floor);
    const allDone = applied.every((s) => s.done === INVITES && s.failed === 0 && s.posts === INVITES);
    ctx.notes.push(`2d: the naive loop ran on ${BASELINE_INVITES} invites per repetition and was scaled ×${INVITES / BASELINE_INVITES}`);
    const rows: Row[] = [
      {
        id: '2a',
        metric: `apply ${INVITES} invites, ${LATENCY_MS} ms latency, ${CONCURRENCY} at a time (median of ${REPS})`,
        value: applyMs,
        unit: 'ms',
        baseline: { label: `ideal ${INVITES}×${LATENCY_MS} ms÷${CONCURRENCY}`, value: IDEAL_MS, unit: 'ms' },
        ratio: applyMs / IDEAL_MS,
        target: '≤ 1.25× ideal',
        status: within(applyMs / IDEAL_MS, 1.25),
      },
      {
        id: '2b',
        metric: 'apply ÷ transport floor (same POSTs, raw undici, answers read and dropped)',
        value: applyMs,
        unit: 'ms',
        baseline: { label: `floor, median of ${REPS}`, value: floorMs, unit: 'ms' },
        ratio: applyMs / floorMs,
        target: '≤ 1.5× floor (proposed)',
        status: within(applyMs / floorMs, 1.5),
      },
      {
        id: '2c',
        metric: 'transport floor ÷ ideal (no client work at all)',
        value: floorMs,
        unit: 'ms',
        baseline: { label: 'ideal', value: IDEAL_MS, unit: 'ms' },
        ratio: floorMs / IDEAL_MS,
        status: 'info',
        note: 'every POST answer is the whole collection (orgInviteCollection.json): the 1 000 answers carry ~110 MB here',
      },
      {
        id: '2d',
        metric: 'speed-up over naive sequential GET-then-POST (fetch)',
        value: naiveScaled / applyMs,
        unit: '×',
        baseline: { label: `naive loop, ${BASELINE_INVITES} invites ×${INVITES / BASELINE_INVITES}`, value: naiveScaled, unit: 'ms' },
        target: '≥ 10×',
        status: within(naiveScaled / applyMs, 10, true),
      },
      {
        id: '2e',
        metric: 'duplicate invites (emulator) / every invite sent once',
        value: duplicates,
        unit: '',
        target: '0',
        status: duplicates === 0 && allDone ? 'pass' : 'miss',
        note: allDone ? undefined : 'not every apply run sent exactly one POST per invite',
      },
      {
        id: '2f',
        metric: 'DynamoDB writes per apply (intents + outcomes)',
        value: median(applied.map((s) => s.writes)),
        unit: 'calls',
        status: 'info',
        note: `${median(applied.map((s) => s.writeUnits))} write units`,
      },
    ];
    return { rows, details: { idealMs: IDEAL_MS, warmUp: warm, applied, naiveMs: naive, naiveScaledMs: naiveScaled, floorMs: floor } };
  },
};
