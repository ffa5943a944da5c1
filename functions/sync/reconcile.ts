// handler / CLI --> runSync --> reconcileTarget --> (lease, read four sets, plan, brakes, applyActions, release)
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { CallOptions, Clock, InviteApi, Lease, LeaseHolder, Log, OrgSeats, RunRecord, StateStore } from './ports.ts';
import type { Action, BlockCode, Plan, RunReport, StoredPerson, SyncSettings, Target, TargetReport } from './types.ts';
import { isApiError, LeaseBusyError, RunDeadlineError, RunInterruptedError } from './errors.ts';
import { takeLease } from './lease.ts';
import { RunActionLog } from './run-actions.ts';
import { planTarget } from './planner.ts';
import { peopleFeeding } from './sources.ts';
import { applyDates, dateSettings } from './dates.ts';
import { roleFor } from './rules.ts';
import { checkBrakes } from './brakes.ts';
import { recentChanges } from './change-window.ts';
import { applyActions } from './applier.ts';
import { explainInto, outcomeRecorder } from './report-detail.ts';
import { isBrakedRemainder } from './ledger.ts';
import { leaseOwnerFor, loadRunEnds } from './ownership.ts';
import { cutToSeats } from './seats.ts';
import { addCounts, counts, emptyTargetReport, errorCode, safeMessage } from './target-report.ts';

/** The scope GET org needs (Losant's REST reference); without it the target is planned without seats. */
export const ORG_SCOPE = 'instanceOrg.get';

/** The org's seats, or `missingScope` when Losant refused the GET for the token's scopes (any other failure throws). */
async function readOrgSeats(api: InviteApi, target: Target, opts: CallOptions): Promise<OrgSeats | 'missingScope'> {
  try {
    return await api.getOrg(target, opts);
  } catch (err) {
    if (isApiError(err) && err.kind === 'forbidden') return 'missingScope';
    throw err;
  }
}

export interface SyncDeps {
  api: InviteApi;
  store: StateStore;
  clock: Clock;
  log: Log;
  sleep?: (ms: number) => Promise<void>;
  /** recorded with each lease this process takes (the CLI: host, pid, process start) */
  holder?: LeaseHolder;
  /** true for a holder that was a process on this host that is gone: its lease is taken over at once */
  holderGone?: (holder: LeaseHolder) => boolean;
}

export interface ReconcileOptions {
  mode: 'apply' | 'plan';
  runId: string;
  /** lease owner (unique per process/invocation) */
  owner: string;
  /** epoch ms: nothing starts after it; the run reports itself incomplete */
  deadline: number;
  /** epoch ms before `deadline`: no action (POST, resend, delete) starts after it; requests started may run until `deadline` */
  startActionsBy?: number;
  /** apply even if a brake trips; also re-invites people removed outside the sync */
  force?: boolean;
  /** how long to wait for a busy lease (default 0: give up at once) */
  waitForLeaseMs?: number;
  onProgress?: (done: number, total: number) => void;
  /** plan against these people instead of the stored ones (plan --roster previews without storing) */
  people?: StoredPerson[];
  /** fill `report.detail`: every action (with its rule and, in apply, how it ended), steady state, skipped people */
  explain?: boolean;
  /** aborted (SIGINT/SIGTERM): start no more actions, let in-flight ones finish, record, release (code `interrupted`) */
  stop?: AbortSignal;
  /** collects the run's actions and outcomes (runSync stores them) */
  actionLog?: RunActionLog;
}

/** How many times a holder reconciles again because changes landed while it held the lease. */
const MAX_DIRTY_ROUNDS = 5;
/** Run records live 30 days. */
export const RUN_TTL_SECONDS = 30 * 24 * 3600;

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Reconciles one target: lease, read people/ledger/pending/members, plan, brakes, apply, release.
 * Never throws for Losant or lease trouble: the report's `error` says what stopped it.
 * @example const report = await reconcileTarget(deps, config, config.targets[0], { mode: 'apply', runId, owner, deadline })
 */
