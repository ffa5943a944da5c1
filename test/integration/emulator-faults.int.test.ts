// test --> emulator over real HTTP (rate limit, injected errors, lost answers, latency, replay)
import { describe, it, expect, afterEach } from 'vitest';
import { DEFAULT_ID, startEmulator, type EmulatorOptions, type RunningEmulator } from '../../emulator/index.ts';
import { expectValid } from '../helpers/schemas.ts';

const I = DEFAULT_ID;
const INVITES = `/instances/${I}/orgs/${I}/invites`;
const SEED = {
  tokens: [
    { token: 'tok-a', scopes: ['all.Instance'] },
    { token: 'tok-b', scopes: ['all.Instance'] },
  ],
};

const running: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

async function start(options: EmulatorOptions): Promise<RunningEmulator> {
  const emu = await startEmulator({ seed: SEED, ...options });
  running.push(emu);
  return emu;
}

/** The published schema of an answer: error.json for errors, else by route and method. */
function schemaFor(method: string, path: string, status: number): string {
  if (status >= 400) return 'error.json';
  if (path.startsWith(`${INVITES}/`)) return method === 'DELETE' ? 'success.json' : 'orgInvite.json';
  return 'orgInviteCollection.json';
}

type Outcome = { status: number; body: unknown; retryAfter: string | null } | { lost: true };

/** One request; answers are checked against the published schema (error.json for errors). */
async function send(emu: RunningEmulator, method: string, path: string, opts: { body?: unknown; token?: string } = {}): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(`${emu.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${opts.token ?? 'tok-a'}`, 'content-type': 'application/json' },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (err) {
    if (err instanceof TypeError) return { lost: true };
    throw err;
  }
  const body = JSON.parse(await res.text()) as unknown;
  expectValid(schemaFor(method, path, res.status), body);
  return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
}

const statusOf = (o: Outcome): number | 'lost' => ('lost' in o ? 'lost' : o.status);
const post = (emu: RunningEmulator, email: string, token?: string) => send(emu, 'POST', INVITES, { body: { email, role: 'view' }, token });

describe('Function: startEmulator (rate limit)', () => {
  it('returns 429 TooManyRequests with Retry-After once a token drains its bucket, with no effect', async () => {
    // Arrange
    let clock = 1_000_000;
    const emu = await start({ rateLimit: 2, now: () => clock });

    // Act
    const first = await send(emu, 'GET', INVITES);
    const second = await post(emu, 'one@example.com');
    const limited = await post(emu, 'two@example.com');
    const otherToken = await send(emu, 'GET', INVITES, { token: 'tok-b' });
    clock += 499;
    const stillLimited = await send(emu, 'GET', INVITES);
    clock += 1;
    const refilled = await send(emu, 'GET', INVITES);
    const admin = await fetch(`${emu.url}/_emulator/stats`);

    // Assess
    expect([first, second, otherToken, refilled].map(statusOf)).toEqual([200, 201, 200, 200]);
    expect(limited).toMatchObject({ status: 429, body: { type: 'TooManyRequests' }, retryAfter: '1' });
    expect(stillLimited).toMatchObject({ status: 429, retryAfter: '1' });
    expect(emu.invites(I, I).map((i) => i.email)).toEqual(['one@example.com']);
    expect(admin.status).toBe(200);
  });

  it('returns Retry-After in whole seconds (at least 1) for slow rates', async () => {
    // Arrange
    const clock = 5_000;
    const emu = await start({ rateLimit: 0.25, now: () => clock });

    // Act
    const first = await send(emu, 'GET', INVITES);
    const limited = await send(emu, 'GET', INVITES);

    // Assess
    expect(statusOf(first)).toBe(200);
    expect(limited).toMatchObject({ status: 429, retryAfter: '4' });
  });

  it('returns 200 again once setFaults lifts the limit', async () => {
    const emu = await start({ rateLimit: 1, now: () => 0 });
    await send(emu, 'GET', INVITES);
    expect(statusOf(await send(emu, 'GET', INVITES))).toBe(429);
    emu.setFaults({ rateLimit: 0 });
    expect(statusOf(await send(emu, 'GET', INVITES))).toBe(200);
  });
});

