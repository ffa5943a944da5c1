// bench/run.ts --> long apply --> the real queue handler in-process, invocation after invocation: each continuation
// message it queues (the real SqsReconcileQueue; the SQS client answered in its middleware) starts the next one
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { createContainer } from '../../functions/runtime/composition-root.ts';
import { keyedLog } from '../../functions/runtime/logger.ts';
import { handleReconcileBatch, QUEUE_SAFETY_MARGIN_MS } from '../../functions/handlers/queue.handler.ts';
import { MAX_CONTINUATIONS } from '../../functions/sync/continuation.ts';
import type { RunRecord } from '../../functions/sync/ports.ts';
// the handler tests' SDK clients answered in-process (no AWS): the same SqsReconcileQueue adapter sends through them
import { lambdaEnv, localSecretsClient, localSqsClient, memoryMetrics } from '../../test/helpers/aws-local.ts';
import { quietLog, type Scenario } from '../lib/context.ts';
import { countRequests, ROUTES, startRemoteEmulator } from '../lib/remote-emulator.ts';
import { within, type Row } from '../lib/report.ts';
import { BENCH_RULES, orgIdOf, people } from '../lib/roster.ts';
import { seedPeople } from '../lib/seed-people.ts';
import { round } from '../lib/stats.ts';

const INVITES = 5_000;
const LATENCY_MS = 250;
const CONCURRENCY = 16;
/** what each invocation gets, like a Lambda with a 60 s timeout (not scaled) */
const BUDGET_MS = 60_000;
/** the issue's target for the wait between an invocation's end and the next one's start */
const GAP_TARGET_MS = 60_000;
/** the loop gives up beyond the chain's own cap */
const MAX_INVOCATIONS = MAX_CONTINUATIONS + 1;
const TARGET = 'long';

interface Invocation {
  /** ms since the first invocation started */
  startMs: number;
  ms: number;
  batchItemFailures: number;
  continued: boolean;
  /** ms between the previous invocation's end and this one's start */
  gapMs?: number;
}

