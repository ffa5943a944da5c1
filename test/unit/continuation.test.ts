// unit: when a queued run continues (functions/sync/continuation.ts) and what its message carries (reconcile-message.schema.ts)
import { describe, expect, it } from 'vitest';
import { actionsLeft, MAX_CONTINUATIONS, nextRun, startActionsBy, type Continuation } from '../../functions/sync/continuation.ts';
import { emptyTargetReport } from '../../functions/sync/target-report.ts';
import { LOSANT_REQUEST_TIMEOUT_MS } from '../../functions/sync/ownership.ts';
import { parseReconcileMessage, reconcileMessageBody } from '../../functions/queue/reconcile-message.schema.ts';
import type { TargetReport } from '../../functions/sync/types.ts';

const TARGET = { name: 'eng', instanceId: 'i', orgId: 'o', rules: [] };

/** A report of a run that planned `planned` invites, did `done` and ended with `code` (none: complete). */
function report(planned: number, done: number, code?: NonNullable<TargetReport['error']>['code'], over: Partial<TargetReport> = {}): TargetReport {
  const r = emptyTargetReport(TARGET);
  r.planned.invite = planned;
  r.done.invite = done;
  if (code) r.error = { code, message: code };
  else r.complete = true;
  return { ...r, ...over };
}

describe('Function: nextRun', () => {
  it('returns the first continuation of a run that stopped for its deadline with invites left, the run its origin', () => {
    // Act
    const next = nextRun(report(5000, 1800, 'deadline'), { runId: 'r-1' });

    // Assert
    expect(next).toEqual({ kind: 'continue', continuation: { count: 1, origin: 'r-1', previous: 'r-1' } });
  });

  it('returns the next link of a chain: count + 1, the same origin, this run as previous', () => {
    // Arrange
    const previous: Continuation = { count: 7, origin: 'r-1', previous: 'r-7' };

    // Act
    const next = nextRun(report(3200, 1500, 'deadline'), { runId: 'r-8', previous });

    // Assert
    expect(next).toEqual({ kind: 'continue', continuation: { count: 8, origin: 'r-1', previous: 'r-8' } });
  });

  it(`returns capped once ${MAX_CONTINUATIONS} continuations ran, and continues the ${MAX_CONTINUATIONS}th`, () => {
    // Arrange
    const last: Continuation = { count: MAX_CONTINUATIONS - 1, origin: 'r-1', previous: 'r-49' };
    const full: Continuation = { count: MAX_CONTINUATIONS, origin: 'r-1', previous: 'r-50' };

    // Act + Assert
    expect(nextRun(report(10, 5, 'deadline'), { runId: 'r-50', previous: last })).toMatchObject({ kind: 'continue', continuation: { count: MAX_CONTINUATIONS } });
    expect(nextRun(report(10, 5, 'deadline'), { runId: 'r-51', previous: full })).toEqual({ kind: 'capped', count: MAX_CONTINUATIONS });
  });

  it.each<[string, TargetReport]>([
    ['a complete run', report(10, 10)],
    ['a deadline before any action (no progress: it could loop)', report(10, 0, 'deadline')],
    ['a deadline before planning', report(0, 0, 'deadline')],
    ['a deadline with nothing left (the last actions answered after the stop)', report(10, 10, 'deadline')],
    ['a busy lease', report(10, 3, 'leaseBusy')],
    ['Losant unreachable', report(10, 3, 'unreachable')],
    ['an interrupted run', report(10, 3, 'interrupted')],
    ['a blocked run', report(10, 0, undefined, { blocked: 'maxInvitesPerRun', complete: false })],
  ])('returns none for %s', (_why, r) => {
    expect(nextRun(r, { runId: 'r-1' })).toEqual({ kind: 'none' });
  });

  it('continues a run whose attempted actions all failed (progress: they are settled in the ledger)', () => {
    expect(nextRun(report(10, 0, 'deadline', { failed: 4 }), { runId: 'r-1' }).kind).toBe('continue');
  });
});

describe('Function: actionsLeft', () => {
  it('returns planned − done over every kind', () => {
    // Arrange
    const r = report(10, 4);
    r.planned.renew = 3;
    r.done.renew = 1;
    r.planned.remove = 2;

    // Act + Assert
    expect(actionsLeft(r)).toBe(10);
  });
});

describe('Function: startActionsBy', () => {
  it('returns a request timeout before the deadline when at least four of them are left', () => {
    expect(startActionsBy(1_000_000 + 60_000, 1_000_000)).toBe(1_000_000 + 60_000 - LOSANT_REQUEST_TIMEOUT_MS);
  });

  it('returns a quarter of the time left before the deadline when less is left, and the deadline once it passed', () => {
    expect(startActionsBy(1_000_000 + 4_000, 1_000_000)).toBe(1_000_000 + 3_000);
    expect(startActionsBy(1_000_000, 1_000_500)).toBe(1_000_000);
  });
});

describe('Function: reconcileMessageBody', () => {
  it('returns a body that parses back with its trigger and continuation', () => {
    // Arrange
    const continuation: Continuation = { count: 3, origin: 'r-20261201T100000-aaaaaaaa', previous: 'r-20261201T100400-bbbbbbbb' };

    // Act
    const parsed = parseReconcileMessage(reconcileMessageBody('eng', 'continues r-…', { trigger: 'continuation', continuation }));

    // Assert
    expect(parsed).toEqual({ target: 'eng', reason: 'continues r-…', trigger: 'continuation', continuation });
  });

  it('returns a message without its continuation when that is malformed (a run that continues nothing)', () => {
    // Act
    const parsed = parseReconcileMessage(JSON.stringify({ target: 'eng', trigger: 'continuation', continuation: { count: -1, origin: 'r-1' } }));

    // Assert
    expect(parsed).toEqual({ target: 'eng', trigger: 'continuation' });
  });
});