describe('Function: startEmulator (injected errors)', () => {
  it('returns 503 ServiceUnavailable before any effect when errorRate is 1', async () => {
    // Arrange
    const emu = await start({ errorRate: 1 });

    // Act
    const created = await post(emu, 'x@example.com');
    const listed = await send(emu, 'GET', INVITES);
    const admin = await fetch(`${emu.url}/_emulator/state`);

    // Assess
    expect(created).toMatchObject({ status: 503, body: { type: 'ServiceUnavailable' } });
    expect(statusOf(listed)).toBe(503);
    expect(emu.invites(I, I)).toEqual([]);
    expect(emu.stats().duplicateInvites).toBe(0);
    expect(admin.status).toBe(200);
  });

  it('returns 401 (not 503) for a bad token: auth comes before injected errors', async () => {
    const emu = await start({ errorRate: 1 });
    expect(statusOf(await send(emu, 'GET', INVITES, { token: 'nope' }))).toBe(401);
  });

  it('returns a dropped connection after the effect when lostResponseRate is 1 (POST, resend, DELETE)', async () => {
    // Arrange
    const emu = await start({ lostResponseRate: 1 });

    // Act
    const created = await post(emu, 'lost@example.com');
    const listed = await send(emu, 'GET', INVITES);
    const id = emu.invites(I, I)[0]?.id ?? '';
    const resent = await send(emu, 'POST', `${INVITES}/${id}`, { body: { role: 'edit' } });
    const roleAfterResend = emu.invites(I, I)[0]?.role;
    const deleted = await send(emu, 'DELETE', `${INVITES}/${id}`);

    // Assess
    expect(statusOf(created)).toBe('lost');
    expect(statusOf(listed)).toBe(200);
    expect(statusOf(resent)).toBe('lost');
    expect(roleAfterResend).toBe('edit');
    expect(statusOf(deleted)).toBe('lost');
    expect(emu.invites(I, I)).toEqual([]);
    expect(emu.stats().requests).toEqual(
      expect.arrayContaining([
        { method: 'POST', route: '/instances/:instanceId/orgs/:orgId/invites', status: 0, count: 1 },
        { method: 'POST', route: '/instances/:instanceId/orgs/:orgId/invites/:inviteId', status: 0, count: 1 },
        { method: 'DELETE', route: '/instances/:instanceId/orgs/:orgId/invites/:inviteId', status: 0, count: 1 },
      ]),
    );
  });

  it('returns the answer of a failed request even when lostResponseRate is 1 (nothing took effect)', async () => {
    const emu = await start({ lostResponseRate: 1 });
    expect(statusOf(await send(emu, 'POST', INVITES, { body: { email: 'nope' } }))).toBe(400);
  });

  it('returns the same fault sequence for the same faultSeed, and another for another seed', async () => {
    // Arrange
    const faults = { errorRate: 0.4, lostResponseRate: 0.4 };
    const run = async (faultSeed: number): Promise<(number | 'lost')[]> => {
      const emu = await start({ ...faults, faultSeed });
      expect(emu.faultSeed).toBe(faultSeed);
      const seen: (number | 'lost')[] = [];
      for (let n = 0; n < 16; n++) seen.push(statusOf(await post(emu, `p${n}@example.com`)));
      return seen;
    };

    // Act
    const a = await run(1234);
    const b = await run(1234);
    const c = await run(99);

    // Assess
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set([201, 503, 'lost']));
    expect(c).not.toEqual(a);
  });
});

describe('Function: startEmulator (latency)', () => {
  it('returns API answers after latencyMs, while /_emulator/* answers at once', async () => {
    // Arrange
    const emu = await start({ latencyMs: 600 });

    // Act
    const t0 = performance.now();
    const api = await send(emu, 'GET', INVITES);
    const apiMs = performance.now() - t0;
    const t1 = performance.now();
    await fetch(`${emu.url}/_emulator/stats`);
    const adminMs = performance.now() - t1;

    // Assess
    expect(statusOf(api)).toBe(200);
    expect(apiMs).toBeGreaterThanOrEqual(590);
    expect(adminMs).toBeLessThan(400);
  });
});
