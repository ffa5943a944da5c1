// test --> emulator faults (seeded PRNG, per-token rate limiter)
import { describe, it, expect } from 'vitest';
import { TokenBucketLimiter, mulberry32 } from '../../emulator/faults.ts';

describe('Function: mulberry32', () => {
  it('returns the same sequence for the same seed, numbers in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const seqA = Array.from({ length: 100 }, () => a());
    const seqB = Array.from({ length: 100 }, () => b());
    expect(seqA).toEqual(seqB);
    for (const n of seqA) expect(n >= 0 && n < 1).toBe(true);
    expect(new Set(seqA).size).toBe(100);
  });

  it('returns a different sequence for a different seed', () => {
    const a = mulberry32(7);
    const c = mulberry32(8);
    expect(Array.from({ length: 5 }, () => a())).not.toEqual(Array.from({ length: 5 }, () => c()));
  });
});

describe('Function: TokenBucketLimiter.take', () => {
  it('returns ok for `rate` requests at once, then refuses without consuming', () => {
    // Arrange
    const rl = new TokenBucketLimiter(3);

    // Act
    const results = Array.from({ length: 5 }, () => rl.take('t', 0));

    // Assess
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
    expect(results[3]).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(rl.take('t', 334).ok).toBe(true); // 334 ms at 3/s refills one token: the refusals took none
  });

  it('returns refill continuous and capped at the capacity', () => {
    const rl = new TokenBucketLimiter(2);
    rl.take('t', 0);
    rl.take('t', 0);
    expect(rl.take('t', 10_000).ok).toBe(true);
    expect(rl.take('t', 10_000).ok).toBe(true);
    expect(rl.take('t', 10_000).ok).toBe(false);
  });

  it('returns whole seconds until the next token, at least 1', () => {
    const rl = new TokenBucketLimiter(0.2);
    expect(rl.take('t', 0).ok).toBe(true);
    expect(rl.take('t', 0)).toEqual({ ok: false, retryAfterSeconds: 5 });
    expect(rl.take('t', 4_500)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(rl.take('t', 5_000).ok).toBe(true);
  });

  it('returns separate buckets per key', () => {
    const rl = new TokenBucketLimiter(1);
    expect(rl.take('a', 0).ok).toBe(true);
    expect(rl.take('a', 0).ok).toBe(false);
    expect(rl.take('b', 0).ok).toBe(true);
  });

  it('throws for a rate that is not positive', () => {
    expect(() => new TokenBucketLimiter(0)).toThrow(RangeError);
  });
});
