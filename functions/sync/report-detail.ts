// reconcile (explain) --> explainInto / outcomeRecorder --> TargetReport.detail, the CLI's view of a target (pure)
import type { Action, PendingInvite, Plan, ReportedAction, TargetReport, TargetSeats } from './types.ts';
import { steadyStateAfter } from './steady-state.ts';

/**
 * Sets report.detail from this round's plan (later rounds of a dirty lease add their actions).
 * @example explainInto(report, plan, pending, clock.now(), 1)
 */
export function explainInto(report: TargetReport, plan: Plan, pending: PendingInvite[], now: number, round: number, seats?: TargetSeats): void {
  const steadyState = steadyStateAfter({ plan, skippedPeople: plan.skippedPeople!, pending, now });
  if (seats) steadyState.seats = { used: seats.used, limit: seats.limit };
  const actions: ReportedAction[] = plan.actions.map((a) => ({ ...a }));
  report.detail = {
    actions: round === 1 || !report.detail ? actions : [...report.detail.actions, ...actions],
    steadyState,
    skippedPeople: plan.skippedPeople!,
  };
}

/**
 * onOutcome for applyActions: marks the reported copy of each action; those never marked were not started.
 * @example applyActions(plan.actions, { ...ctx, onOutcome: outcomeRecorder(report.detail.actions, plan.actions) })
 */
export function outcomeRecorder(reported: ReportedAction[], actions: readonly Action[]): (a: Action, outcome: 'done' | 'failed', error?: string) => void {
  const from = reported.length - actions.length;
  const at = new Map(actions.map((a, i) => [a, from + i]));
  for (let i = from; i < reported.length; i++) reported[i]!.result = 'notStarted';
  return (a, outcome, error) => {
    const i = at.get(a);
    if (i === undefined) return;
    const r = reported[i]!;
    r.result = outcome;
    if (error !== undefined) r.error = error;
  };
}
