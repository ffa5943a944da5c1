// run report --> runCompletedDetails (which targets are worth telling, and what) --> RunNotifier (EventBridge in AWS)
import type { ActionCounts, BlockCode, RunReport, SkipCounts, TargetReport } from './types.ts';
import type { RunRecord } from './ports.ts';

/**
 * The detail of one `Sync Run Completed` event: one target of one run, counts and codes only.
 * It never carries an email or a person: rules and chat messages see how many, not who.
 */
export interface RunCompletedDetail {
  stage: string;
  runId: string;
  /** the target's name in the sync config */
  target: string;
  trigger: RunRecord['trigger'];
  mode: RunReport['mode'];
  /** the target was reconciled to the end */
  complete: boolean;
  planned: ActionCounts;
  done: ActionCounts;
  /** actions Losant refused */
  failed: number;
  skipped: SkipCounts;
  /** the brake that held the plan back, or null */
  blocked: BlockCode | null;
  /** why the target could not be reconciled at all (`unauthorized`, `deadline`, …), or null */
  errorCode: string | null;
  /** what an operator runs to let the blocked plan through, or null when nothing is blocked */
  approveCommand: string | null;
}

export interface RunCompletedOptions {
  stage: string;
  trigger: RunRecord['trigger'];
  /** the command that approves a blocked run, given its id */
  approveCommand: (runId: string) => string;
}

const total = (c: ActionCounts): number => c.invite + c.renew + c.fixRole + c.revoke;

/**
 * Whether a target's outcome deserves an event: it was blocked, something failed, it did not
 * finish, or it changed anything. A steady target that did nothing stays quiet.
 * @example isNotable({ ...report, done: { invite: 1, renew: 0, fixRole: 0, revoke: 0 } }) // true
 */
export function isNotable(t: TargetReport): boolean {
  return t.blocked !== null || t.failed > 0 || !t.complete || t.error !== undefined || total(t.done) > 0;
}

/**
 * One `Sync Run Completed` detail per notable target of the run (see `isNotable`), with exactly
 * the fields of RunCompletedDetail: counts and codes, no emails.
 * @example runCompletedDetails(report, { stage: 'prod', trigger: 'queue', approveCommand: (id) => `invite-sync approve --stage prod --run ${id}` })
 */
export function runCompletedDetails(report: RunReport, opts: RunCompletedOptions): RunCompletedDetail[] {
  return report.targets.filter(isNotable).map((t) => ({
    stage: opts.stage,
    runId: report.runId,
    target: t.name,
    trigger: opts.trigger,
    mode: report.mode,
    complete: t.complete,
    planned: { ...t.planned },
    done: { ...t.done },
    failed: t.failed,
    skipped: { ...t.skipped },
    blocked: t.blocked,
    errorCode: t.error?.code ?? null,
    approveCommand: t.blocked ? opts.approveCommand(report.runId) : null,
  }));
}

/**
 * Where a finished run is announced (port; EventBridge's default bus in AWS, nowhere locally).
 * Implementations resolve even when the announcement failed: a run never fails for its event.
 */
export interface RunNotifier {
  runCompleted(details: RunCompletedDetail[]): Promise<void>;
}

/** The notifier of hosts that announce nothing (the CLI, `serve`, tests that do not look). */
export const silentRunNotifier: RunNotifier = { runCompleted: async () => undefined };
