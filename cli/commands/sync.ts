// CLI plan | apply | approve --> the same use cases the Lambda handlers call (ingestHrEvent, runSync, approveRun)
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { loadSyncConfigFile } from '../../functions/config/load-sync-config.ts';
import type { SyncConfig } from '../../functions/config/sync-config.schema.ts';
import { parseRoster, formatFromPath } from '../../functions/sync/roster.ts';
import { channelRefusal } from '../../functions/sync/sources.ts';
import { previewReplaceSource } from '../../functions/state/store-rules.ts';
import { sourceHealth, type SourceHealth } from '../../functions/sync/source-health.ts';
import { dateSettings, rosterDateCheck, upcomingStarts } from '../../functions/sync/dates.ts';
import { renderSourceHealth } from '../render/sources.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { newRunId, runSync } from '../../functions/sync/reconcile.ts';
import { emptyTargetReport } from '../../functions/sync/target-report.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { ruleWarnings, type RuleWarning } from '../../functions/sync/rule-warnings.ts';
import type { Person, RunReport, StoredPerson } from '../../functions/sync/types.ts';
import { createCliRuntime, DEFAULT_LOSANT_API_URL, type CliRuntime } from '../runtime.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { renderTable, runExit, toJson } from '../report.ts';
import { createStderrLog, isLogLevel } from '../stderr-log.ts';
import { colorsFor } from '../render/colors.ts';
import { renderPlan } from '../render/plan.ts';
import { createProgress, PLAIN_PROGRESS_INTERVAL_MS, type Progress } from '../render/progress.ts';
import { fileSha256, readSavedPlan, runPlanHash, writeSavedPlan, type SavedPlan } from '../saved-plan.ts';
import { syncHelp } from './sync-help.ts';
import { addStageOption, addStateOptions, stateChoice } from '../state-options.ts';
import { watchSignals } from '../signals.ts';
import { approveCommand, type ApproveFlags } from './approve.ts';

interface SyncFlags {
  config?: string;
  roster?: string;
  json?: boolean;
  force?: boolean;
  wait: number;
  stateDir?: string;
  ephemeral?: boolean;
  source: string;
  full?: boolean;
  showSkipped?: boolean;
  strict?: boolean;
  out?: string;
  plan?: string;
  progressInterval?: number;
}

/** How long a CLI run may take before it stops and reports itself incomplete. */
const CLI_DEADLINE_MS = 60 * 60 * 1000;
const CLI_SOURCE = 'default';

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

export function register(program: Command): void {
  for (const mode of ['plan', 'apply'] as const) {
    const cmd = program
      .command(mode)
      .description(mode === 'plan' ? 'show every change apply would make; changes nothing' : 'make the changes: invite exactly the people who are missing')
      .showHelpAfterError(`see 'invite-sync ${mode} --help'`);
    if (mode === 'plan') cmd.requiredOption('--config <file>', 'sync config file (JSON)');
    else cmd.option('--config <file>', 'sync config file (JSON); required unless --plan');
    cmd
      .option('--roster <file>', 'roster file (.csv or .json); default: the people already in the state store')
      .option('--json', 'print exactly one JSON object on stdout (also on errors)')
      .option('--force', 'proceed past the safety brakes; re-invite people removed outside the sync')
      .option('--full', 'list every change (default: at most 50 per kind)')
      .option('--show-skipped', 'list the people left alone, by reason')
      .option('--strict', 'treat rule warnings as errors (exit 2)')
      .addOption(new Option('--wait <seconds>', 'wait this long for a busy lease (or a state dir another process is opening)').argParser(nonNegativeInt).default(0))
      .addOption(new Option('--source <name>', 'the HR source the roster replaces').default(CLI_SOURCE).hideHelp())
      .addOption(new Option('--progress-interval <seconds>', 'non-TTY progress line interval').argParser(nonNegativeInt).hideHelp());
    addStateOptions(cmd);
    if (mode === 'plan') cmd.option('--out <file>', 'save the plan (mode 0600) for `apply --plan <file>`');
    else cmd.option('--plan <file>', 'apply a plan saved by `plan --out`: re-plans its inputs and applies only if nothing changed (else exit 5)');
    cmd.addHelpText('after', syncHelp(mode)).action(async (flags: SyncFlags) => {
      process.exitCode = await runSyncCommand(mode, flags);
    });
  }
  const approve = program
    .command('approve')
    .description('approve a run blocked by a safety brake: prints the plan it approves; the next run of the same plan proceeds')
    .showHelpAfterError(`see 'invite-sync approve --help'`)
    .requiredOption('--run <id>', 'the blocked run id')
    .option('--yes', 'approve without asking (scripts); on a TTY approve asks first')
    .option('--json', 'print a JSON object on stdout');
  addStageOption(addStateOptions(approve, { wait: true }))
    .addHelpText('after', syncHelp('approve'))
    .action(async (flags: ApproveFlags) => {
      await approveCommand(flags);
    });
}