/** One SQS record with `body`, as the event source hands it to the function. */
function sqsEvent(body: string): SQSEvent {
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: 'bench',
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'bench', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:reconcile',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** Scenario 10: 5 000 invites at 250 ms per answer, 60 s invocations chained by their continuations. */
export const longApplyScenario: Scenario = {
  id: '10',
  title: 'Long apply, 5 000 invites at 250 ms in 60 s invocations (continuations)',
  async run(ctx, scope) {
    const orgId = orgIdOf(300);
    const emu = await startRemoteEmulator(scope, { latencyMs: LATENCY_MS, seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: orgId }] }] } });
    const ddb = await ctx.dynamoClient(scope);
    const tableName = await ctx.table(ddb, 'long', scope);
    await seedPeople(ddb, tableName, people(INVITES), 'default', new Date(Date.now() - 3_600_000).toISOString());
    const taskRoot = await mkdtemp(join(tmpdir(), 'invite-sync-bench-long-'));
    scope.defer('task root', () => rm(taskRoot, { recursive: true, force: true }));
    await writeFile(
      join(taskRoot, 'sync-config.json'),
      JSON.stringify({
        targets: [{ name: TARGET, instanceId: DEFAULT_ID, orgId, rules: BENCH_RULES }],
        limits: { maxChangesPerRun: 100_000, maxChangeFraction: 1000 },
        concurrency: CONCURRENCY,
      }),
    );
    const env = lambdaEnv(tableName, emu.url, taskRoot);
    const entries: SendMessageBatchRequestEntry[] = [];
    const published: Record<string, number>[] = [];
    const log = quietLog();
    const container = await createContainer(env, {
      dynamoClient: ddb,
      secretsClient: localSecretsClient({ [env.LOSANT_TOKEN_SECRET_ARN]: DEFAULT_TOKEN, [env.WEBHOOK_SECRET_ARN]: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
      sqsClient: localSqsClient(undefined, entries),
      log: keyedLog(log),
      metrics: memoryMetrics(published),
    });
    scope.defer('losant client', () => (container.api as { close?: () => Promise<void> }).close?.());
    await emu.reset();

    // the loop a Lambda and its SQS event source make: each continuation message is the next invocation's event
    const invocations: Invocation[] = [];
    const origin = performance.now();
    let body: string | undefined = JSON.stringify({ target: TARGET, reason: 'bench schedule' });
    let lastEnd: number | undefined;
    while (body !== undefined && invocations.length < MAX_INVOCATIONS) {
      const start = performance.now();
      const started = Date.now();
      const context = { getRemainingTimeInMillis: () => BUDGET_MS - (Date.now() - started) };
      const response = await handleReconcileBatch(sqsEvent(body), context, container);
      const end = performance.now();
      const sent = entries.splice(0);
      body = sent[0]?.MessageBody;
      invocations.push({
        startMs: start - origin,
        ms: end - start,
        batchItemFailures: response.batchItemFailures.length,
        continued: body !== undefined,
        ...(lastEnd !== undefined ? { gapMs: start - lastEnd } : {}),
      });
      lastEnd = end;
    }
    const totalMs = (lastEnd ?? origin) - origin;

    const stats = await emu.stats();
    const listed = await emu.invites(DEFAULT_ID, orgId);
    const created = countRequests(stats, { method: 'POST', route: ROUTES.invites, status: (s) => s === 201 });
    const runs: RunRecord[] = (await container.store.listRuns({ limit: 100, target: TARGET })).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const perRun = runs.map((r) => ({ trigger: r.trigger, continuation: r.continuation?.count ?? 0, invited: r.targets[0]?.done.invite ?? 0, error: r.targets[0]?.error?.code ?? null }));
    const idealMs = (INVITES * LATENCY_MS) / CONCURRENCY;
    const gaps = invocations.flatMap((i) => (i.gapMs === undefined ? [] : [i.gapMs]));
    const largestGap = gaps.length ? Math.max(...gaps) : 0;
    const longest = Math.max(...invocations.map((i) => i.ms));
    const failures = invocations.reduce((n, i) => n + i.batchItemFailures, 0);
    const finished = invocations.at(-1)?.continued === false && runs.at(-1)?.complete === true;
    const onceEach = created === INVITES && listed.length === INVITES && new Set(listed.map((i) => i.email)).size === INVITES;
    const continued = published.reduce((n, m) => n + (m.RunsContinued ?? 0), 0);
    const perInvocation = invocations.map((inv, i) => `${round(inv.ms / 1000, 1)} s/${perRun[i]?.invited ?? '?'}`).join(', ');

    const rows: Row[] = [
      {
        id: '10a',
        metric: `apply ${INVITES} invites at ${LATENCY_MS} ms, ${CONCURRENCY} at a time, in ${BUDGET_MS / 1000} s invocations (first start → last end)`,
        value: totalMs,
        unit: 'ms',
        baseline: { label: `ideal ${INVITES}×${LATENCY_MS} ms÷${CONCURRENCY}`, value: idealMs, unit: 'ms' },
        ratio: totalMs / idealMs,
        status: 'info',
        note: `per invocation (time/invites): ${perInvocation}; each stops starting POSTs ${QUEUE_SAFETY_MARGIN_MS / 1000} s + one request timeout before its budget ends`,
      },
      {
        id: '10b',
        metric: 'invocations (the first + its continuations)',
        value: invocations.length,
        unit: '',
        status: finished ? 'info' : 'miss',
        note: `RunsContinued ${continued}; runs ${perRun.map((r) => `${r.trigger}${r.continuation ? `#${r.continuation}` : ''}${r.error ? ` (${r.error})` : ''}`).join(', ')}${finished ? '' : '; the chain did not finish'}`,
      },
      {
        id: '10c',
        metric: "largest gap, an invocation's end → the next one's start (in-process: no SQS delivery or Lambda polling in it)",
        value: largestGap,
        unit: 'ms',
        target: `< ${GAP_TARGET_MS / 1000} s`,
        status: gaps.length ? within(largestGap, GAP_TARGET_MS - 1) : 'miss',
        note: gaps.length ? `gaps ${gaps.map((g) => round(g, 2)).join(', ')} ms` : 'only one invocation: nothing continued',
      },
      {
        id: '10d',
        metric: `longest invocation (a Lambda is stopped at its ${BUDGET_MS / 1000} s timeout)`,
        value: longest,
        unit: 'ms',
        baseline: { label: 'the invocation budget', value: BUDGET_MS, unit: 'ms' },
        ratio: longest / BUDGET_MS,
        target: `≤ ${BUDGET_MS - QUEUE_SAFETY_MARGIN_MS} ms (budget − safety margin)`,
        status: within(longest, BUDGET_MS - QUEUE_SAFETY_MARGIN_MS),
      },
      {
        id: '10e',
        metric: 'duplicate invites / every invite sent once / messages left for retry',
        value: stats.duplicateInvites,
        unit: '',
        target: '0, all once, 0',
        status: stats.duplicateInvites === 0 && onceEach && failures === 0 ? 'pass' : 'miss',
        note: `${created} POSTs answered 201, ${listed.length} invites listed, ${failures} batch item failures`,
      },
    ];
    return { rows, details: { invites: INVITES, latencyMs: LATENCY_MS, concurrency: CONCURRENCY, budgetMs: BUDGET_MS, totalMs, idealMs, invocations, runs: perRun, warnings: log.warnings } };
  },
};
