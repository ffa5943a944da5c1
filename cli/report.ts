// run report --> exit code, a readable table, or the --json object
import type { RunReport, TargetReport } from '../functions/sync/types.ts';
import { SKIP_REASONS } from '../functions/sync/types.ts';
import { EXIT, worstExit, type ExitCode } from './exit-codes.ts';

/** Exit code of one target: 4 could not run, 3 blocked, 1 failures, else 0. */
export function targetExit(t: TargetReport): ExitCode {
  if (t.error) return EXIT.couldNotRun;
  if (t.blocked) return EXIT.blocked;
  if (t.failed > 0) return EXIT.failed;
  return EXIT.ok;
}

export function runExit(report: RunReport): ExitCode {
  return worstExit(report.targets.map(targetExit));
}

/** The --json object: exactly the documented keys (plus `error` and `planHash` when present). */
export function toJson(report: RunReport): string {
  return JSON.stringify({
    mode: report.mode,
    runId: report.runId,
    complete: report.complete,
    targets: report.targets.map((t) => ({
      name: t.name,
      instanceId: t.instanceId,
      orgId: t.orgId,
      desired: t.desired,
      pending: t.pending,
      members: t.members,
      planned: t.planned,
      done: t.done,
      failed: t.failed,
      skipped: t.skipped,
      blocked: t.blocked,
      complete: t.complete,
      ...(t.planHash ? { planHash: t.planHash } : {}),
      ...(t.error ? { error: t.error } : {}),
    })),
  });
}

function pad(s: string | number, n: number, right = false): string {
  const str = String(s);
  return right ? str.padStart(n) : str.padEnd(n);
}

/** A readable table of a run. */
export function renderTable(report: RunReport): string {
  const lines: string[] = [];
  const verb = report.mode === 'plan' ? 'plan' : 'apply';
  lines.push(`run ${report.runId} (${verb}) ${report.complete ? 'complete' : 'INCOMPLETE'}`);
  const nameW = Math.max(6, ...report.targets.map((t) => t.name.length));
  const cols = report.mode === 'plan' ? ['invite', 'renew', 'fixRole', 'revoke'] : ['invite', 'renew', 'fixRole', 'revoke'];
  lines.push(
    [pad('target', nameW), pad('desired', 8, true), pad('pending', 8, true), pad('members', 8, true), ...cols.map((c) => pad(c, 9, true)), pad('failed', 7, true), '  status'].join(' '),
  );
  for (const t of report.targets) {
    const cell = (k: 'invite' | 'renew' | 'fixRole' | 'revoke') => (report.mode === 'plan' ? String(t.planned[k]) : `${t.done[k]}/${t.planned[k]}`);
    const status = t.error ? `error: ${t.error.code}` : t.blocked ? `blocked: ${t.blocked}` : t.complete ? 'ok' : 'incomplete';
    lines.push(
      [pad(t.name, nameW), pad(t.desired, 8, true), pad(t.pending, 8, true), pad(t.members, 8, true), ...(['invite', 'renew', 'fixRole', 'revoke'] as const).map((k) => pad(cell(k), 9, true)), pad(t.failed, 7, true), `  ${status}`].join(' '),
    );
  }
  for (const t of report.targets) {
    const skipped = SKIP_REASONS.filter((r) => t.skipped[r] > 0).map((r) => `${r} ${t.skipped[r]}`);
    if (skipped.length) lines.push(`  ${t.name}: skipped ${skipped.join(', ')}`);
    if (t.error) lines.push(`  ${t.name}: ${t.error.message}`);
    if (t.blocked) lines.push(`  ${t.name}: blocked by brake ${t.blocked}; rerun with --force, or: invite-sync approve --run ${report.runId}`);
  }
  if (report.mode === 'apply') lines.push('(done/planned per action kind)');
  return lines.join('\n') + '\n';
}

/** A one-line progress bar for a TTY (stderr). */
export function progressLine(target: string, done: number, total: number, width = 30): string {
  const filled = total ? Math.round((done / total) * width) : width;
  return `\r${target} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}