export async function reconcileTarget(deps: SyncDeps, config: SyncSettings, target: Target, opts: ReconcileOptions): Promise<TargetReport> {
  const report = emptyTargetReport(target);
  const log = deps.log;
  const sleep = deps.sleep ?? sleepReal;
  const abort = new AbortController();
  // every request waiting out a 429 listens on this signal: up to `concurrency` of them at once
  setMaxListeners(config.concurrency + 8, abort.signal);
  let lease: Lease | null = null;
  let renewTimer: ReturnType<typeof setInterval> | undefined;
  let released = false;

  try {
    if (opts.mode === 'apply') {
      lease = await takeLease({ ...deps, sleep }, target, { owner: leaseOwnerFor(opts.runId, opts.owner), leaseSeconds: config.leaseSeconds, waitMs: opts.waitForLeaseMs ?? 0, ...(opts.stop ? { stop: opts.stop } : {}) });
      const held = lease;
      renewTimer = setInterval(() => {
        deps.store.renewLease(held, config.leaseSeconds).then(
          (ok) => {
            if (!ok) {
              log.error('lease lost while applying; stopping', { target: target.name });
              abort.abort();
            }
          },
          (err: unknown) => log.warn('lease renewal failed', { target: target.name, error: (err as Error).message }),
        );
      }, Math.max(1000, (config.leaseSeconds * 1000) / 3));
      renewTimer.unref?.();
    }

    // scopes Losant refused for this target: the actions needing them stay skipped in every round
    const missingScopes = new Set<string>();
    let missingScopeSkips = 0;
    // policy.removeLeftMembers: the token's own user is never removed (GET /me once per target and run)
    const ownUser = config.policy.removeLeftMembers === true ? await deps.api.ownUser({ deadline: opts.deadline, signal: abort.signal }) : undefined;
    // GET org refused (no instanceOrg.get): said once, then every round plans without seats
    let orgRefused = false;
    for (let round = 1; ; round++) {
      if (deps.clock.now() >= opts.deadline) throw new RunDeadlineError('deadline reached before the target was reconciled');
      if (opts.stop?.aborted) throw new RunInterruptedError('stopped before the target was reconciled');
      const callOpts = { deadline: opts.deadline, signal: abort.signal };
      const [people, ledgerList, pending, members, org] = await Promise.all([
        opts.people ? Promise.resolve(opts.people) : deps.store.listPeople(),
        deps.store.getLedger(target),
        deps.api.listPending(target, callOpts),
        deps.api.listMembers(target, callOpts),
        orgRefused ? Promise.resolve('missingScope' as const) : readOrgSeats(deps.api, target, callOpts),
      ]);
      if (org === 'missingScope' && !orgRefused) {
        orgRefused = true;
        report.warnings = [...(report.warnings ?? []), { code: 'missingScope', scope: ORG_SCOPE }];
        log.warn('Losant refused GET org for a missing scope: planning without seats for this target and run', { target: target.name, scope: ORG_SCOPE });
      }
      const ledger = new Map(ledgerList.map((e) => [e.email, e]));
      const now = deps.clock.now();
      // an intent proves nothing alone: what it may claim is bounded by its run's end (ownership.ts, ledger.ts)
      const runEnds = await loadRunEnds(deps.store, target, ledgerList, config.leaseSeconds);
      // only the people of sources that feed this target (sources.<name>.targets), as their start and end dates say now
      const dated = applyDates(peopleFeeding(config.sources, target.name, people), dateSettings(config), now);
      const uncut: Plan = planTarget({
        rules: target.rules,
        people: dated.people,
        pending,
        members,
        ledger: ledgerList,
        policy: config.policy,
        now,
        force: opts.force ?? false,
        runEnds,
        leaseSeconds: config.leaseSeconds,
        stamp: { runId: opts.runId, at: new Date(now).toISOString() },
        ...(opts.explain ? { explain: true } : {}),
        ...(ownUser !== undefined ? { ownUser } : {}),
      });
      // seats.ts: invites and renewals past the org's free seats are cut (skip noSeat), before the brakes see the plan
      const seated = cutToSeats({
        plan: uncut,
        memberLimit: org === 'missingScope' ? undefined : org.memberLimit,
        reserveSeats: config.limits.reserveSeats ?? 0,
        members,
        pending,
        people: dated.people,
        rules: target.rules,
        dates: dateSettings(config),
      });
      const plan = seated.plan;
      if (seated.seats) report.seats = seated.seats;
      else delete report.seats;
      if (ownUser === 'unknown' && plan.skipped.missingScope > 0 && !report.warnings?.some((w) => w.scope === 'me.get')) {
        // removals wait until the token may say whose it is (offboard.ts)
        report.warnings = [...(report.warnings ?? []), { code: 'missingScope', scope: 'me.get' }];
        log.warn('GET /me refused: no member is removed for this target and run', { target: target.name, scope: 'me.get' });
      }
      report.desired = plan.desired;
      report.pending = plan.pending;
      report.members = plan.members;
      // people the rules want who have not started yet (people.startDateField): not invited today
      const waiting = dated.notStarted.filter((n) => roleFor(n.person, target.rules) !== null).map((n) => n.person.email);
      plan.skipped.notStarted = new Set(waiting).size;
      if (plan.skippedPeople) plan.skippedPeople.notStarted = [...new Set(waiting)].sort();
      report.skipped = plan.skipped;
      report.planHash = plan.hash;
      if (opts.explain) explainInto(report, plan, pending, deps.clock.now(), round, seated.seats);
      const planned = counts(plan.actions);
      if (round === 1) report.planned = planned;
      else addCounts(report.planned, planned);

      // invites an earlier run already passed the brakes for (its `intent` is in the ledger, the invite was
      // never created because that run crashed or hit its deadline) are its remainder, not a new spike
      const clock = { now, ends: runEnds, leaseMs: config.leaseSeconds * 1000 };
      const fresh = plan.actions.filter((a) => !isBrakedRemainder(a, ledger.get(a.email), clock));
      // the changes this target's runs of the last limits.windowMinutes made count too (read only when this plan changes something)
      const recent = fresh.length > 0 ? await recentChanges(deps.store, target.name, now, config.limits.windowMinutes ?? 0, opts.runId) : 0;
      let block: BlockCode | null = checkBrakes(fresh.length === plan.actions.length ? plan : { ...plan, actions: fresh }, config.limits, { recentChanges: recent });
      if (block && !opts.force && opts.mode === 'apply' && (await deps.store.takeApproval(target, plan.hash))) {
        log.info('approved plan released', { target: target.name, planHash: plan.hash });
        block = null;
      }
      opts.actionLog?.planned(target.name, plan.actions, block && !opts.force ? 'blocked' : opts.mode === 'plan' ? 'planned' : 'notStarted');
      if (block && !opts.force) {
        report.blocked = block;
        log.warn('run blocked by a safety brake', { target: target.name, code: block, actions: plan.actions.length, recentChanges: recent });
        break;
      }
      if (opts.mode === 'plan') {
        report.complete = true;
        break;
      }
      // what the ledger learnt without an action (members first seen, departures, claims): the run's batch writes
      if (plan.remember?.length) {
        await deps.store.putLedgerEntries(target, plan.remember);
        for (const e of plan.remember) ledger.set(e.email, e);
      }

      const result = await applyActions(plan.actions, {
        api: deps.api,
        store: deps.store,
        clock: deps.clock,
        log,
        target,
        runId: opts.runId,
        ledger,
        concurrency: config.concurrency,
        deadline: opts.deadline,
        ...(opts.startActionsBy !== undefined ? { startBy: opts.startActionsBy } : {}),
        signal: abort.signal,
        missingScopes,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(opts.stop ? { stop: opts.stop } : {}),
        onOutcome: outcomes(report.detail ? outcomeRecorder(report.detail.actions, plan.actions) : undefined, opts.actionLog),
      });
      addCounts(report.done, result.done);
      report.failed += result.failed;
      if (result.ambiguous.length) report.failures = [...(report.failures ?? []), ...result.ambiguous.map((email) => ({ email, reason: 'ambiguous' as const }))];
      missingScopeSkips += result.missingScope;
      report.skipped = { ...report.skipped, missingScope: plan.skipped.missingScope + missingScopeSkips };
      if (result.warnings.length) report.warnings = [...(report.warnings ?? []), ...result.warnings];
      if (result.fatal) throw result.fatal;
      if (abort.signal.aborted) throw new LeaseBusyError(`target ${target.name}: lease lost during the run`);
      if (opts.stop?.aborted && !result.complete) throw new RunInterruptedError(`stopped with ${result.notStarted} actions not started; a rerun continues`);
      if (!result.complete) throw new RunDeadlineError(`deadline reached with ${result.notStarted} actions not started`);

      const rel = await deps.store.releaseLease(lease!);
      if (rel === 'dirty' && round < MAX_DIRTY_ROUNDS) {
        log.info('changes landed during the run; reconciling again', { target: target.name, round });
        continue;
      }
      released = rel !== 'dirty';
      if (rel === 'lost') log.warn('lease was taken over before release', { target: target.name });
      report.complete = true;
      break;
    }
  } catch (err) {
    report.complete = false;
    report.error = { code: errorCode(err), message: safeMessage(err) };
    log.error('target not reconciled', { target: target.name, code: report.error.code, error: report.error.message });
  } finally {
    if (renewTimer) clearInterval(renewTimer);
    if (lease && !released) {
      for (let i = 0; i < 3; i++) {
        const rel = await deps.store.releaseLease(lease).catch(() => 'lost' as const);
        if (rel !== 'dirty') break;
      }
    }
  }
  return report;
}

