// InProcessReconcileQueue with a delay (SCIM's debounce): a burst of enqueues is one run after the delay,
// carrying its trigger; drain runs delayed work instead of dropping it.
import { describe, expect, it } from 'vitest';
import { InProcessReconcileQueue } from '../../functions/queue/in-process-queue.ts';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InProcessReconcileQueue delaySeconds', () => {
  it('coalesces a burst into one run after the delay, with the trigger', async () => {
    const runs: { target: string; trigger: string | undefined; at: number }[] = [];
    const q = new InProcessReconcileQueue({ log, worker: async (target, _r, trigger) => (runs.push({ target, trigger, at: Date.now() }), true) });
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) await q.enqueue(['eng'], `scim ${i}`, { delaySeconds: 0.15, trigger: 'scim' });
    expect(q.size).toBe(1);
    await sleep(60);
    expect(runs).toEqual([]);
    await sleep(250);
    expect(runs.map((r) => [r.target, r.trigger])).toEqual([['eng', 'scim']]);
    expect(runs[0]!.at - t0).toBeGreaterThanOrEqual(140);
    expect(await q.drain(1000)).toBe(true);
  });

  it('drain starts delayed work at once', async () => {
    const runs: string[] = [];
    const q = new InProcessReconcileQueue({ log, worker: async (target) => (runs.push(target), true) });
    await q.enqueue(['a', 'b'], 'scim', { delaySeconds: 600 });
    expect(await q.drain(2000)).toBe(true);
    expect(runs.sort()).toEqual(['a', 'b']);
  });

  it('without a delay the trigger is absent (the worker records `queue`)', async () => {
    const seen: (string | undefined)[] = [];
    const q = new InProcessReconcileQueue({ log, worker: async (_t, _r, trigger) => (seen.push(trigger), true) });
    await q.enqueue(['a'], 'webhook');
    expect(await q.drain(1000)).toBe(true);
    expect(seen).toEqual([undefined]);
  });
});
