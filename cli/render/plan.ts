// CLI plan/apply --> renderPlan (each change per target, Terraform-style), the plan summary and the steady state (pure)
import type { ReportedAction, RunReport, SkipReason, SteadyState, TargetReport } from '../../functions/sync/types.ts';
import { SKIP_REASONS } from '../../functions/sync/types.ts';
import { formatTable } from './table.ts';
import { PLAIN, type Colors } from './colors.ts';

/** Lines shown per action kind (and per skip reason) without --full. */
export const DEFAULT_LINES_PER_KIND = 50;

export interface PlanRenderOptions {
  colors?: Colors;
  /** every line, not DEFAULT_LINES_PER_KIND per kind */
  full?: boolean;
  /** list the skipped people by reason */
  showSkipped?: boolean;
  /** policy.maxRenewals, for `(2 of 3)` */
  maxRenewals: number;
  /** lines per kind without `full` (default DEFAULT_LINES_PER_KIND) */
  limit?: number;
}

type Kind = ReportedAction['kind'];
/** Display order: what is added, changed, resent, taken away. */
const KIND_ORDER: readonly Kind[] = ['invite', 'fixRole', 'renew', 'revoke', 'remove'];
const LABEL: Record<Kind, string> = { invite: 'invite', fixRole: 'role', renew: 'renew', revoke: 'revoke', remove: 'remove' };
const NOUN: Record<Kind, [string, string]> = {
  invite: ['invite', 'invites'],
  fixRole: ['role change', 'role changes'],
  renew: ['renewal', 'renewals'],
  revoke: ['revocation', 'revocations'],
  remove: ['removal', 'removals'],
};

function symbol(kind: Kind, c: Colors): string {
  switch (kind) {
    case 'invite':
      return c.green('+');
    case 'fixRole':
      return c.yellow('~');
    case 'renew':
      return c.cyan('↻');
    case 'revoke':
    case 'remove':
      return c.red('-');
  }
}

/**
 * A rule's `when` as one short line: `{department: Engineering, title: [*Manager*, Lead]}`.
 * @example formatWhen({ department: 'Eng*' }) // '{department: Eng*}'
 */
