// CLI approve --> RunStore (the blocked run and its stored changes) --> approveRun (an approval bound to each plan hash)
import { createInterface } from 'node:readline/promises';
import { approveRun } from '../../functions/sync/approve.ts';
import { createCliRuntime, type CliRuntime } from '../runtime.ts';
import { NothingHeldError, releaseHeldSnapshot, type ReleasedSnapshot } from '../../functions/sync/held-snapshot.ts';
import type { RunRecord } from '../../functions/sync/ports.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { stateChoice, type StateFlags } from '../state-options.ts';
import { renderActions } from './runs.ts';

export interface ApproveFlags extends StateFlags {
  run: string;
  yes?: boolean;
  json?: boolean;
}

/**
 * A run that held back an empty snapshot: approving stores it with its own occurredAt (everyone of its
 * source counts as left) and marks the run's targets dirty; the next apply or schedule reconciles them.
 */
async function approveHeld(rt: CliRuntime, run: RunRecord, flags: ApproveFlags): Promise<void> {
  const held = run.held!;
  if (!flags.json) process.stdout.write(`run ${run.runId} held back an empty snapshot of source ${held.source}; approving stores it: every person of ${held.source} counts as left\n`);
  const ask = !flags.yes && !flags.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
  if (ask && !(await confirm(`Store the empty snapshot of ${held.source}? [y/N] `))) {
    process.stdout.write('not approved; nothing was recorded\n');
    process.exitCode = EXIT.failed;
    return;
  }
  let released: ReleasedSnapshot | null;
  try {
    released = await releaseHeldSnapshot(rt, run);
  } catch (err) {
    if (err instanceof NothingHeldError) throw new CliError(err.message, EXIT.badInput);
    throw err;
  }
  const approved = released?.touched ?? [];
  if (flags.json) process.stdout.write(JSON.stringify({ runId: run.runId, approved, snapshot: { source: held.source, occurredAt: released?.occurredAt, ...released?.replaced } }) + '\n');
  else process.stdout.write(`approved run ${run.runId}: stored the empty snapshot of ${held.source} (${released?.replaced.left ?? 0} left); ${approved.join(', ')} reconcile on the next run\n`);
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
    if (run.held) return await approveHeld(rt, run, flags);
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
