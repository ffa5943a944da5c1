// SQS (one message per target) --> handleReconcileBatch --> reconcileAndRecord per target --> continuation queued at once | partial batch response
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { RunRecord } from '../sync/ports.ts';
import type { TargetReport } from '../sync/types.ts';
import { actionsLeft, MAX_CONTINUATIONS, nextRun, startActionsBy } from '../sync/continuation.ts';
import { RUNS_CONTINUED } from '../runtime/metric-names.ts';
import type { Container } from '../runtime/composition-root.ts';
import { getReconcileContainer } from '../runtime/reconcile-container.ts';
import { parseReconcileMessage, type ReconcileMessage } from '../queue/reconcile-message.schema.ts';
import { reconcileAndRecord, type ReconcileDeps } from './run-reconcile.ts';
import { EventShapeError, PoisonMessageError, ReconcileIncompleteError } from './errors.ts';

/** Time kept back from the invocation's remaining time so the run can record itself and answer. */
export const QUEUE_SAFETY_MARGIN_MS = 10_000;
/**
 * How long a queued reconcile waits for a lease another run holds: a quarter of the time left, at
 * most 30 s. Most holders finish by then (and re-reconcile what ingest marked dirty); a message that
 * still finds the lease busy is retried by SQS, so only a stuck target reaches the DLQ.
 */
export const QUEUE_LEASE_WAIT_MS = 30_000;

/** The reconcile deps and the queue a run's continuation goes to (the same port the ingest queues on). */
export type QueueDeps = ReconcileDeps & Pick<Container, 'queue'>;

/** How a message's run ended: its report, and whether the message is handled although the report has an error. */
interface QueuedRun {
  report: TargetReport | undefined;
  /** its continuation is on the queue, or the chain reached MAX_CONTINUATIONS (the schedule goes on): acknowledge */
  handled: boolean;
}

/**
 * Reconciles one target per message, one after another, against the invocation's deadline
 * (remaining time − 10 s), waiting a while for a busy lease. A run stops starting actions a request
 * timeout before the deadline (continuation.ts startActionsBy); one that stops there with actions left
 * queues its continuation at once (same target, trigger `continuation`, the chain counted: at most
 * MAX_CONTINUATIONS) and its message is acknowledged, so the next invocation starts within seconds
 * instead of after the visibility timeout. A message whose target was not reconciled to the end
 * otherwise (lease busy, Losant unreachable, a deadline before any action, the continuation could not be
 * queued…) or whose body is not a reconcile message goes in `batchItemFailures`, so SQS redelivers it
 * and the DLQ catches repeats. A brake-blocked target or one no longer in the config is acknowledged: a
 * retry could not change it. Two messages for the same target in one batch share one reconcile.
 * @example const { batchItemFailures } = await handleReconcileBatch(event, context, container)
 */
export async function handleReconcileBatch(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  deps: QueueDeps,
): Promise<SQSBatchResponse> {
  const outer = SqsSchema.safeParse(event);
  if (!outer.success) throw new EventShapeError('not an SQS event', { cause: outer.error });
  const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - QUEUE_SAFETY_MARGIN_MS;
  const known = new Set(deps.config.targets.map((t) => t.name));
  const runs = new Map<string, Promise<QueuedRun>>();

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const message = parseReconcileMessage(record.body);
    if (!message) {
      deps.log.error('queue message is not a reconcile message', { messageId: record.messageId });
      throw new PoisonMessageError(`message ${record.messageId} is not {"target","reason"}`);
    }
    if (!known.has(message.target)) {
      deps.log.warn('queued target is not in the sync config; dropped', { messageId: record.messageId, target: message.target });
      return;
    }
    let run = runs.get(message.target);
    if (!run) {
      run = runQueued(deps, message, deadline);
      runs.set(message.target, run);
    }
    const { report, handled } = await run;
    if (handled) return;
    if (!report) throw new ReconcileIncompleteError(message.target, 'other', 'no report');
    if (report.error) throw new ReconcileIncompleteError(message.target, report.error.code, report.error.message);
  };

  const response = await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
  if (response.batchItemFailures.length) {
    deps.log.warn('queue batch: messages left for retry', { failed: response.batchItemFailures.length, of: event.Records.length });
  }
  return { batchItemFailures: response.batchItemFailures.map((f) => ({ itemIdentifier: f.itemIdentifier })) };
}

/** The run record's trigger of a message (unknown values count as `queue`). */
function triggerOf(message: ReconcileMessage): RunRecord['trigger'] {
  return message.trigger === 'scim' || message.trigger === 'continuation' ? message.trigger : 'queue';
}

/** Reconciles a message's target and, when it stopped for its deadline with actions left, queues its continuation. */
async function runQueued(deps: QueueDeps, message: ReconcileMessage, deadline: number): Promise<QueuedRun> {
  const now = deps.clock.now();
  const waitForLeaseMs = Math.max(0, Math.min(QUEUE_LEASE_WAIT_MS, (deadline - now) / 4));
  const previous = message.trigger === 'continuation' ? message.continuation : undefined;
  const result = await reconcileAndRecord(deps, {
    targetNames: [message.target],
    trigger: triggerOf(message),
    deadline,
    startActionsBy: startActionsBy(deadline, now),
    waitForLeaseMs,
    ...(previous ? { continuation: previous } : {}),
  });
  const report = result.targets[0];
  if (!report) return { report, handled: false };
  const next = nextRun(report, { runId: result.runId, previous });
  if (next.kind === 'capped') {
    deps.log.error('continuations capped: the next schedule or event continues this target', {
      target: message.target,
      runId: result.runId,
      origin: previous?.origin ?? result.runId,
      continuations: next.count,
      max: MAX_CONTINUATIONS,
    });
    return { report, handled: true };
  }
  if (next.kind === 'none') return { report, handled: false };
  const { continuation } = next;
  try {
    await deps.queue.enqueue([message.target], `continues ${result.runId} (${continuation.count} of at most ${MAX_CONTINUATIONS})`, { trigger: 'continuation', continuation });
  } catch (err) {
    // SQS redelivers the message after its visibility timeout, as before continuations
    deps.log.warn('could not queue the continuation; the message is left for retry', { target: message.target, runId: result.runId, error: (err as Error).message });
    return { report, handled: false };
  }
  deps.metrics.addMetric(RUNS_CONTINUED, 'Count', 1);
  deps.metrics.publishStoredMetrics();
  deps.log.info('run continued: its continuation is queued', { target: message.target, runId: result.runId, origin: continuation.origin, continuation: continuation.count, left: actionsLeft(report) });
  return { report, handled: true };
}

/** Lambda entry for the SQS event source alone. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => handleReconcileBatch(event, context, await getReconcileContainer());