export function formatWhen(when: Record<string, string | string[]>): string {
  const parts = Object.entries(when).map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`);
  return `{${parts.join(', ')}}`;
}

function why(a: ReportedAction, maxRenewals: number): string {
  const rule = a.rule ? `rule ${a.rule.index} ${formatWhen(a.rule.when)}` : '';
  switch (a.kind) {
    case 'renew':
      return [`(${(a.renewals ?? 0) + 1} of ${maxRenewals})`, rule].filter(Boolean).join('  ');
    case 'revoke':
    case 'remove':
      if (a.reason === 'skipRule') return `${rule} skips them`.trim();
      if (a.reason === 'noRule') return 'no rule matches them';
      return 'left the roster';
    default:
      return rule;
  }
}

function resultCell(a: ReportedAction, c: Colors): string {
  switch (a.result) {
    case 'done':
      return c.green('done');
    case 'failed':
      return c.red(`failed${a.error ? `: ${a.error}` : ''}`);
    case 'notStarted':
      return c.dim('not started');
    default:
      return '';
  }
}

/**
 * One line per change: `+ invite  alice@example.com  edit  rule 2 {department: Engineering}`,
 * `~ role  bob@example.com  view → edit`, `↻ renew  carol@example.com  edit  (2 of 3)`,
 * `- revoke  dave@example.com  view  left the roster`, `- remove  erin@example.com  edit  left the roster`; in apply each line ends with how it went.
 * At most `limit` lines per kind unless `full`, then `… and N more`.
 * @example renderActions(target.detail.actions, 'plan', { maxRenewals: 3 })
 */
export function renderActions(actions: readonly ReportedAction[], mode: 'plan' | 'apply', opts: PlanRenderOptions): string[] {
  const c = opts.colors ?? PLAIN;
  const limit = opts.full ? Infinity : (opts.limit ?? DEFAULT_LINES_PER_KIND);
  const rows: string[][] = [];
  const more: [number, string][] = [];
  for (const kind of KIND_ORDER) {
    const list = actions.filter((a) => a.kind === kind);
    for (const a of list.slice(0, limit)) {
      const role = a.kind === 'fixRole' && a.fromRole ? `${a.fromRole} → ${a.role}` : a.role;
      const row = [`${symbol(kind, c)} ${LABEL[kind]}`, a.email, role, why(a, opts.maxRenewals)];
      if (mode === 'apply') row.push(resultCell({ ...a, result: a.result ?? 'notStarted' }, c));
      rows.push(row);
    }
    if (list.length > limit) {
      rows.push([]);
      more.push([rows.length - 1, c.dim(`  … and ${list.length - limit} more ${NOUN[kind][list.length - limit === 1 ? 0 : 1]} (--full shows all)`)]);
    }
  }
  const lines = formatTable(rows).map((l) => (l === '' ? l : `  ${l}`));
  for (const [i, text] of more) lines[i] = text;
  return lines;
}

function count(n: number, [one, many]: [string, string]): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * `Plan: 3 to invite, 1 to renew, 1 role change, 1 to revoke.` (kinds with 0 are left out), or
 * `No changes.` when there is nothing to do.
 * @example planSummary(target.planned)
 */
export function planSummary(planned: TargetReport['planned']): string {
  const parts: string[] = [];
  if (planned.invite) parts.push(`${planned.invite} to invite`);
  if (planned.renew) parts.push(`${planned.renew} to renew`);
  if (planned.fixRole) parts.push(count(planned.fixRole, ['role change', 'role changes']));
  if (planned.revoke) parts.push(`${planned.revoke} to revoke`);
  if (planned.remove) parts.push(`${planned.remove} to remove`);
  return parts.length ? `Plan: ${parts.join(', ')}.` : 'No changes.';
}

/**
 * The target once the plan ran: `After: 12 members, 5 pending (2 expiring within 7 days, 1 with renewals exhausted),
 * 3 waiting over 7 days.` Seats appear only for a target that has a seat limit.
 * @example steadyStateLine(target.detail.steadyState)
 */
export function steadyStateLine(s: SteadyState): string {
  const sub: string[] = [];
  if (s.expiringWithin7Days) sub.push(`${s.expiringWithin7Days} expiring within 7 days`);
  if (s.renewalsExhausted) sub.push(`${s.renewalsExhausted} with renewals exhausted`);
  const parts = [count(s.members, ['member', 'members']), `${s.pending} pending${sub.length ? ` (${sub.join(', ')})` : ''}`];
  parts.push(`${s.waitingOver7Days} waiting over 7 days`);
  if (s.seats) parts.push(`seats ${s.seats.used} / ${s.seats.limit}`);
  return `After: ${parts.join(', ')}.`;
}

/** `--show-skipped`: each reason with its people, `limit` per reason unless `full`. */
export function renderSkipped(skipped: Record<SkipReason, string[]>, opts: Pick<PlanRenderOptions, 'full' | 'limit' | 'colors'>): string[] {
  const c = opts.colors ?? PLAIN;
  const limit = opts.full ? Infinity : (opts.limit ?? DEFAULT_LINES_PER_KIND);
  const lines: string[] = [];
  for (const reason of SKIP_REASONS) {
    const list = skipped[reason];
    if (!list.length) continue;
    lines.push(`  skipped ${reason} (${list.length}):`);
    for (const email of list.slice(0, limit)) lines.push(`    ${email}`);
    if (list.length > limit) lines.push(c.dim(`    … and ${list.length - limit} more (--full shows all)`));
  }
  return lines;
}

/**
 * Every target's changes, its `Plan:` line and its steady state; targets without detail (they could
 * not be planned) are left to the table below.
 * @example process.stdout.write(renderPlan(report, { maxRenewals: 3, colors }))
 */
export function renderPlan(report: RunReport, opts: PlanRenderOptions): string {
  const c = opts.colors ?? PLAIN;
  const out: string[] = [];
  for (const t of report.targets) {
    if (!t.detail) continue;
    out.push(c.bold(`${t.name}:`));
    out.push(...renderActions(t.detail.actions, report.mode, opts));
    if (opts.showSkipped) out.push(...renderSkipped(t.detail.skippedPeople, opts));
    out.push(planSummary(t.planned));
    out.push(steadyStateLine(t.detail.steadyState));
    out.push('');
  }
  return out.length ? out.join('\n') + '\n' : '';
}
