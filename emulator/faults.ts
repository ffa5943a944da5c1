// emulator routes --> faults: replayable randomness and a per-token rate limiter

/**
 * mulberry32: a tiny seeded PRNG. The same seed gives the same sequence of numbers in [0, 1).
 * @example const next = mulberry32(42); next(); // 0.6011037519201636
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * One token bucket per key (the API token): capacity `rate` (at least 1, so rates below 1/s still let
 * a request through now and then), refilled continuously at `rate` per second, full at first use.
 * A request that finds less than one token is refused and consumes nothing.
 * Keys are only ever known API tokens, so the map stays as small as the seed.
 * @example const rl = new TokenBucketLimiter(5); rl.take('tok', Date.now());
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  readonly capacity: number;

  constructor(readonly rate: number) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    this.capacity = Math.max(1, rate);
  }

  /** Takes one token for `key` at time `nowMs`, or says how many whole seconds (at least 1) until one is there. */
  take(key: string, nowMs: number): TakeResult {
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.at) / 1000;
    bucket.tokens = Math.min(this.capacity, bucket.tokens + elapsed * this.rate);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    // the epsilon keeps float noise (0.9999999…) from adding a whole second
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate - 1e-9)) };
  }
}