async function readRoster(file: string, config: SyncConfig): Promise<Person[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read the roster: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const check = rosterDateCheck(config, Date.now());
  const { people } = parseRoster(text, formatFromPath(file), { maxBadRows: config.limits.maxBadRows, origin: file, ...(check ? { check } : {}) });
  return people;
}

/** What a run works from: the config and roster files (from the flags, or from a saved plan). */
interface Inputs {
  configPath: string;
  rosterPath?: string;
  source: string;
  force: boolean;
  saved?: SavedPlan;
}

async function resolveInputs(mode: 'plan' | 'apply', flags: SyncFlags): Promise<Inputs> {
  if (mode === 'apply' && flags.plan) {
    const saved = await readSavedPlan(flags.plan);
    const fromFile = saved.inputs;
    if (flags.config && resolve(flags.config) !== fromFile.config.path) {
      throw new CliError(`--config ${flags.config} is not the config ${flags.plan} was planned from (${fromFile.config.path}); leave --config out`, EXIT.badInput, { code: 'usage' });
    }
    if (flags.roster && resolve(flags.roster) !== fromFile.roster?.path) {
      throw new CliError(`--roster ${flags.roster} is not the roster ${flags.plan} was planned from; leave --roster out`, EXIT.badInput, { code: 'usage' });
    }
    return {
      configPath: fromFile.config.path,
      ...(fromFile.roster ? { rosterPath: fromFile.roster.path } : {}),
      source: fromFile.source,
      force: fromFile.force || (flags.force ?? false),
      saved,
    };
  }
  if (!flags.config) throw new CliError(`required option '--config <file>' not specified\nsee 'invite-sync ${mode} --help'`, EXIT.badInput, { code: 'usage' });
  return { configPath: flags.config, ...(flags.roster ? { rosterPath: flags.roster } : {}), source: flags.source, force: flags.force ?? false };
}

