// CLI plan | apply | approve --> the same use cases the Lambda handlers call (ingestHrEvent, runSync, approveRun)
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option } from 'commander';
import { loadSyncConfigFile } from '../../functions/config/load-sync-config.ts';
import type { SyncConfig } from '../../functions/config/sync-config.schema.ts';
import { parseRoster, formatFromPath } from '../../functions/sync/roster.ts';
import { personIdentity } from '../../functions/sync/people.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { approveRun, emptyTargetReport, newRunId, runSync, RunNotFoundError } from '../../functions/sync/reconcile.ts';
import { InputError } from '../../functions/sync/errors.ts';
import type { Person, RunReport, StoredPerson } from '../../functions/sync/types.ts';
import { createCliRuntime, type CliRuntime } from '../runtime.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { progressLine, renderTable, runExit, toJson } from '../report.ts';

interface SyncFlags {
  config: string;
  roster?: string;
  json?: boolean;
  force?: boolean;
  wait: number;
  stateDir?: string;
  source: string;
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
    program
      .command(mode)
      .description(mode === 'plan' ? 'show what apply would do; changes nothing' : 'invite exactly the people who are missing')
      .requiredOption('--config <file>', 'sync config file (JSON)')
      .option('--roster <file>', 'roster file (.csv or .json); default: the people already in the state store')
      .option('--json', 'print exactly one JSON object on stdout')
      .option('--force', 'proceed past the safety brakes; re-invite people removed outside the sync')
      .addOption(new Option('--wait <seconds>', 'wait this long for a busy lease').argParser(nonNegativeInt).default(0))
      .option('--state-dir <dir>', 'keep the embedded DynamoDB Local data here (default: in memory)')
      .addOption(new Option('--source <name>', 'the HR source the roster replaces').default(CLI_SOURCE).hideHelp())
      .action(async (flags: SyncFlags) => {
        process.exitCode = await runSyncCommand(mode, flags);
      });
  }
  program
    .command('approve')
    .description('approve a run blocked by a safety brake: the next run of the same plan proceeds')
    .requiredOption('--run <id>', 'the blocked run id')
    .option('--state-dir <dir>', 'the embedded DynamoDB Local data directory the run used')
    .option('--json', 'print a JSON object on stdout')
    .action(async (flags: { run: string; stateDir?: string; json?: boolean }) => {
      const rt = await createCliRuntime({ env: process.env, needsLosant: false, ...(flags.stateDir ? { stateDir: flags.stateDir } : {}) });
      try {
        const { approved } = await approveRun(rt.store, flags.run);
        if (approved.length === 0) throw new CliError(`run ${flags.run} has no blocked target to approve`, EXIT.badInput);
        if (flags.json) process.stdout.write(JSON.stringify({ runId: flags.run, approved }) + '\n');
        else process.stdout.write(`approved run ${flags.run} for: ${approved.join(', ')}\n`);
      } catch (err) {
        if (err instanceof RunNotFoundError) throw new CliError(err.message, EXIT.badInput);
        throw err;
      } finally {
        await rt.close();
      }
    });
}

async function readRoster(file: string, config: SyncConfig): Promise<Person[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read the roster: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const { people } = parseRoster(text, formatFromPath(file), { maxBadRows: config.limits.maxBadRows, origin: file });
  return people;
}

/** Prints an InputError with every issue it lists (roster rows by line and field). */
function inputErrorText(err: InputError): string {
  const lines = [`invite-sync: ${err.message}`];
  for (const i of err.issues.slice(0, 200)) lines.push(`  ${i.line !== undefined ? `line ${i.line}: ` : ''}${i.path}: ${i.message}`);
  if (err.issues.length > 200) lines.push(`  … and ${err.issues.length - 200} more`);
  return lines.join('\n') + '\n';
}

async function runSyncCommand(mode: 'plan' | 'apply', flags: SyncFlags): Promise<number> {
  let config: SyncConfig;
  let roster: Person[] | undefined;
  try {
    config = await loadSyncConfigFile(flags.config);
    if (flags.roster) roster = await readRoster(flags.roster, config);
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(inputErrorText(err));
      return EXIT.badInput;
    }
    throw err;
  }

  const rt = await createCliRuntime({ env: process.env, maxAnswerBytes: config.limits.maxAnswerBytes, ...(flags.stateDir ? { stateDir: flags.stateDir } : {}) });
  try {
    const report = await execute(rt, mode, config, roster, flags);
    if (flags.json) process.stdout.write(toJson(report) + '\n');
    else process.stdout.write(renderTable(report));
    return runExit(report);
  } finally {
    await rt.close();
  }
}

async function execute(rt: CliRuntime, mode: 'plan' | 'apply', config: SyncConfig, roster: Person[] | undefined, flags: SyncFlags): Promise<RunReport> {
  const now = rt.clock.now();
  const runId = newRunId(now);
  const deps = { api: rt.api, store: rt.store, clock: rt.clock, log: rt.log };
  let people: StoredPerson[] | undefined;

  if (roster && roster.length === 0 && !flags.force) return blockedEmpty(runId, mode, config);
  if (roster && mode === 'apply') {
    await ingestHrEvent(
      deps,
      { id: `cli-${runId}`, type: 'roster.snapshot', occurredAt: new Date(now).toISOString(), source: flags.source, people: roster },
      { targets: config.targets, force: flags.force ?? false },
    );
  } else if (roster) {
    // plan previews the roster without storing it: stored people of other sources + this roster
    const stored = await rt.store.listPeople();
    const at = new Date(now).toISOString();
    people = [
      ...stored.filter((p) => p.source !== flags.source),
      ...roster.map((p) => ({ ...p, identity: personIdentity(p), source: flags.source, lastEventAt: at })),
    ];
  }
  if (!roster) {
    const stored = await rt.store.listPeople();
    if (stored.length === 0) throw new CliError(`no people in the state store (${rt.stateDescription}): pass --roster <file>`, EXIT.badInput);
  }

  const tty = process.stderr.isTTY && !flags.json;
  const report = await runSync(deps, config, {
    mode,
    trigger: 'cli',
    runId,
    deadline: now + CLI_DEADLINE_MS,
    force: flags.force ?? false,
    waitForLeaseMs: flags.wait * 1000,
    ...(people ? { people } : {}),
    ...(tty ? { onProgress: (t: string, d: number, n: number) => process.stderr.write(progressLine(t, d, n) + (d === n ? '\n' : '')) } : {}),
  });
  return report;
}

function blockedEmpty(runId: string, mode: 'plan' | 'apply', config: SyncConfig): RunReport {
  return { mode, runId, complete: false, targets: config.targets.map((t) => emptyTargetReport(t, 'emptySnapshot')) };
}
