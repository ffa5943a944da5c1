// unit: formatTable (cli/render/table.ts), renderTable (cli/report.ts), targetErrorLine (cli/render/errors.ts), exit precedence
import { describe, expect, it } from 'vitest';
import { formatTable, visibleWidth } from '../../cli/render/table.ts';
import { renderTable } from '../../cli/report.ts';
import { targetErrorLine } from '../../cli/render/errors.ts';
import { EXIT, worstExit } from '../../cli/exit-codes.ts';
import { emptyActionCounts, emptySkipCounts, type TargetReport } from '../../functions/sync/types.ts';
import { emptyTargetReport } from '../../functions/sync/target-report.ts';

const ID = 'b'.repeat(24);
const target = (over: Partial<TargetReport>): TargetReport => ({
  ...emptyTargetReport({ name: 'eng', instanceId: ID, orgId: ID, rules: [] }),
  complete: true,
  ...over,
});

describe('Function: formatTable', () => {
  it('returns columns as wide as their widest cell, colour escapes not counted, no trailing blanks', () => {
    // Act
    const lines = formatTable([['a', 'n', 'x'], ['\u001b[32mlonger\u001b[39m', '12345', 'y']], { align: ['left', 'right', 'left'] });

    // Assess
    expect(lines).toEqual(['a           n  x', '\u001b[32mlonger\u001b[39m  12345  y']);
    expect(visibleWidth(lines[1]!)).toBe(lines[0]!.length);
  });
});

describe('Function: renderTable', () => {
  it('returns columns that never run together, even at 4- and 5-digit counts', () => {
    // Act
    const text = renderTable({
      mode: 'apply',
      runId: 'r-1',
      complete: true,
      targets: [target({ name: 'engineering-worldwide', desired: 123456, pending: 12345, members: 99999, planned: { ...emptyActionCounts(), invite: 12000 }, done: { ...emptyActionCounts(), invite: 12000 } })],
    });

    // Assess
    const row = text.split('\n')[2]!;
    expect(row.split(/ {2,}/)).toEqual(['engineering-worldwide', '123456', '12345', '99999', '12000/12000', '0/0', '0/0', '0/0', '0', 'ok']);
  });

  it('returns an error line naming the target, the host and the likely fix when the host is given', () => {
    // Arrange
    const t = target({ complete: false, error: { code: 'unauthorized', message: 'GET /members: 401' } });

    // Act
    const text = renderTable({ mode: 'plan', runId: 'r-2', complete: false, targets: [t] }, { host: 'api.losant.com' });

    // Assess
    expect(text).toContain(`target eng (instance ${ID}, org ${ID}) at api.losant.com: unauthorized: GET /members: 401; check LOSANT_API_TOKEN`);
    expect(targetErrorLine({ ...t, error: { code: 'notFound', message: 'no org' } }, 'h')).toContain("check the target's instanceId and orgId");
  });
});

describe('Function: renderTable (seats)', () => {
  it('returns a noSeat line with seats used / limit and the reserve, and says a missing instanceOrg.get means no seats', () => {
    // Arrange
    const full = target({ skipped: { ...emptySkipCounts(), noSeat: 4 }, seats: { limit: 50, reserve: 2, used: 48, free: 0, noSeat: 4 } });
    const blind = target({ name: 'ops', warnings: [{ code: 'missingScope', scope: 'instanceOrg.get' }, { code: 'missingScope', scope: 'instanceOrgInvite.delete' }] });

    // Act
    const text = renderTable({ mode: 'plan', runId: 'r-3', complete: true, targets: [full, blind] });

    // Assess
    expect(text).toContain('  eng: skipped noSeat 4\n');
    expect(text).toContain('  eng: no free seat for 4 (seats 48 / 50, 2 reserved); not sent\n');
    expect(text).toContain("  ops: warning: the Losant token lacks the scope instanceOrg.get; planned without seats (the org's member limit is unknown)\n");
    expect(text).toContain('  ops: warning: the Losant token lacks the scope instanceOrgInvite.delete; those actions were skipped\n');
  });
});

describe('Function: worstExit', () => {
  it('returns the first of 2, 5, 4, 130/143, 3, 1 present, else 0', () => {
    expect(worstExit([EXIT.failed, EXIT.blocked, EXIT.couldNotRun, EXIT.stalePlan])).toBe(EXIT.stalePlan);
    expect(worstExit([EXIT.stalePlan, EXIT.badInput])).toBe(EXIT.badInput);
    expect(worstExit([EXIT.blocked, EXIT.interrupted])).toBe(EXIT.interrupted);
    expect(worstExit([EXIT.failed, EXIT.blocked])).toBe(EXIT.blocked);
    expect(worstExit([EXIT.ok])).toBe(EXIT.ok);
  });
});
