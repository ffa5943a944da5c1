// reconcile --> applyActions --> InviteApi (POST/resend/DELETE) + StateStore (ledger intents and outcomes)
//
// The only code that changes anything in Losant. Invariants:
// - every `intent` of the plan is durable before its first POST is sent (a crashed run's remainder is never
//   braked as a new spike, see reconcileTarget);
// - a POST is never blindly repeated: the client resolves ambiguous failures by an exact lookup, and one it
//   cannot resolve fails as `ambiguous` with its intent kept (never POSTed again in the run);
// - it stops starting work before the deadline (or the earlier `startBy`) and reports what it did not do.
import type { Action, ActionCounts, ActionKind, LedgerEntry, TargetRef, TargetWarning } from './types.ts';
import { emptyActionCounts } from './types.ts';
import type { Clock, InviteApi, Log, StateStore } from './ports.ts';
import { ApiError, isApiError } from './errors.ts';
import { maskEmail } from './email.ts';
import { failedEntry, intentEntry, revokedEntry, sentEntry, unsentEntry, type LedgerStamp } from './ledger.ts';

export interface ApplyContext {
  api: InviteApi;
  store: StateStore;
  clock: Clock;
  log: Log;
  target: TargetRef;
  runId: string;
  /** current ledger by email (to carry renewals forward) */
  ledger: Map<string, LedgerEntry>;
  concurrency: number;
  /** epoch ms: no action starts after this, and no request runs past it */
  deadline: number;
  /**
   * epoch ms, before `deadline`: no action starts after this, while the ones started may run until `deadline`
   * (a queued run that may continue, continuation.ts startActionsBy). Default: `deadline`.
   */
  startBy?: number;
  /** aborted when the lease is lost: stop starting actions at once */
  signal?: AbortSignal;
  /** aborted when the run is asked to stop (SIGINT/SIGTERM): start no more actions; in-flight ones finish */
  stop?: AbortSignal;
  /** how many intents one ledger write holds (default 100); every batch is durable before the first POST */
  intentBatchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** how each attempted action ended (an action never reported here was not started) */
  onOutcome?: (action: Action, outcome: 'done' | 'failed', error?: string) => void;
  /**
   * Scopes Losant refused (a 403 on a resend or a delete) for this target in this run: actions needing
   * one are skipped. Shared across a target's rounds; default: a fresh set per call.
   */
  missingScopes?: Set<string>;
}

export interface ApplyResult {
  done: ActionCounts;
  failed: number;
  /** actions not attempted (deadline or lease lost) */
  notStarted: number;
  /** set when the run must stop: 401/403 from Losant, or the lease was lost */
  fatal?: ApiError | Error;
  /** true when every action was attempted */
  complete: boolean;
  /** invites found by lookup after a lost answer */
  recovered: number;
  /** emails whose POST went unanswered and whose invite a lookup did not find: counted in `failed`, intent kept, not POSTed again this run */
  ambiguous: string[];
  /** resends / deletes skipped (the refused one included) because the token lacks their scope */
  missingScope: number;
  /** one `missingScope` warning per scope refused in this call */
  warnings: TargetWarning[];
}

/** Errors after which no further action can succeed in this run. */
const FATAL_KINDS = new Set(['unauthorized', 'forbidden', 'deadline']);

/**
 * Action kinds a 403 stops on their own, with the scope they need when Losant does not name one: the
 * token lacks a scope for that kind, while invites (and the other kind) can still go out.
 */
const SCOPED_KINDS: Partial<Record<ActionKind, string>> = {
  renew: 'instanceOrgInvite.resendInvite',
  fixRole: 'instanceOrgInvite.resendInvite',
  revoke: 'instanceOrgInvite.delete',
  remove: 'instanceOrgMember.delete',
};

/**
 * Applies a plan's actions with bounded concurrency. Never throws for a single action's failure.
 * @example const r = await applyActions(plan.actions, ctx); r.done.invite
 */