async function runSyncCommand(mode: 'plan' | 'apply', flags: SyncFlags): Promise<number> {
  const inputs = await resolveInputs(mode, flags);
  const config = await loadSyncConfigFile(inputs.configPath);
  if (mode === 'apply' && config.mode === 'plan') {
    throw new CliError(`${inputs.configPath} sets "mode": "plan", so apply refuses to change Losant; run invite-sync plan, or set "mode": "apply"`, EXIT.badInput, {
      code: 'modeIsPlan',
    });
  }
  const roster = inputs.rosterPath ? await readRoster(inputs.rosterPath, config) : undefined;
  // plan previews what apply would store: refuse a roster apply would refuse (sources.<name>.via), before anything is read
  const refusal = roster ? channelRefusal(config.sources, inputs.source, 'cli') : undefined;
  if (refusal !== undefined) throw new CliError(`--roster: ${refusal}`, EXIT.badInput, { code: 'usage' });

  const tty = process.stderr.isTTY === true && !flags.json;
  const progress = createProgress({
    stream: process.stderr,
    tty,
    intervalMs: flags.progressInterval !== undefined ? flags.progressInterval * 1000 : PLAIN_PROGRESS_INTERVAL_MS,
  });
  const level = process.env.INVITE_SYNC_LOG_LEVEL;
  const log = createStderrLog(isLogLevel(level) ? level : 'warn', (line) => progress.log(line));
  const signals = watchSignals();
  const rt = await createCliRuntime({ env: process.env, log, maxAnswerBytes: config.limits.maxAnswerBytes, connections: config.concurrency, ...stateChoice(flags) }).catch((err: unknown) => {
    signals.dispose();
    throw err;
  });
  try {
    const people = await peopleToPlan(rt, roster, inputs.source);
    const warnings = ruleWarnings(config.targets, people);
    for (const w of warnings) progress.log(`warning: ${w.message}\n`);
    if (flags.strict && warnings.length) {
      throw new CliError(`--strict: ${warnings.length} rule warning${warnings.length === 1 ? '' : 's'}; nothing was changed`, EXIT.badInput, {
        code: 'strictWarnings',
        details: { warnings },
      });
    }
    if (inputs.saved) {
      const stale = await checkSavedPlan(rt, config, people, inputs, flags);
      if (stale) return output(stale, mode, config, flags, warnings);
    }
    const report = await execute(rt, mode, config, roster, people, inputs, flags, progress, signals.signal);
    progress.stop();
    const extra: Record<string, unknown> = {};
    if (mode === 'plan') {
      // the source watch: each source's last delivery and its age (sources.<name>.maxSilenceHours)
      const health = sourceHealth(config.sources, (await rt.store.listSourceDeliveries?.()) ?? [], rt.clock.now());
      if (health.length) extra.sources = health;
      const dates = dateSettings(config);
      // people.startDateField: the next 50 people to start, by when (the schedule invites them on the day)
      if (dates) extra.upcoming = upcomingStarts(people, dates, rt.clock.now(), 50);
    }
    if (mode === 'plan' && flags.out) {
      const planHash = runPlanHash(report);
      if (planHash === null) progress.log(`invite-sync: the plan was not saved to ${flags.out}: a target could not be planned\n`);
      else {
        await writeSavedPlan(flags.out, report, inputs, rt.clock.now());
        extra.savedPlan = { path: resolve(flags.out), planHash };
      }
    }
    return signals.exitCode(report, output(report, mode, config, flags, warnings, extra));
  } finally {
    progress.stop();
    await rt.close();
    signals.dispose();
  }
}

function output(report: RunReport, mode: 'plan' | 'apply', config: SyncConfig, flags: SyncFlags, warnings: RuleWarning[], extra: Record<string, unknown> = {}): number {
  if (flags.json) {
    process.stdout.write(toJson(report, { showSkipped: flags.showSkipped ?? false, warnings, extra }) + '\n');
  } else {
    const colors = colorsFor(process.stdout, process.env);
    const host = new URL(process.env.LOSANT_API_URL || DEFAULT_LOSANT_API_URL).host;
    process.stdout.write(renderPlan(report, { colors, full: flags.full ?? false, showSkipped: flags.showSkipped ?? false, maxRenewals: config.policy.maxRenewals }));
    process.stdout.write(renderTable(report, { host }));
    if (Array.isArray(extra.sources)) process.stdout.write(renderSourceHealth(extra.sources as SourceHealth[]));
    const saved = extra.savedPlan as { path: string; planHash: string } | undefined;
    if (saved) process.stdout.write(`Saved the plan to ${saved.path}; apply exactly it with: invite-sync apply --plan ${saved.path}\n`);
    if (mode === 'plan' && warnings.length) process.stdout.write(`${warnings.length} rule warning${warnings.length === 1 ? '' : 's'} on stderr\n`);
  }
  return runExit(report);
}

/**
 * The people a run plans against: the stored people as `apply --roster` would leave them (a preview:
 * nothing is stored), or the stored people alone when there is no roster.
 */
