// queue handler --> continuation: when a queued run stops for its deadline with actions left, it queues its own next run
//
// The one place that says when a run continues, how its chain is counted and capped, and how long before the
// deadline a run stops starting actions so that every request it started can still be answered.
import { LOSANT_REQUEST_TIMEOUT_MS } from './ownership.ts';
import type { TargetReport } from './types.ts';

/** At most this many continuations follow one queued run; then the chain stops and the schedule takes over. */
export const MAX_CONTINUATIONS = 50;

/** Where a run stands in a chain of continuations (carried by the reconcile message). */
export interface Continuation {
  /** 1 for the first continuation of a run, 2 for the one after it, … */
  count: number;
  /** the run that started the chain */
  origin: string;
  /** the run this one continues */
  previous: string;
}

/** What follows a queued run: its continuation, nothing, or nothing because the chain reached the cap. */
export type NextRun = { kind: 'continue'; continuation: Continuation } | { kind: 'capped'; count: number } | { kind: 'none' };

/**
 * What follows a queued run of one target:
 * | the run's target report                                                     | chain so far          | next       |
 * |-----------------------------------------------------------------------------|-----------------------|------------|
 * | stopped for its deadline (`deadline`) after it started actions, some left     | < MAX_CONTINUATIONS   | `continue` (count + 1, same origin) |
 * | the same                                                                    | = MAX_CONTINUATIONS   | `capped`   |
 * | anything else (complete, blocked, other errors, a deadline before any action) |                       | `none`: as before, SQS retries a failed run |
 * A deadline before the run started any action made no progress: continuing it could loop without end.
 * @example nextRun(report, { runId: 'r-2', previous: { count: 1, origin: 'r-1', previous: 'r-1' } }) // { kind: 'continue', continuation: { count: 2, origin: 'r-1', previous: 'r-2' } }
 */
export function nextRun(report: TargetReport, run: { runId: string; previous?: Continuation | undefined }): NextRun {
  if (report.error?.code !== 'deadline' || report.blocked) return { kind: 'none' };
  const attempted = sum(report.done) + report.failed;
  if (attempted === 0 || actionsLeft(report) <= 0) return { kind: 'none' };
  const count = (run.previous?.count ?? 0) + 1;
  if (count > MAX_CONTINUATIONS) return { kind: 'capped', count: count - 1 };
  return { kind: 'continue', continuation: { count, origin: run.previous?.origin ?? run.runId, previous: run.runId } };
}

const sum = (c: TargetReport['planned']): number => c.invite + c.renew + c.fixRole + c.revoke + c.remove;

/** Actions a target's run planned and did not do (the DriftRemaining of one target). */
export const actionsLeft = (report: Pick<TargetReport, 'planned' | 'done'>): number => sum(report.planned) - sum(report.done);

/**
 * When a run that may continue stops starting actions: a request timeout before its deadline (at most a quarter
 * of the time left), so a request started then is answered before the deadline instead of being cut off in
 * flight (a POST cut off may have reached Losant: its intent must settle, SETTLE_SECONDS, before anyone
 * POSTs that email again, and the continuation could not invite it).
 * @example startActionsBy(now + 60_000, now) // now + 50_000
 */
export function startActionsBy(deadline: number, now: number): number {
  return deadline - Math.max(0, Math.min(LOSANT_REQUEST_TIMEOUT_MS, (deadline - now) / 4));
}
