// Losant client --> RateGovernor (acquire before each send, onResponse after each answer) --> paced sends
import { LosantApiError } from './errors.ts';

/** Spaces the client's requests so a server-side rate limit is met with few 429s. */
export interface RateGovernor {
  /**
   * Resolves when a request may be sent. Rejects with LosantApiError('deadline') when that moment
   * would come after `deadline` (epoch ms).
   */
  acquire(deadline?: number): Promise<void>;
  /** Reports an HTTP answer; `retryAfterMs` is the parsed Retry-After of a 429. */
  onResponse(status: number, retryAfterMs?: number): void;
}

export interface AdaptiveRateGovernorOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * factor on the first rate estimate; default 1.0 (the estimate already counts the tokens the
   * server refilled during the pause, and the growth probes upwards anyway)
   */
  headroom?: number;
  /** factor on the rate after each later 429; default 0.8 */
  decrease?: number;
  /** growth per second of pacing without a 429 (0.05 = +5 %/s); default 0.05 */
  increasePerSecond?: number;
  /** floor of the rate, requests per second; default 0.1 */
  minRate?: number;
  /** wait assumed when a 429 carries no Retry-After, ms; default 1000 */
  defaultRetryAfterMs?: number;
}

/** What the governor currently believes (for logs, metrics and tests). */
export interface GovernorState {
  mode: 'open' | 'paced';
  /** requests per second; Infinity while open */
  rate: number;
  /** burst the server is believed to allow */
  burst: number;
  pausedUntil: number;
  throttled: number;
}

/**
 * Unlimited until the first 429. Then it pauses every send until Retry-After has passed and paces
 * with a local token bucket modelled on the server's: rate = successes since the start divided by
 * the time up to the end of the pause (× headroom), burst = what got through beyond that rate.
 * On each later 429 the server's rate is re-estimated from the successes since the previous 429
 * (kept within one decrease step of the pace) and the pace becomes `decrease` × that estimate; the
 * burst shrinks when the burst after a pause itself overran. While none arrive and sends wait for
 * tokens, the pace grows by `increasePerSecond`. 429s that arrive during a pause answer requests
 * sent before it and only lengthen the pause.
 * One governor per token: the server limits per token.
 * @example const governor = new AdaptiveRateGovernor(); await governor.acquire(deadline); governor.onResponse(429, 1000);
 */
export class AdaptiveRateGovernor implements RateGovernor {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly headroom: number;
  private readonly decrease: number;
  private readonly growth: number;
  private readonly minRate: number;
  private readonly defaultRetryAfterMs: number;

  /** 0 while open; then how many 429s started a pause */
  private pauses = 0;
  private startedAt: number | undefined;
  private successes = 0;
  private firstThrottleAt = 0;
  private pauseStartedAt = 0;
  /** successes since the end of the latest pause */
  private sincePause = 0;
  /** our pace, requests per second */
  private rate = Number.POSITIVE_INFINITY;
  /** the server's refill rate as last estimated */
  private serverRate = Number.POSITIVE_INFINITY;
  /** the burst the latest pause ends with */
  private released = 0;
  private burst = Number.POSITIVE_INFINITY;
  private tokens = 0;
  /** time `tokens` was last brought up to date (never before the end of a pause) */
  private at = 0;
  private pausedUntil = 0;
  private throttled = 0;

  constructor(opts: AdaptiveRateGovernorOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.headroom = opts.headroom ?? 1.0;
    this.decrease = opts.decrease ?? 0.8;
    this.growth = opts.increasePerSecond ?? 0.05;
    this.minRate = opts.minRate ?? 0.1;
    this.defaultRetryAfterMs = opts.defaultRetryAfterMs ?? 1000;
  }