export async function applyActions(actions: Action[], ctx: ApplyContext): Promise<ApplyResult> {
  const done = emptyActionCounts();
  let failed = 0;
  let recovered = 0;
  const ambiguous: string[] = [];
  let missingScope = 0;
  const missingScopes = ctx.missingScopes ?? new Set<string>();
  const warnings: TargetWarning[] = [];
  let attempted = 0;
  let finished = 0;
  let fatal: ApiError | Error | undefined;
  let deadlineHit = false;
  const total = actions.length;
  const outcomes = new OutcomeBuffer(ctx);
  /** invites taken for sending whose POST never left before the deadline (ApiError.notSent); then also those never taken */
  const notSent: Action[] = [];
  const startBy = Math.min(ctx.deadline, ctx.startBy ?? ctx.deadline);
  const stop = () => fatal !== undefined || ctx.signal?.aborted === true || ctx.stop?.aborted === true || ctx.clock.now() >= startBy;

  // Intents go to the ledger in batches, back to back; the first POST waits until the last batch is durable.
  const batchSize = Math.max(1, ctx.intentBatchSize ?? 100);
  let nextIndex = 0;
  let durableUpTo = 0; // actions[0..durableUpTo) have their intents written; none is sent before all have
  let intentWrite: Promise<void> | undefined;
  const writeIntentsAhead = (): Promise<void> => {
    if (intentWrite) return intentWrite;
    if (durableUpTo >= total) return Promise.resolve();
    const from = durableUpTo;
    const to = Math.min(total, from + batchSize);
    const intents: LedgerEntry[] = [];
    for (let i = from; i < to; i++) {
      const a = actions[i]!;
      if (a.kind !== 'invite') continue;
      intents.push(intentEntry(a, ctx.ledger.get(a.email), stampOf(ctx)));
    }
    intentWrite = (intents.length ? ctx.store.putLedgerEntries(ctx.target, intents) : Promise.resolve()).then(
      () => {
        durableUpTo = to;
        intentWrite = undefined;
        if (durableUpTo < total && !stop()) void writeIntentsAhead();
      },
      (err: unknown) => {
        intentWrite = undefined;
        fatal ??= err instanceof Error ? err : new Error(String(err));
      },
    );
    return intentWrite;
  };

  const takeNext = async (): Promise<Action | undefined> => {
    for (;;) {
      if (stop() || nextIndex >= total) return undefined;
      if (durableUpTo >= total) {
        return actions[nextIndex++]!;
      }
      await writeIntentsAhead();
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const action = await takeNext();
      if (!action) return;
      attempted++;
      const scope = SCOPED_KINDS[action.kind];
      if (scope !== undefined && missingScopes.has(scope)) {
        missingScope++;
        finished++;
        ctx.onProgress?.(finished, total);
        continue;
      }
      try {
        const r = await applyOne(action, ctx, outcomes);
        done[action.kind]++;
        if (r.recovered) recovered++;
        ctx.onOutcome?.(action, 'done');
      } catch (err) {
        if (isApiError(err) && err.kind === 'forbidden' && scope !== undefined) {
          // this kind of action stops for the target and run; the invite itself is untouched
          const refused = err.scope ?? scope;
          missingScope++;
          if (!missingScopes.has(refused)) {
            missingScopes.add(refused);
            warnings.push({ code: 'missingScope', scope: refused });
            ctx.log.warn('Losant refused an action for a missing scope: skipping that kind for this target and run', { kind: action.kind, scope: refused });
          }
          missingScopes.add(scope);
        } else if (isApiError(err) && FATAL_KINDS.has(err.kind)) {
          if (err.kind === 'deadline') {
            attempted--; // not done: counts as not started
            deadlineHit = true;
            // an invite whose POST never left (it waited for the rate limit until the deadline): unsent, not settling
            if (action.kind === 'invite' && err.notSent) notSent.push(action);
          } else {
            fatal ??= err;
            ctx.onOutcome?.(action, 'failed', `${err.kind}: ${err.message}`);
          }
        } else {
          ctx.onOutcome?.(action, 'failed', isApiError(err) ? `${err.kind}: ${err.message}` : (err as Error).message);
          failed++;
          // the intent stays: the next run after SETTLE_SECONDS adopts the invite if it appeared, else invites
          if (isApiError(err) && err.kind === 'ambiguous' && action.kind === 'invite') ambiguous.push(action.email);
          ctx.log.warn('action failed', {
            kind: action.kind,
            email: maskEmail(action.email),
            error: isApiError(err) ? `${err.kind}: ${err.message}` : (err as Error).message,
          });
          const refused = isApiError(err) ? failedEntry(action, ctx.ledger.get(action.email), err, stampOf(ctx)) : undefined;
          if (refused) outcomes.add(refused);
        }
      } finally {
        finished++;
        ctx.onProgress?.(finished, total);
      }
    }
  };

  const workers = Array.from({ length: Math.max(1, Math.min(ctx.concurrency, total)) }, () => worker());
  await Promise.all(workers);
  if (intentWrite) await intentWrite;
  // invites whose intent is durable but whose POST this run never started or never sent: no answer can be on the way
  for (let i = nextIndex; i < durableUpTo; i++) if (actions[i]!.kind === 'invite') notSent.push(actions[i]!);
  const unsent = notSent.map((a) => unsentEntry(a, ctx.ledger.get(a.email), stampOf(ctx)));
  if (unsent.length) {
    await ctx.store.putLedgerEntries(ctx.target, unsent).catch((err: unknown) => {
      ctx.log.warn('could not mark unsent intents; they settle instead', { count: unsent.length, error: (err as Error).message });
    });
  }
  try {
    await outcomes.flush();
  } catch (err) {
    fatal ??= err instanceof Error ? err : new Error(String(err));
  }
  const notStarted = total - attempted;
  return {
    done,
    failed,
    notStarted,
    recovered,
    ambiguous,
    missingScope,
    warnings,
    complete: notStarted === 0 && !deadlineHit && fatal === undefined,
    ...(fatal ? { fatal } : {}),
  };
}

