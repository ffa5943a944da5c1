// Long applies: a queued run that nears its deadline queues its continuation at once (real composition root,
// DynamoDB Local, the Losant emulator over HTTP with 150 ms per answer; SQS is the real SqsReconcileQueue over an
// SDK client answered in its middleware stack, so the continuation is read as the message the adapter sent).
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DEFAULT_ID, type RunningEmulator } from '../../emulator/index.ts';
import type { Container } from '../../functions/runtime/composition-root.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import { QUEUE_SAFETY_MARGIN_MS } from '../../functions/handlers/queue.handler.ts';
import { MAX_CONTINUATIONS } from '../../functions/sync/continuation.ts';
import { ENG_OPS, lambdaHost } from '../helpers/lambda-host.ts';
import { fixture } from '../helpers/fixtures.ts';

const LATENCY_MS = 150;
/** the first invocation may work 4 s before the safety margin: at 2 POSTs per 150 ms it cannot send 80 invites */
const SHORT_MS = QUEUE_SAFETY_MARGIN_MS + 4_000;
const LONG_MS = 120_000;
const template = (fixture('lambda/sqs-reconcile.json') as SQSEvent).Records[0]!;

const host = lambdaHost({
  name: 'continuation',
  emulator: { latencyMs: LATENCY_MS, seed: ENG_OPS.seed },
  config: {
    targets: ENG_OPS.targets,
    limits: { maxChangesPerRun: 10_000, maxChangeFraction: 1000 },
    concurrency: 2,
  },
});
const { entries, metrics, log } = host;
let emulator: RunningEmulator;
let c: Container;

host.hooks((started) => ({ emulator, container: c } = started));

/** An SQS event of the given message bodies, as the event source hands them to the function. */
const sqsEvent = (bodies: string[]): SQSEvent => ({ Records: bodies.map((body) => ({ ...structuredClone(template), messageId: randomUUID(), body })) });

/** `count` people of one department, stored as source `default`'s snapshot. */
async function roster(prefix: string, department: string, count: number): Promise<string[]> {
  const emails = Array.from({ length: count }, (_, i) => `${prefix}.${i}@example.com`);
  await c.store.replaceSource('default', emails.map((email, i) => ({ email, employeeId: `${prefix}-${i}`, status: 'active' as const, attributes: { department } })), new Date().toISOString());
  return emails;
}

/** The invocation's context: `ms` left when it starts, counted down on the real clock. */
function context(ms: number) {
  const start = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - start) };
}

/** invite POSTs the emulator answered 201 since its last reset */
const posts = () => emulator.stats().requests.filter((r) => r.method === 'POST' && r.route.endsWith('/invites') && r.status === 201).reduce((n, r) => n + r.count, 0);
const invited = (orgId: string) => emulator.invites(DEFAULT_ID, orgId).map((i) => i.email).sort();

describe('Function: handler (SQS batch) with a long apply', () => {
  it('stops the first invocation before its deadline, queues the continuation at once and acknowledges the message; the next invocation finishes, every invite once', async () => {
    // Arrange: 80 people to invite, 2 at a time at 150 ms per answer (≈ 13 a second)
    const emails = await roster('long', 'Engineering', 80);
    emulator.reset();
    const first = sqsEvent([JSON.stringify({ target: 'eng', reason: 'schedule test' })]);

    // Act: the first invocation, with 4 s before the safety margin
    const started = Date.now();
    const batch1 = (await dispatch(first, context(SHORT_MS), c)) as SQSBatchResponse;
    const firstMs = Date.now() - started;
    const sent1 = entries.splice(0);
    const afterFirst = posts();

    // Assert: handled, one continuation sent without delay, the deadline kept
    expect(batch1.batchItemFailures).toEqual([]);
    expect(firstMs).toBeLessThan(SHORT_MS - QUEUE_SAFETY_MARGIN_MS);
    expect(sent1).toHaveLength(1);
    expect(sent1[0]!.DelaySeconds).toBeUndefined();
    const message = JSON.parse(sent1[0]!.MessageBody!) as { target: string; trigger: string; continuation: { count: number; origin: string; previous: string } };
    expect(message).toMatchObject({ target: 'eng', trigger: 'continuation', continuation: { count: 1 } });
    expect(message.continuation.origin).toBe(message.continuation.previous);
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(emails.length);
    expect(metrics.some((m) => m.RunsContinued === 1)).toBe(true);
    const firstRun = await c.store.getRun(message.continuation.origin);
    expect(firstRun).toMatchObject({ trigger: 'queue', complete: false, targets: [{ name: 'eng', error: { code: 'deadline' } }] });
    expect(firstRun!.targets[0]!.done.invite).toBe(afterFirst);

    // Act: the continuation starts the next invocation at once
    const batch2 = (await dispatch(sqsEvent([sent1[0]!.MessageBody!]), context(LONG_MS), c)) as SQSBatchResponse;

    // Assert: finished, nothing more queued, every invite once
    expect(batch2.batchItemFailures).toEqual([]);
    expect(entries).toEqual([]);
    expect(invited(DEFAULT_ID)).toEqual([...emails].sort());
    expect(posts()).toBe(emails.length);
    expect(emulator.stats().duplicateInvites).toBe(0);
    const runs = await c.store.listRuns({ limit: 5, target: 'eng' });
    const second = runs.find((r) => r.trigger === 'continuation');
    expect(second).toMatchObject({ complete: true, continuation: { count: 1, origin: message.continuation.origin, previous: message.continuation.origin } });
    expect(second!.targets[0]!.done.invite).toBe(emails.length - afterFirst);
  });

  it(`acknowledges the ${MAX_CONTINUATIONS}th continuation that stops again without queueing another, and says so in the log`, async () => {
    // Arrange: a chain that already ran MAX_CONTINUATIONS times
    const emails = await roster('capped', 'Operations', 80);
    emulator.reset();
    const body = JSON.stringify({ target: 'ops', reason: 'continues r-x', trigger: 'continuation', continuation: { count: MAX_CONTINUATIONS, origin: 'r-origin', previous: 'r-previous' } });

    // Act
    const batch = (await dispatch(sqsEvent([body]), context(SHORT_MS), c)) as SQSBatchResponse;

    // Assert: handled (the schedule goes on), nothing queued, the cap logged, the invites sent so far once each
    expect(batch.batchItemFailures).toEqual([]);
    expect(entries).toEqual([]);
    expect(metrics.some((m) => (m.RunsContinued ?? 0) > 0)).toBe(false);
    expect(log.lines.some((l) => l.startsWith('error continuations capped') && l.includes(`"continuations":${MAX_CONTINUATIONS}`))).toBe(true);
    const sentSoFar = posts();
    expect(sentSoFar).toBeGreaterThan(0);
    expect(sentSoFar).toBeLessThan(emails.length);
    expect(emulator.stats().duplicateInvites).toBe(0);
  });
});
