// run report --> exit code, a readable table, or the --json object
import type { ReportedAction, RunReport, TargetReport } from '../functions/sync/types.ts';
import type { RuleWarning } from '../functions/sync/rule-warnings.ts';
import { SKIP_REASONS } from '../functions/sync/types.ts';
import { EXIT, worstExit, type ExitCode } from './exit-codes.ts';
import { formatTable } from './render/table.ts';
import { likelyFix, targetErrorLine } from './render/errors.ts';

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

export interface JsonOptions {
  /** add `skippedPeople` per target */
  showSkipped?: boolean;
  /** rule warnings of this run (the `warnings` key, when there are any) */
  warnings?: readonly RuleWarning[];
  /** more top-level keys (e.g. `savedPlan`) */
  extra?: Record<string, unknown>;
}

/** An action as `--json` shows it: kind, email, role, fromRole?, inviteId?, rule?, reason?, renewals?, and in apply result and error?. */
function jsonAction(a: ReportedAction, mode: RunReport['mode']): Record<string, unknown> {
  return {
    kind: a.kind,
    email: a.email,
    role: a.role,
    ...(a.fromRole ? { fromRole: a.fromRole } : {}),
    ...(a.inviteId ? { inviteId: a.inviteId } : {}),
    ...(a.userId ? { userId: a.userId } : {}),
    ...(a.rule ? { rule: a.rule } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
    ...(a.kind === 'renew' && a.renewals !== undefined ? { renewals: a.renewals } : {}),
    ...(mode === 'apply' ? { result: a.result ?? 'notStarted', ...(a.error ? { error: a.error } : {}) } : {}),
  };
}

/**
 * The --json object: the documented keys (plus `error` and `planHash` when present), and per target
 * `actions` and `steadyState` (and `skippedPeople` with showSkipped) when the run was explained.
 */
export function toJson(report: RunReport, opts: JsonOptions = {}): string {
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
      ...(t.failures?.length ? { failures: t.failures } : {}),
      skipped: t.skipped,
      blocked: t.blocked,
      complete: t.complete,
      ...(t.planHash ? { planHash: t.planHash } : {}),
      ...(t.seats ? { seats: t.seats } : {}),
      ...(t.warnings?.length ? { warnings: t.warnings } : {}),
      ...(t.error ? { error: { ...t.error, hint: likelyFix(t.error.code) } } : {}),
      ...(t.detail ? { actions: t.detail.actions.map((a) => jsonAction(a, report.mode)), steadyState: t.detail.steadyState } : {}),
      ...(t.detail && opts.showSkipped ? { skippedPeople: Object.fromEntries(SKIP_REASONS.map((r) => [r, t.detail!.skippedPeople[r]])) } : {}),
    })),
    ...(opts.warnings?.length ? { warnings: opts.warnings } : {}),
    ...opts.extra,
  });
}

export interface TableOptions {
  /** the Losant host, for error lines */
  host?: string;
}

/** A readable table of a run; column widths come from the content. */
export function renderTable(report: RunReport, opts: TableOptions = {}): string {
  const lines: string[] = [];
  const verb = report.mode === 'plan' ? 'plan' : 'apply';
  lines.push(`run ${report.runId} (${verb}) ${report.complete ? 'complete' : 'INCOMPLETE'}`);
  // `remove` is a column only when some target plans a removal (policy.removeLeftMembers)
  const removes = report.targets.some((t) => t.planned.remove > 0);
  const kinds = removes ? (['invite', 'renew', 'fixRole', 'revoke', 'remove'] as const) : (['invite', 'renew', 'fixRole', 'revoke'] as const);
  const rows: string[][] = [['target', 'desired', 'pending', 'members', ...kinds, 'failed', 'status']];
  for (const t of report.targets) {
    const cell = (k: (typeof kinds)[number]) => (report.mode === 'plan' ? String(t.planned[k]) : `${t.done[k]}/${t.planned[k]}`);
    const status = t.error ? `error: ${t.error.code}` : t.blocked ? `blocked: ${t.blocked}` : t.complete ? 'ok' : 'incomplete';
    rows.push([t.name, String(t.desired), String(t.pending), String(t.members), ...kinds.map(cell), String(t.failed), status]);
  }
  lines.push(...formatTable(rows, { align: ['left', 'right', 'right', 'right', ...kinds.map(() => 'right' as const), 'right', 'left'] }));
  for (const t of report.targets) {
    const skipped = SKIP_REASONS.filter((r) => t.skipped[r] > 0).map((r) => `${r} ${t.skipped[r]}`);
    if (skipped.length) lines.push(`  ${t.name}: skipped ${skipped.join(', ')}`);
    for (const w of t.warnings ?? []) {
      const effect = w.scope === 'instanceOrg.get' ? 'planned without seats (the org\'s member limit is unknown)' : 'those actions were skipped';
      lines.push(`  ${t.name}: warning: the Losant token lacks the scope ${w.scope}; ${effect}`);
    }
    if (t.seats?.noSeat) lines.push(`  ${t.name}: no free seat for ${t.seats.noSeat} (seats ${t.seats.used} / ${t.seats.limit}, ${t.seats.reserve} reserved); not sent`);
    if (t.error) lines.push(`  ${opts.host ? targetErrorLine({ ...t, error: t.error }, opts.host) : `${t.name}: ${t.error.message}`}`);
    if (t.blocked) lines.push(`  ${t.name}: blocked by brake ${t.blocked}; rerun with --force, or: invite-sync approve --run ${report.runId}`);
  }
  if (report.mode === 'apply') lines.push('(done/planned per action kind)');
  return lines.join('\n') + '\n';
}
