// CLI runs | show --> RunStore (listRuns over the month partitions of the run list; getRun + getRunActions): no Scan
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { RunAction, RunRecord } from '../../functions/sync/ports.ts';
import { createCliRuntime } from '../runtime.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { addStageOption, addStateOptions, stateChoice, type StateFlags } from '../state-options.ts';
import { resolveStageTarget, stageEnv } from '../stage-target.ts';
import { formatTable } from '../render/table.ts';

interface RunsFlags extends StateFlags {
  target?: string;
  limit: number;
  json?: boolean;
}

interface ShowFlags extends StateFlags {
  run: string;
  json?: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('must be a whole number from 1 to 1000');
  return n;
}

export function register(program: Command): void {
  const runs = program
    .command('runs')
    .description('list recent runs (kept 30 days), newest first: one line per run and target')
    .showHelpAfterError(`see 'invite-sync runs --help'`)
    .option('--target <name>', 'only runs of this target')
    .addOption(new Option('--limit <n>', 'at most this many runs').argParser(positiveInt).default(20))
    .option('--json', 'print one JSON object on stdout: { runs: [...] }');
  addStageOption(addStateOptions(runs, { wait: true })).action(async (flags: RunsFlags) => {
    await withStore(flags, async (rt) => {
      const list = await rt.store.listRuns({ limit: flags.limit, ...(flags.target ? { target: flags.target } : {}) });
      if (flags.json) process.stdout.write(JSON.stringify({ runs: list }) + '\n');
      else process.stdout.write(renderRuns(list, flags.target, rt.stateDescription));
    });
  });

  const show = program
    .command('show')
    .description("print one run: its targets, each change per person and how it ended, and its errors")
    .showHelpAfterError(`see 'invite-sync show --help'`)
    .requiredOption('--run <id>', 'the run id (see invite-sync runs)')
    .option('--json', 'print one JSON object on stdout: { run, actions }');
  addStageOption(addStateOptions(show, { wait: true })).action(async (flags: ShowFlags) => {
    await withStore(flags, async (rt) => {
      const run = await rt.store.getRun(flags.run);
      if (!run) throw new CliError(`no run ${flags.run} in the state store (${rt.stateDescription}); see invite-sync runs`, EXIT.badInput, { code: 'runNotFound' });
      const actions = await rt.store.getRunActions(flags.run);
      if (flags.json) process.stdout.write(JSON.stringify({ run, actions }) + '\n');
      else process.stdout.write(renderRun(run, actions));
    });
  });
}

async function withStore(flags: StateFlags, fn: (rt: Awaited<ReturnType<typeof createCliRuntime>>) => Promise<void>): Promise<void> {
  const choice = stateChoice(flags);
  // --stage: the deployed table of stack InviteSync-<stage> (or STATE_TABLE)
  const env = flags.stage === undefined ? process.env : stageEnv(await resolveStageTarget(flags.stage, { env: process.env }), process.env);
  const rt = await createCliRuntime({ env, needsLosant: false, ...choice });
  try {
    await fn(rt);
  } finally {
    await rt.close();
  }
}

const total = (c: { invite: number; renew: number; fixRole: number; revoke: number }) => c.invite + c.renew + c.fixRole + c.revoke;

/** The status of one target of a run: `error: <code>`, `blocked: <brake>`, `complete` or `incomplete`. */
function targetStatus(t: RunRecord['targets'][number]): string {
  if (t.error) return `error: ${t.error.code}`;
  if (t.blocked) return `blocked: ${t.blocked}`;
  return t.complete ? 'complete' : 'incomplete';
}

/**
 * The `runs` table: run, started, trigger, mode, target, planned/done/failed, status.
 * @example renderRuns(await store.listRuns({ limit: 20 }), undefined, 'embedded DynamoDB Local (./.invite-sync)')
 */
export function renderRuns(runs: readonly RunRecord[], target: string | undefined, where: string): string {
  if (runs.length === 0) return `no runs${target ? ` of target ${target}` : ''} in the last 30 days (${where})\n`;
  const rows: string[][] = [['run', 'started', 'trigger', 'mode', 'target', 'planned', 'done', 'failed', 'status']];
  for (const run of runs) {
    const targets = run.targets.filter((t) => !target || t.name === target);
    if (targets.length === 0) rows.push([run.runId, run.startedAt, run.trigger, run.mode, '-', '0', '0', '0', run.complete ? 'complete' : 'incomplete']);
    for (const t of targets) {
      rows.push([run.runId, run.startedAt, run.trigger, run.mode, t.name, String(total(t.planned)), String(total(t.done)), String(t.failed), targetStatus(t)]);
    }
  }
  return formatTable(rows, { align: ['left', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'left'] }).join('\n') + '\n';
}

const SIGN: Record<RunAction['kind'], string> = { invite: '+', renew: '~', fixRole: '~', revoke: '-', remove: '-' };

/** One line per change: `+ invite  ann@example.com  edit  done`, with the role it had and the error when there is one. */
export function renderActions(actions: readonly RunAction[]): string[] {
  const rows = actions.map((a) => [
    `${SIGN[a.kind]} ${a.kind}`,
    a.email,
    a.fromRole ? `${a.fromRole} -> ${a.role}` : a.role,
    a.result,
    a.error ?? (a.reason ? `(${a.reason})` : ''),
  ]);
  return formatTable(rows).map((l) => `    ${l}`);
}

/** `show`: the run's header, then per target its counts, status, error and changes. */
export function renderRun(run: RunRecord, actions: readonly RunAction[]): string {
  const lines = [
    `run ${run.runId} (${run.mode}, trigger ${run.trigger}) ${run.complete ? 'complete' : 'INCOMPLETE'}`,
    `  started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`,
  ];
  for (const t of run.targets) {
    lines.push(`  target ${t.name} (instance ${t.instanceId}, org ${t.orgId}): planned ${total(t.planned)}, done ${total(t.done)}, failed ${t.failed}; ${targetStatus(t)}`);
    if (t.error) lines.push(`    error ${t.error.code}: ${t.error.message}`);
    for (const w of t.warnings ?? []) lines.push(`    warning ${w.code}: the Losant token lacks the scope ${w.scope}`);
    if (t.warningsOmitted) lines.push(`    … and ${t.warningsOmitted} more warnings`);
    for (const f of t.failures ?? []) lines.push(`    failed ${f.reason}: ${f.email}`);
    if (t.failuresOmitted) lines.push(`    … and ${t.failuresOmitted} more failures`);
    const mine = actions.filter((a) => a.target === t.name);
    if (mine.length) lines.push(...renderActions(mine));
    else if (total(t.planned) > 0) lines.push('    (the changes of this run were not recorded: it ran before invite-sync stored them)');
    else lines.push('    no changes');
  }
  return lines.join('\n') + '\n';
}
