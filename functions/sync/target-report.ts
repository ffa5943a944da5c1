// reconcileTarget / runSync / held snapshots / CLI --> target-report: a target's report before anything happened, its counts, its error code
import type { Action, ActionCounts, BlockCode, Target, TargetReport } from './types.ts';
import { emptyActionCounts, emptySkipCounts } from './types.ts';
import { isApiError, LeaseBusyError, RunDeadlineError, RunInterruptedError } from './errors.ts';

/** How many actions of each kind. */
export function counts(actions: Action[]): ActionCounts {
  const c = emptyActionCounts();
  for (const a of actions) c[a.kind]++;
  return c;
}

/** Adds `more` into `into`, kind by kind. */
export function addCounts(into: ActionCounts, more: ActionCounts): void {
  into.invite += more.invite;
  into.renew += more.renew;
  into.fixRole += more.fixRole;
  into.revoke += more.revoke;
  into.remove += more.remove;
}

/** The report's error code for what a target's reconcile threw (an API error by its kind, ours by class; else `other`). */
export function errorCode(err: unknown): NonNullable<TargetReport['error']>['code'] {
  if (err instanceof LeaseBusyError) return 'leaseBusy';
  if (err instanceof RunDeadlineError) return 'deadline';
  if (err instanceof RunInterruptedError) return 'interrupted';
  if (!isApiError(err)) return 'other';
  switch (err.kind) {
    case 'unauthorized':
      return 'unauthorized';
    case 'forbidden':
      return 'forbidden';
    case 'notFound':
      return 'notFound';
    case 'deadline':
    case 'invalidResponse':
      return err.kind;
    case 'network':
    case 'server':
    case 'throttled':
      return 'unreachable';
    default:
      return 'other';
  }
}

/** A target's report before anything happened (all counts 0, not complete). */
export function emptyTargetReport(target: Target, blocked: BlockCode | null = null): TargetReport {
  return {
    name: target.name,
    instanceId: target.instanceId,
    orgId: target.orgId,
    desired: 0,
    pending: 0,
    members: 0,
    planned: emptyActionCounts(),
    done: emptyActionCounts(),
    failed: 0,
    skipped: emptySkipCounts(),
    blocked,
    complete: false,
  };
}

/** An error's message, or the thrown value as text. */
export function safeMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
