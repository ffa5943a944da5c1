// unit: which targets of a run are announced, and with exactly which detail (functions/sync/run-events.ts)
import { describe, expect, it } from 'vitest';
import { isNotable, runCompletedDetails } from '../../functions/sync/run-events.ts';
import { emptyActionCounts, emptySkipCounts, type RunReport, type TargetReport } from '../../functions/sync/types.ts';

function target(over: Partial<TargetReport>): TargetReport {
  return {
    name: 't', instanceId: 'i', orgId: 'o', desired: 0, pending: 0, members: 0,
    planned: emptyActionCounts(), done: emptyActionCounts(), failed: 0, skipped: emptySkipCounts(), blocked: null, complete: true,
    ...over,
  };
}

const approveCommand = (id: string) => `invite-sync approve --stage prod --run ${id}`;

describe('Function: isNotable', () => {
  it.each([
    ['steady', target({}), false],
    ['blocked', target({ blocked: 'maxInvitesPerRun', complete: false }), true],
    ['failed', target({ failed: 1 }), true],
    ['incomplete', target({ complete: false }), true],
    ['unreachable', target({ error: { code: 'unreachable', message: 'x' } }), true],
    ['changed', target({ done: { invite: 0, renew: 0, fixRole: 1, revoke: 0, remove: 0 } }), true],
  ])('returns %s --> %s', (_name, t, expected) => {
    // Act + Assess
    expect(isNotable(t)).toBe(expected);
  });
});

describe('Function: runCompletedDetails', () => {
  it('returns one detail per notable target, the approve command only where a brake blocked', () => {
    // Arrange
    const report: RunReport = {
      mode: 'apply', runId: 'r-7', complete: false,
      targets: [
        target({ name: 'eng', done: { invite: 2, renew: 0, fixRole: 0, revoke: 0, remove: 0 } }),
        target({ name: 'quiet' }),
        target({ name: 'ops', blocked: 'maxChangeFraction', complete: false, planned: { invite: 9, renew: 0, fixRole: 0, revoke: 0, remove: 0 } }),
        target({ name: 'hr', complete: false, error: { code: 'forbidden', message: 'no scope' } }),
      ],
    };

    // Act
    const details = runCompletedDetails(report, { stage: 'prod', trigger: 'schedule', approveCommand });

    // Assess
    expect(details.map((d) => d.target)).toEqual(['eng', 'ops', 'hr']);
    expect(details[1]).toEqual({
      stage: 'prod', runId: 'r-7', target: 'ops', trigger: 'schedule', mode: 'apply', complete: false,
      planned: { invite: 9, renew: 0, fixRole: 0, revoke: 0, remove: 0 }, done: emptyActionCounts(), failed: 0, skipped: emptySkipCounts(),
      blocked: 'maxChangeFraction', errorCode: null, approveCommand: 'invite-sync approve --stage prod --run r-7',
    });
    expect(details[0]!.approveCommand).toBeNull();
    expect(details[2]!.errorCode).toBe('forbidden');
  });
});
