// tests --> AdaptiveRateGovernor against a simulated token-bucket server on a virtual clock
import { describe, expect, it } from 'vitest';
import { AdaptiveRateGovernor } from '../../functions/losant/governor.ts';
import { LosantApiError } from '../../functions/losant/errors.ts';

/** Virtual time: sleep() registers a timer; run() fires timers in time order, draining promise chains between them. */
class VirtualClock {
  t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  now = (): number => this.t;
  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, fire: resolve });
    });
  async run(): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      this.t = next.at;
      next.fire();
    }
  }
}

/** The server: capacity `rate`, refilled at `rate`/s, full at start; refusals consume nothing. */
function tokenBucket(rate: number) {
  let tokens = rate;
  let at = 0;
  return (now: number): { ok: true } | { ok: false; retryAfterSeconds: number } => {
    tokens = Math.min(rate, tokens + ((now - at) / 1000) * rate);
    at = now;
    if (tokens >= 1) {
      tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rate - 1e-9)) };
  };
}

/** A seeded PRNG for the client's jitter. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `total` POSTs by `workers` concurrent workers through one governor, 1 ms round trip. A 429 is retried
 * the way LosantClient does it: after max(Retry-After, full-jitter backoff).
 */
async function simulate(rate: number, total: number, workers: number) {
  const clock = new VirtualClock();
  const governor = new AdaptiveRateGovernor({ now: clock.now, sleep: clock.sleep });
  const take = tokenBucket(rate);
  const random = seeded(rate);
  let next = 0;
  let ok = 0;
  let throttled = 0;
  let finishedAt = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      for (let attempt = 0; ; attempt++) {
        await governor.acquire();
        await clock.sleep(0.5);
        const answer = take(clock.now());
        await clock.sleep(0.5);
        if (answer.ok) {
          governor.onResponse(201);
          ok++;
          finishedAt = clock.now();
          break;
        }
        throttled++;
        const retryAfterMs = answer.retryAfterSeconds * 1000;
        governor.onResponse(429, retryAfterMs);
        await clock.sleep(Math.max(retryAfterMs, random() * Math.min(10_000, 100 * 2 ** attempt)));
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, () => worker()));
  await clock.run();
  await done;
  return { ok, throttled, seconds: finishedAt / 1000, ideal: (total - rate) / rate };
}

describe('Function: AdaptiveRateGovernor', () => {
  it.each([10, 20, 50, 100])('returns 500 POSTs within 1.15 × the ideal time and under 5 percent 429s against a bucket of %i/s', async (rate) => {
    // Act
    const r = await simulate(rate, 500, 16);

    // Assert
    expect(r.ok).toBe(500);
    expect(r.seconds).toBeLessThanOrEqual(1.15 * r.ideal);
    expect(r.throttled / (r.ok + r.throttled)).toBeLessThan(0.05);
  });

  it('returns at once while no 429 has been seen', async () => {
    // Arrange
    const clock = new VirtualClock();
    const governor = new AdaptiveRateGovernor({ now: clock.now, sleep: clock.sleep });

    // Act
    for (let i = 0; i < 1000; i++) {
      await governor.acquire();
      governor.onResponse(200);
    }

    // Assert
    expect(clock.t).toBe(0);
    expect(governor.state()).toMatchObject({ mode: 'open', throttled: 0 });
  });

  it('returns only after the Retry-After pause, then paces at the observed rate', async () => {
    // Arrange: 10 successes, then a 429 asking for 1 s
    const clock = new VirtualClock();
    const governor = new AdaptiveRateGovernor({ now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 10; i++) {
      await governor.acquire();
      governor.onResponse(201);
    }
    governor.onResponse(429, 1000);
    const estimate = governor.state().rate;
    const sendTimes: number[] = [];

    // Act: 15 sends; the burst after the pause is the 10 the server refilled, then 10/s
    const sends = (async () => {
      for (let i = 0; i < 15; i++) {
        await governor.acquire();
        sendTimes.push(clock.t);
      }
    })();
    await clock.run();
    await sends;

    // Assert
    expect(estimate).toBeCloseTo(10, 5);
    expect(sendTimes.slice(0, 10)).toEqual(Array(10).fill(1000));
    expect(sendTimes[10]).toBeGreaterThan(1090);
    expect(sendTimes[14]).toBeGreaterThan(1450);
    expect(sendTimes[14]).toBeLessThanOrEqual(1500);
  });

  it('returns a lower rate after a later 429 but ignores 429s that arrive during the pause', () => {
    // Arrange
    let now = 0;
    const governor = new AdaptiveRateGovernor({ now: () => now, sleep: async () => {} });
    for (let i = 0; i < 20; i++) governor.onResponse(201);
    governor.onResponse(429, 1000);
    const first = governor.state().rate;

    // Act
    now = 10;
    governor.onResponse(429, 1000);
    const afterEcho = governor.state().rate;
    now = 1500;
    for (let i = 0; i < 10; i++) governor.onResponse(201);
    now = 1600;
    governor.onResponse(429, 1000);

    // Assert
    expect(afterEcho).toBe(first);
    expect(governor.state().rate).toBeLessThanOrEqual(first * 0.8);
    expect(governor.state().pausedUntil).toBe(2600);
    expect(governor.state().throttled).toBe(3);
  });

  it('returns a deadline error instead of waiting past the deadline', async () => {
    // Arrange
    const clock = new VirtualClock();
    const governor = new AdaptiveRateGovernor({ now: clock.now, sleep: clock.sleep });
    await governor.acquire();
    governor.onResponse(429, 5000);

    // Act
    const err = await governor.acquire(2000).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assert
    expect(err).toBeInstanceOf(LosantApiError);
    expect((err as LosantApiError).kind).toBe('deadline');
    expect(clock.t).toBe(0);
  });
});
