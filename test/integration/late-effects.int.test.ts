// Late effects: the emulator's postDelayMs over real HTTP + DynamoDB Local + runSync. A POST the client gave up on
// still lands later; invite-sync must not POST that email again in the run, and the next run settles it.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN } from '../../emulator/index.ts';
import { LosantClient } from '../../functions/losant/client.ts';
import { SETTLE_MS } from '../../functions/sync/ownership.ts';
import { runSync } from '../../functions/sync/reconcile.ts';
import { INSTANCE, ORG, person, startHarness, type Harness } from '../helpers/sync-harness.ts';

let h: Harness | undefined;
let slow: LosantClient | undefined;
afterEach(async () => {
  await slow?.close();
  await h?.close();
  h = undefined;
  slow = undefined;
});

const emails = Array.from({ length: 20 }, (_, i) => `late${i}@example.com`);

async function waitForInvites(harness: Harness, n: number, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (harness.emulator.invites(INSTANCE, ORG).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

describe('Function: runSync (POSTs whose effect comes after the client timed out)', () => {
  it('returns the emails as failed `ambiguous` without a second POST, and the next run adopts the late invites or invites again', async () => {
    // Arrange: every POST lands and answers after 1200 ms; this client gives up after 300 ms
    h = await startHarness({ emulator: { postDelayMs: 1200 } });
    await h.roster(emails.map((e) => person(e)));
    slow = new LosantClient({ baseUrl: h.emulator.url, token: DEFAULT_TOKEN, log: h.log, requestTimeoutMs: 300 });

    // Act: the first run's POSTs all time out
    const first = await runSync({ ...h.deps, api: slow }, h.config, { mode: 'apply', trigger: 'cli', deadline: Date.now() + 60_000 });
    await waitForInvites(h, 20, 5_000);
    // the emulator counts a POST once it answered (late, to a client that is gone)
    await new Promise((r) => setTimeout(r, 100));
    const postsInFirst = h.posts();
    const landed = h.emulator.invites(INSTANCE, ORG).length;
    // one invite an admin revokes before anyone sees it: for that email nothing is listed on the next run
    h.emulator.revokeInviteByEmail(INSTANCE, ORG, 'late7@example.com');
    // the next run, past SETTLE_SECONDS after the first one ended, with a client that waits long enough
    const clock = { now: () => Date.now() + SETTLE_MS + 60_000 };
    const second = await runSync({ ...h.deps, clock }, h.config, { mode: 'apply', trigger: 'cli', deadline: clock.now() + 60_000 });

    // Assess
    const t1 = first.targets[0]!;
    expect(postsInFirst).toBe(20);
    expect(t1.done.invite).toBe(0);
    expect(t1.failed).toBe(20);
    expect(t1.failures?.map((f) => f.reason)).toEqual(Array.from({ length: 20 }, () => 'ambiguous'));
    expect(t1.failures?.map((f) => f.email).sort()).toEqual([...emails].sort());
    expect(landed).toBe(20);
    const t2 = second.targets[0]!;
    expect(t2.failed).toBe(0);
    expect(t2.done.invite).toBe(1);
    expect(second.complete).toBe(true);
    expect(h.posts()).toBe(21);
    expect(h.emulator.stats().duplicateInvites).toBe(0);
    const invites = h.emulator.invites(INSTANCE, ORG);
    for (const email of emails) expect(invites.filter((i) => i.email === email), email).toHaveLength(1);
  }, 30_000);
});