/** This run at this moment, for the ledger entries it writes. */
function stampOf(ctx: ApplyContext): LedgerStamp {
  return { runId: ctx.runId, at: new Date(ctx.clock.now()).toISOString() };
}

async function applyOne(action: Action, ctx: ApplyContext, outcomes: OutcomeBuffer): Promise<{ recovered: boolean }> {
  const opts = { deadline: ctx.deadline, ...(ctx.signal ? { signal: ctx.signal } : {}) };
  // the entry as it is once Losant answered (read after the await)
  const prev = (): LedgerEntry | undefined => ctx.ledger.get(action.email);
  switch (action.kind) {
    case 'invite': {
      const { invite, recovered } = await ctx.api.createInvite(ctx.target, { email: action.email, role: action.role }, opts);
      outcomes.add(sentEntry(action, prev(), invite, stampOf(ctx)));
      return { recovered };
    }
    case 'renew':
    case 'fixRole': {
      const invite = await ctx.api.resend(ctx.target, requireInviteId(action), { role: action.role }, opts);
      outcomes.add(sentEntry(action, prev(), invite, stampOf(ctx)));
      return { recovered: false };
    }
    case 'revoke': {
      await ctx.api.revoke(ctx.target, requireInviteId(action), opts);
      outcomes.add(revokedEntry(action, prev(), stampOf(ctx)));
      return { recovered: false };
    }
    case 'remove': {
      if (!action.userId) throw new ApiError('badRequest', 'remove needs a user id');
      await ctx.api.removeMember(ctx.target, action.userId, opts);
      outcomes.add(revokedEntry(action, prev(), stampOf(ctx)));
      return { recovered: false };
    }
  }
}

function requireInviteId(action: Action): string {
  if (!action.inviteId) throw new ApiError('badRequest', `${action.kind} needs an invite id`);
  return action.inviteId;
}

/** Outcome ledger writes, batched: flushed every 25 entries (one BatchWriteItem) and at the end. */
class OutcomeBuffer {
  private pending: LedgerEntry[] = [];
  private inflight = new Set<Promise<void>>();
  private error: unknown;
  constructor(private readonly ctx: ApplyContext) {}

  add(entry: LedgerEntry): void {
    this.ctx.ledger.set(entry.email, entry);
    this.pending.push(entry);
    if (this.pending.length >= 25) this.write(this.pending.splice(0, 25));
  }

  private write(batch: LedgerEntry[]): void {
    const p = this.ctx.store.putLedgerEntries(this.ctx.target, batch).catch((err: unknown) => {
      this.error ??= err;
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  async flush(): Promise<void> {
    if (this.pending.length) this.write(this.pending.splice(0));
    await Promise.all([...this.inflight]);
    if (this.error) throw this.error;
  }
}
