// CLI approve --> RunStore (the blocked run and its stored changes) --> approveRun (an approval bound to each plan hash)
// --> SqsReconcileQueue (against a stage: the approved targets are queued at once)
import { createInterface } from 'node:readline/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { approveRun } from '../../functions/sync/approve.ts';
import { SqsReconcileQueue } from '../../functions/queue/sqs-queue.ts';
import type { ReconcileQueue } from '../../functions/sync/ports.ts';
import { resolveStageTarget, stageEnv } from '../stage-target.ts';
import { callerArn } from '../caller-identity.ts';
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

/** What the held snapshot is, for the approve prompt: why it was held and what storing it does. */
function heldText(held: NonNullable<RunRecord['held']>, code: string | undefined): { what: string; does: string } {
  if (code === undefined || code === 'emptySnapshot') return { what: 'an empty snapshot', does: `every person of ${held.source} counts as left` };
  const why = code === 'staleSnapshot' ? `it is older than limits.maxSnapshotAgeHours or of unknown age (occurredAt ${held.occurredAt ?? 'unknown'})` : `it changes more than sources.${held.source}.maxChangeFraction of the source's people`;
  return { what: `a snapshot of ${held.people ?? 0} people (${code}: ${why})`, does: `it replaces the people of ${held.source}, with its own occurredAt` };
}

/**
 * A run that held back a snapshot (empty, stale, or changing too much of its source): approving stores it
 * with its own occurredAt and marks the run's targets dirty; the next apply or schedule reconciles them.
 */
async function approveHeld(rt: CliRuntime, run: RunRecord, flags: ApproveFlags, target: ApproveTarget): Promise<void> {
  const held = run.held!;
  const code = held.code ?? run.targets.find((t) => t.blocked)?.blocked ?? undefined;
  const text = heldText(held, code);
  if (!flags.json) process.stdout.write(`run ${run.runId} held back ${text.what} of source ${held.source}; approving stores it: ${text.does}\n`);
  const ask = !flags.yes && !flags.json && process.stdin.isTTY === true && process.stderr.isTTY === true;
  if (ask && !(await confirm(`Store the held snapshot of ${held.source}? [y/N] `))) {
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
  let queued: string[] = [];
  let queueError: Error | undefined;
  if (target.queue && approved.length) {
    try {
      await target.queue.enqueue(approved, `approve ${run.runId}`);
      queued = approved;
    } catch (err) {
      queueError = err as Error;
    }
  }
  const snapshot = { source: held.source, occurredAt: released?.occurredAt, ...(released ? { code: released.code, people: released.people } : {}), ...released?.replaced };
  if (flags.json) process.stdout.write(JSON.stringify({ runId: run.runId, approved, ...(target.queue ? { queued } : {}), snapshot }) + '\n');
  else {
    const stored = released && released.people > 0 ? `the held snapshot of ${held.source} (${released.people} people: ${released.replaced.upserted} upserted, ${released.replaced.left} left)` : `the empty snapshot of ${held.source} (${released?.replaced.left ?? 0} left)`;
    process.stdout.write(`approved run ${run.runId}: stored ${stored}; ${approved.join(', ')} reconcile ${queued.length ? 'now (queued)' : 'on the next run'}\n`);
  }
  reportQueueError(queueError, approved);
}

/** Where an approval goes: the queue (against a stage or with RECONCILE_QUEUE_URL), and whether to ask STS who approves. */
interface ApproveTarget {
  queue?: ReconcileQueue;
  queueUrl?: string;
  region?: string;
  /** a deployed table: the approver's ARN is looked up and recorded */
  deployed: boolean;
  close(): void;
}

/** The region of an AWS queue URL (`https://sqs.<region>.amazonaws.com/…`). */
const regionOfQueueUrl = (url: URL): string | undefined => /^sqs[.-](?:fips-)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\./.exec(url.hostname)?.[1];

/** The queue adapter for a queue URL: the client talks to the URL's own origin (an AWS endpoint, or a local one). */
function queueFor(queueUrl: string, region: string | undefined): { queue: SqsReconcileQueue; client: SQSClient } {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    throw new CliError(`RECONCILE_QUEUE_URL is not a URL: "${queueUrl}"`, EXIT.badInput, { code: 'usage' });
  }
  const client = new SQSClient({ region: region ?? regionOfQueueUrl(url) ?? 'us-east-1', endpoint: url.origin });
  return { queue: new SqsReconcileQueue({ queueUrl, client }), client };
}

function reportQueueError(err: Error | undefined, targets: string[]): void {
  if (!err) return;
  process.stderr.write(`warning: approved, but could not queue ${targets.join(', ')}: ${err.message}; they reconcile on the next schedule\n`);
  process.exitCode = EXIT.couldNotRun;
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
 * Against a stage (`--stage <name>`, or STATE_TABLE without DYNAMODB_ENDPOINT) the approval records the
 * caller's ARN (STS, when reachable); with a reconcile queue (the stack's, or RECONCILE_QUEUE_URL) the
 * approved targets are queued at once; a failed enqueue keeps the approvals and exits 4.
 */
export async function approveCommand(flags: ApproveFlags): Promise<void> {
  const choice = stateChoice(flags);
  const stage = flags.stage === undefined ? undefined : await resolveStageTarget(flags.stage, { env: process.env });
  const env = stage ? stageEnv(stage, process.env) : process.env;
  const queueUrl = stage ? stage.queueUrl : env.RECONCILE_QUEUE_URL || undefined;
  const region = stage?.region ?? (env.AWS_REGION || undefined);
  const sqs = queueUrl ? queueFor(queueUrl, region) : undefined;
  const target: ApproveTarget = {
    ...(sqs ? { queue: sqs.queue, queueUrl } : {}),
    ...(region ? { region } : {}),
    deployed: stage !== undefined || (Boolean(env.STATE_TABLE) && !env.DYNAMODB_ENDPOINT),
    close: () => sqs?.client.destroy(),
  };
  let rt: CliRuntime;
  try {
    rt = await createCliRuntime({ env, needsLosant: false, ...choice });
  } catch (err) {
    target.close();
    throw err;
  }
  try {
    const run = await rt.store.getRun(flags.run);
    if (!run) throw new CliError(`no run ${flags.run} in the state store (${rt.stateDescription}); see invite-sync runs`, EXIT.badInput, { code: 'runNotFound' });
    if (run.held) return await approveHeld(rt, run, flags, target);
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
    const approvedBy = target.deployed ? await callerArn(target.region) : undefined;
    const { approved, queued, queueError } = await approveRun(rt.store, flags.run, { ...(approvedBy ? { approvedBy } : {}), ...(target.queue ? { queue: target.queue } : {}) });
    if (flags.json) process.stdout.write(JSON.stringify({ runId: flags.run, approved, ...(approvedBy ? { approvedBy } : {}), ...(target.queue ? { queued } : {}), actions }) + '\n');
    else {
      process.stdout.write(`approved run ${flags.run} for: ${approved.join(', ')}${approvedBy ? ` (by ${approvedBy})` : ''}\n`);
      if (queued.length) process.stdout.write(`queued ${queued.join(', ')}: they reconcile now\n`);
      else if (target.deployed && !target.queue) process.stdout.write('no reconcile queue known (RECONCILE_QUEUE_URL): the targets reconcile on the next schedule\n');
    }
    reportQueueError(queueError, approved);
  } finally {
    target.close();
    await rt.close();
  }
}
