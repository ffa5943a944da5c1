// resource method --> retryCall: THE retry loop (429/408/5xx/network, full jitter, Retry-After, 401 refresh, deadline,
//                     hooks for writes whose answer was lost) --> LosantTransport.send, one attempt at a time
import type { CallOptions, Log } from '../sync/ports.ts';
import type { LosantApiError } from './errors.ts';
import type { RequestSpec } from './routes.ts';
import type { Answer, LosantTransport, Outcome } from './transport.ts';

export interface RetryOptions {
  /** attempts per call, the first one included; default 6 */
  maxAttempts?: number;
  /** default 100 */
  baseDelayMs?: number;
  /** cap of one backoff delay; default 10_000 */
  maxDelayMs?: number;
  /** a Retry-After longer than this fails the call as `throttled` at once; default 60_000 */
  maxRetryAfterMs?: number;
}

/** What a call does with the answers the loop cannot decide alone. */
export interface RetryHooks<T> {
  /** a 2xx answer → the call's result (may throw, e.g. invalidResponse; never retried) */
  onSuccess(answer: Answer, attempt: number): T | Promise<T>;
  /**
   * After an attempt that may have taken effect (5xx, 408, a timeout or a dropped connection once sent)
   * and its backoff: a result ends the call (the effect is found), undefined goes on with the next attempt,
   * a throw ends the call with that error (e.g. `ambiguous`: the effect may still come).
   * Without this hook such an attempt is simply retried.
   */
  afterAmbiguous?(attempt: number, failure: LosantApiError): Promise<T | undefined>;
  /** a 404 after an ambiguous attempt means that attempt took effect (e.g. DELETE): the call's result */
  notFoundAfterAmbiguous?(): T;
}

export interface RetrierOptions extends RetryOptions {
  log: Log;
  /** [0, 1); full jitter */
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/** Statuses worth another attempt: 429 (no effect), 408 and 5xx (effect unknown). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** True when a failed attempt may have changed something: it was sent and not refused with 429. */
function mayHaveTakenEffect(outcome: Outcome): boolean {
  return outcome.ok ? outcome.status !== 429 : outcome.sent;
}

/**
 * The one retry loop of the Losant client. Retries 429, 408, 5xx, dropped connections and timeouts
 * with full-jitter exponential backoff (`random × min(maxDelay, base × 2^(attempt-1))`, a 429's
 * Retry-After as the floor); other statuses fail at once, except a 401, which fetches a fresh token
 * once when the token is a provider. No wait and no attempt passes the call's deadline.
 * @example const data = await retrier.run(transport, spec, { deadline }, { onSuccess: (a) => parse(a.text) });
 */
export class Retrier {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;

  constructor(private readonly opts: RetrierOptions) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 6);
    this.baseDelayMs = opts.baseDelayMs ?? 100;
    this.maxDelayMs = opts.maxDelayMs ?? 10_000;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
  }

  async run<T>(transport: LosantTransport, spec: RequestSpec, call: CallOptions, hooks: RetryHooks<T>): Promise<T> {
    let refreshed = false;
    let ambiguousBefore = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      const outcome = await transport.send(spec, call, attempt);
      let failure: LosantApiError;
      if (outcome.ok) {
        if (outcome.status >= 200 && outcome.status < 300) return hooks.onSuccess(outcome, attempt);
        if (outcome.status === 404 && ambiguousBefore && hooks.notFoundAfterAmbiguous) return hooks.notFoundAfterAmbiguous();
        if (outcome.status === 401 && !refreshed && transport.canRefresh()) {
          refreshed = true;
          await transport.refreshToken(outcome.token, spec, attempt);
          attempt--;
          continue;
        }
        failure = transport.errors.fromStatus(spec, outcome.status, outcome.text, attempt);
        if (!isRetryableStatus(outcome.status)) throw failure;
      } else {
        failure = transport.errors.fromNoAnswer(spec, outcome.reason, outcome.cause, attempt, transport.requestTimeoutMs);
        if (outcome.reason === 'deadline' || outcome.reason === 'aborted') throw failure;
      }
      const ambiguous = mayHaveTakenEffect(outcome);
      ambiguousBefore ||= ambiguous;
      const lookUp = ambiguous && hooks.afterAmbiguous !== undefined;
      const last = attempt >= this.maxAttempts;
      if (last && !lookUp) throw failure;
      await this.backoff(transport, spec, outcome, attempt, call, failure);
      if (lookUp) {
        const found = await hooks.afterAmbiguous?.(attempt, failure);
        if (found !== undefined) return found;
      }
      if (last) throw failure;
    }
  }

  /** Full-jitter backoff (Retry-After as the floor), never past the deadline. */
  private async backoff(transport: LosantTransport, spec: RequestSpec, outcome: Outcome, attempt: number, call: CallOptions, failure: LosantApiError): Promise<void> {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    let delay = this.opts.random() * cap;
    if (outcome.ok && outcome.status === 429) {
      const retryAfter = outcome.retryAfterMs;
      if (retryAfter !== undefined && retryAfter > this.maxRetryAfterMs) {
        throw transport.errors.make('throttled', spec, attempt, `Retry-After of ${Math.ceil(retryAfter / 1000)} s is longer than allowed`, { status: 429, cause: failure });
      }
      delay = Math.max(delay, retryAfter ?? 0);
    }
    if (call.deadline !== undefined && this.opts.now() + delay >= call.deadline) {
      throw transport.errors.make('deadline', spec, attempt, `deadline reached before a retry could start (last: ${failure.message})`, {
        status: failure.status, apiType: failure.apiType, cause: failure,
      });
    }
    this.opts.log.debug('losant request retry', { method: spec.method, route: spec.route, attempt, kind: failure.kind, status: failure.status, delayMs: Math.round(delay) });
    await this.sleepUnlessAborted(transport, delay, call.signal, spec, attempt);
  }

  private async sleepUnlessAborted(transport: LosantTransport, ms: number, signal: AbortSignal | undefined, spec: RequestSpec, attempt: number): Promise<void> {
    if (!signal) return this.opts.sleep(ms);
    const aborted = () => transport.errors.make('deadline', spec, attempt, 'the call was aborted', { cause: signal.reason });
    if (signal.aborted) throw aborted();
    let onAbort: (() => void) | undefined;
    const abortion = new Promise<never>((_, reject) => {
      onAbort = () => reject(aborted());
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.opts.sleep(ms), abortion]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}