async function peopleToPlan(rt: CliRuntime, roster: Person[] | undefined, source: string): Promise<StoredPerson[]> {
  const stored = await rt.store.listPeople();
  if (!roster) {
    if (stored.length === 0) throw new CliError(`no people in the state store (${rt.stateDescription}): pass --roster <file>`, EXIT.badInput);
    return stored;
  }
  // as apply --roster will store them (unchanged people keep what they had), so plan predicts apply
  return previewReplaceSource(stored, source, roster, new Date(rt.clock.now()).toISOString());
}

/**
 * apply --plan: plans the saved plan's inputs afresh (changing nothing) and compares the hashes.
 * @returns the fresh report when a target could not be planned; throws a stalePlan CliError when the plans differ
 */
async function checkSavedPlan(rt: CliRuntime, config: SyncConfig, people: StoredPerson[], inputs: Inputs, flags: SyncFlags): Promise<RunReport | null> {
  const saved = inputs.saved!;
  const now = rt.clock.now();
  const fresh = await runSync({ api: rt.api, store: rt.store, clock: rt.clock, log: rt.log, holder: rt.holder, holderGone: rt.holderGone }, config, {
    mode: 'plan',
    trigger: 'cli',
    deadline: now + CLI_DEADLINE_MS,
    force: inputs.force,
    waitForLeaseMs: flags.wait * 1000,
    people,
  });
  const freshPlanHash = runPlanHash(fresh);
  if (freshPlanHash === null) return fresh;
  if (freshPlanHash === saved.planHash) return null;
  const changed: string[] = [];
  if ((await fileSha256(inputs.configPath)) !== saved.inputs.config.sha256) changed.push('the config');
  if (inputs.rosterPath && (await fileSha256(inputs.rosterPath)) !== saved.inputs.roster?.sha256) changed.push('the roster');
  const why = changed.length ? `${changed.join(' and ')} changed since` : 'Losant or the state store changed since';
  throw new CliError(`saved plan is stale: ${why} ${flags.plan} was written; nothing was changed. Run plan --out again and review it`, EXIT.stalePlan, {
    code: 'stalePlan',
    details: { planHash: saved.planHash, freshPlanHash },
  });
}

async function execute(
  rt: CliRuntime,
  mode: 'plan' | 'apply',
  config: SyncConfig,
  roster: Person[] | undefined,
  people: StoredPerson[],
  inputs: Inputs,
  flags: SyncFlags,
  progress: Progress,
  stop?: AbortSignal,
): Promise<RunReport> {
  const now = rt.clock.now();
  const runId = newRunId(now);
  const deps = { api: rt.api, store: rt.store, clock: rt.clock, log: rt.log, holder: rt.holder, holderGone: rt.holderGone };

  if (roster && roster.length === 0 && !inputs.force && mode === 'plan') return blockedEmpty(runId, mode, config);
  if (roster && mode === 'apply') {
    const ingested = await ingestHrEvent(
      deps,
      { id: `cli-${runId}`, type: 'roster.snapshot', occurredAt: new Date(now).toISOString(), source: inputs.source, people: roster },
      { targets: config.targets, force: inputs.force, runId, trigger: 'cli', channel: 'cli', maxSnapshotAgeHours: config.limits.maxSnapshotAgeHours, sources: config.sources, ...(dateSettings(config) ? { dates: dateSettings(config)! } : {}) },
    );
    // an empty roster is held back with this run's record: approve --run <runId> stores it
    if (ingested.run) return { mode, runId, complete: false, targets: ingested.run.targets };
  }
  return runSync(deps, config, {
    mode,
    trigger: 'cli',
    runId,
    deadline: now + CLI_DEADLINE_MS,
    force: inputs.force,
    waitForLeaseMs: flags.wait * 1000,
    explain: true,
    ...(stop ? { stop } : {}),
    // plan previews the roster without storing it; apply reads what ingest stored
    ...(mode === 'plan' && roster ? { people } : {}),
    onProgress: (t: string, d: number, n: number) => progress.update(t, d, n),
  });
}

function blockedEmpty(runId: string, mode: 'plan' | 'apply', config: SyncConfig): RunReport {
  return { mode, runId, complete: false, targets: config.targets.map((t) => emptyTargetReport(t, 'emptySnapshot')) };
}