  /** Resolves when a request may be sent (see RateGovernor.acquire). */
  async acquire(deadline?: number): Promise<void> {
    this.startedAt ??= this.now();
    for (;;) {
      const now = this.now();
      let waitMs: number;
      if (now < this.pausedUntil) {
        waitMs = this.pausedUntil - now;
      } else if (this.pauses === 0) {
        return;
      } else {
        this.refill(now);
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        waitMs = Math.max(1, ((1 - this.tokens) / this.rate) * 1000);
      }
      if (deadline !== undefined && now + waitMs > deadline) {
        throw new LosantApiError('deadline', `rate limit pacing would delay the request past the deadline (${Math.ceil(waitMs)} ms)`, { status: 429 });
      }
      await this.sleep(waitMs);
    }
  }

  /** Learns from an answer (see RateGovernor.onResponse). */
  onResponse(status: number, retryAfterMs?: number): void {
    const now = this.now();
    if (status !== 429) {
      if (status > 0) this.onSuccess(now);
      return;
    }
    this.throttled++;
    const until = now + Math.max(0, retryAfterMs ?? this.defaultRetryAfterMs);
    if (this.pauses === 0) {
      this.pauses = 1;
      this.firstThrottleAt = now;
      this.pauseStartedAt = now;
      this.pausedUntil = until;
      this.estimate();
      return;
    }
    if (now < this.pausedUntil) {
      // answers a request sent before the pause: the news is old, only the wait may grow
      if (until > this.pausedUntil) {
        this.pausedUntil = until;
        this.fillAtPauseEnd();
      }
      return;
    }
    this.pauses++;
    // the server's bucket was empty at the previous 429 and is empty now: what got through since
    // then, over that time, is its refill rate (kept within one decrease step of our pace)
    const observed = this.sincePause / Math.max(0.001, (now - this.pauseStartedAt) / 1000);
    this.serverRate = Math.min(this.rate, Math.max(this.rate * this.decrease, observed));
    this.rate = Math.max(this.minRate, this.serverRate * this.decrease);
    // the burst released after the last pause overran: the server's bucket is smaller than believed
    if (this.sincePause < this.released) this.burst = Math.max(1, this.sincePause);
    this.pauseStartedAt = now;
    this.pausedUntil = until;
    this.sincePause = 0;
    this.fillAtPauseEnd();
  }

  /** What the governor currently believes. */
  state(): GovernorState {
    return {
      mode: this.pauses === 0 ? 'open' : 'paced',
      rate: this.rate,
      burst: this.burst,
      pausedUntil: this.pausedUntil,
      throttled: this.throttled,
    };
  }

  private onSuccess(now: number): void {
    this.successes++;
    if (this.pauses === 0) return;
    if (now >= this.pausedUntil) this.sincePause++;
    // a request sent before the first pause that got through still belongs to the first estimate
    else if (this.pauses === 1) this.estimate();
  }

  /** First estimate: rate over the whole time up to the end of the first pause; burst = the excess over that rate. */
  private estimate(): void {
    const start = this.startedAt ?? this.firstThrottleAt;
    const spanSeconds = Math.max(0.001, (this.pausedUntil - start) / 1000);
    const observed = this.successes / spanSeconds;
    const openSeconds = Math.max(0, (this.firstThrottleAt - start) / 1000);
    this.rate = Math.max(this.minRate, observed * this.headroom);
    this.serverRate = this.rate;
    this.burst = Math.max(1, Math.round(this.successes - observed * openSeconds));
    this.fillAtPauseEnd();
  }

  /** The server's bucket refills during the pause: model it as full up to what the pause allows. */
  private fillAtPauseEnd(): void {
    const pauseSeconds = Math.max(0, (this.pausedUntil - this.pauseStartedAt) / 1000);
    this.tokens = Math.min(this.burst, Math.max(1, this.serverRate * pauseSeconds));
    this.released = Math.floor(this.tokens);
    this.at = this.pausedUntil;
  }

  private refill(now: number): void {
    if (now <= this.at) return;
    const seconds = (now - this.at) / 1000;
    const starved = this.tokens < this.burst;
    this.tokens = Math.min(this.burst, this.tokens + this.rate * seconds);
    if (starved) this.rate *= (1 + this.growth) ** seconds;
    this.at = now;
  }
}