type OnOutcome = (action: Action, outcome: 'done' | 'failed', error?: string) => void;

/** The applier's onOutcome: the report detail's recorder and the run's action log, each when present. */
function outcomes(detail: OnOutcome | undefined, log: RunActionLog | undefined): OnOutcome {
  return (action, outcome, error) => {
    detail?.(action, outcome, error);
    log?.outcome(action, outcome, error);
  };
}

export interface RunSyncOptions {
  mode: 'apply' | 'plan';
  trigger: RunRecord['trigger'];
  deadline: number;
  /** see ReconcileOptions.startActionsBy */
  startActionsBy?: number;
  /** recorded with the run: the chain of continuations it is part of (trigger `continuation`) */
  continuation?: RunRecord['continuation'];
  force?: boolean;
  /** only these targets (by name); default all */
  targetNames?: string[];
  waitForLeaseMs?: number;
  runId?: string;
  owner?: string;
  onProgress?: (target: string, done: number, total: number) => void;
  /** see ReconcileOptions.people */
  people?: StoredPerson[];
  /** see ReconcileOptions.explain */
  explain?: boolean;
  /** see ReconcileOptions.stop */
  stop?: AbortSignal;
}

/** A run id that sorts by time: `r-<iso compact>-<random>`. */
export function newRunId(now: number): string {
  return `r-${new Date(now).toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
}

/**
 * Reconciles the selected targets one after another and records the run.
 * @example const report = await runSync(deps, config, { mode: 'apply', trigger: 'cli', deadline: Date.now() + 60_000 })
 */
export async function runSync(deps: SyncDeps, config: SyncSettings, opts: RunSyncOptions): Promise<RunReport> {
  const startedAt = new Date(deps.clock.now()).toISOString();
  const runId = opts.runId ?? newRunId(deps.clock.now());
  const owner = opts.owner ?? `${runId}:${randomUUID().slice(0, 8)}`;
  const selected = opts.targetNames ? config.targets.filter((t) => opts.targetNames!.includes(t.name)) : config.targets;
  const targets: TargetReport[] = [];
  const actionLog = new RunActionLog();
  for (const target of selected) {
    targets.push(
      await reconcileTarget(deps, config, target, {
        mode: opts.mode,
        runId,
        owner,
        deadline: opts.deadline,
        ...(opts.startActionsBy !== undefined ? { startActionsBy: opts.startActionsBy } : {}),
        ...(opts.force !== undefined ? { force: opts.force } : {}),
        ...(opts.waitForLeaseMs !== undefined ? { waitForLeaseMs: opts.waitForLeaseMs } : {}),
        ...(opts.people ? { people: opts.people } : {}),
        ...(opts.explain ? { explain: true } : {}),
        ...(opts.stop ? { stop: opts.stop } : {}),
        actionLog,
        ...(opts.onProgress ? { onProgress: (d: number, t: number) => opts.onProgress!(target.name, d, t) } : {}),
      }),
    );
  }
  const report: RunReport = { mode: opts.mode, runId, complete: targets.every((t) => t.complete), targets };
  // the detail is the CLI's view of this run: it is never stored (a large plan would not fit a record)
  const stored = targets.map(({ detail: _detail, ...t }) => t);
  const record: RunRecord = {
    ...report,
    targets: stored,
    trigger: opts.trigger,
    ...(opts.continuation ? { continuation: opts.continuation } : {}),
    startedAt,
    finishedAt: new Date(deps.clock.now()).toISOString(),
  };
  try {
    await deps.store.putRun(record, RUN_TTL_SECONDS);
    if (actionLog.entries().length) await deps.store.putRunActions(runId, actionLog.entries(), RUN_TTL_SECONDS);
  } catch (err) {
    deps.log.error('could not record the run', { runId, error: (err as Error).message });
  }
  return report;
}

export { approveRun, RunNotFoundError } from './approve.ts';
