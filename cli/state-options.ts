// CLI commands --> the state flags every verb with a state store shares: --state-dir, --ephemeral, --wait
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliError, EXIT } from './exit-codes.ts';

/** Where a command's state lives, as the flags say. */
export interface StateChoice {
  /** --state-dir (default ./.invite-sync) */
  stateDir?: string;
  /** --ephemeral: an in-memory DynamoDB Local thrown away at exit */
  ephemeral?: boolean;
  /** --wait in ms: how long to wait for a state dir (and, in apply, a lease) another process holds */
  waitMs?: number;
}

export interface StateFlags {
  stateDir?: string;
  ephemeral?: boolean;
  wait?: number;
  /** --stage <name> (approve, runs, show): the deployed table (and queue) of stack InviteSync-<name> */
  stage?: string;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

/**
 * Adds --state-dir and --ephemeral (and --wait unless the command has its own).
 * @example addStateOptions(program.command('runs'), { wait: true })
 */
export function addStateOptions(cmd: Command, opts: { wait?: boolean } = {}): Command {
  cmd
    .option('--state-dir <dir>', 'keep state (an embedded DynamoDB Local) in this directory; default ./.invite-sync')
    .option('--ephemeral', 'use a throwaway in-memory state store (forgets everything at exit)');
  if (opts.wait) cmd.addOption(new Option('--wait <seconds>', 'wait this long for a state dir another process is opening').argParser(seconds).default(0));
  return cmd;
}

/**
 * Adds --stage <name>: the verb works against the deployed stage (see cli/stage-target.ts).
 * @example addStageOption(program.command('runs'))
 */
export function addStageOption(cmd: Command): Command {
  return cmd.option('--stage <name>', 'work against deployed stage <name>: table and queue from stack InviteSync-<name> (or STATE_TABLE / RECONCILE_QUEUE_URL)');
}

/** The StateChoice of a command's flags; --state-dir with --ephemeral (or either with --stage) is a usage error (exit 2). */
export function stateChoice(flags: StateFlags): StateChoice {
  if (flags.stateDir !== undefined && flags.ephemeral) {
    throw new CliError('--state-dir and --ephemeral exclude each other: pick one', EXIT.badInput, { code: 'usage' });
  }
  if (flags.stage !== undefined && (flags.stateDir !== undefined || flags.ephemeral)) {
    throw new CliError(`--stage and ${flags.ephemeral ? '--ephemeral' : '--state-dir'} exclude each other: pick one`, EXIT.badInput, { code: 'usage' });
  }
  return {
    ...(flags.stateDir !== undefined ? { stateDir: flags.stateDir } : {}),
    ...(flags.ephemeral ? { ephemeral: true } : {}),
    ...(flags.wait !== undefined ? { waitMs: flags.wait * 1000 } : {}),
  };
}
