// CLI approve --> RunStore (the blocked run and its stored changes) --> approveRun (an approval bound to each plan hash)
import { createInterface } from 'node:readline/promises';
import { approveRun } from '../../functions/sync/approve.ts';
import { createCliRuntime } from '../runtime.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { stateChoice, type StateFlags } from '../state-options.ts';
import { renderActions } from './runs.ts';

export interface ApproveFlags extends StateFlags {
  run: string;
  yes?: boolean;
  json?: boolean;
}

/** Asks `question` on the terminal; true for y / yes. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question));
  } finally {
    rl.close();
  }
}

/**
 * `approve --run <id>`: prints the plan it approves (the blocked targets' stored changes), asks on a TTY
 * unless --yes (or --json), then records the approvals. Declined: nothing recorded, exit 1.
 */
export async function approveCommand(flags: ApproveFlags): Promise<void> {
  const rt = await createCliRuntime({ env: process.env, needsLosant: false, ...stateChoice(flags) });
  try {
    const run = await rt.store.getRun(flags.run);
    if (!run) throw new CliError(`no run ${flags.run} in the state store (${rt.stateDescription}); see invite-sync runs`, EXIT.badInput, { code: 'runNotFound' });
    const blocked = run.targets.filter((t) => t.blocked && t.planHash);
    if (blocked.length === 0) throw new CliError(`run ${flags.run} has no blocked target to approve`, EXIT.badInput);
    const actions = (await rt.store.getRunActions(flags.run)).filter((a) => blocked.some((t) => t.name === a.target));
    if (!flags.json) {
      const lines = [`run ${run.runId} (${run.mode}, ${run.startedAt}) was blocked; approving lets the next run of exactly this plan proceed:`];
      for (const t of blocked) {
        const mine = actions.filter((a) => a.target === t.name);
        lines.push(`  target ${t.name}: blocked by ${t.blocked}, ${mine.length || 'its'} changes`);
        if (mine.length) lines.push(...renderActions(mine));
        else lines.push('    (the changes were not recorded: the run is from an earlier invite-sync)');
      }
      process.stdout.write(lines.join('\n') + '\n');
    }
    const ask = !flags.yes && !flags.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
    if (ask && !(await confirm(`Approve ${actions.length || 'these'} changes for ${blocked.map((t) => t.name).join(', ')}? [y/N] `))) {
      process.stdout.write('not approved; nothing was recorded\n');
      process.exitCode = EXIT.failed;
      return;
    }
    const { approved } = await approveRun(rt.store, flags.run);
    if (flags.json) process.stdout.write(JSON.stringify({ runId: flags.run, approved, actions }) + '\n');
    else process.stdout.write(`approved run ${flags.run} for: ${approved.join(', ')}\n`);
  } finally {
    await rt.close();
  }
}
