// The CLI's own state as users keep it: the state dir (default ./.invite-sync, relative paths, lock.json,
// a second process beside the first), signals and SIGKILL mid-apply (no orphan JVM, the lease taken over
// or released), unlock, runs and show. Each test spawns `invite-sync` as a child process in its own
// working directory, against the emulator over HTTP; no DYNAMODB_ENDPOINT: each state dir runs its own
// embedded DynamoDB Local, as a user's does.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { processStartToken } from '../../cli/process-info.ts';

const INVITES = '/instances/:instanceId/orgs/:orgId/invites';
const emulators: RunningEmulator[] = [];

afterAll(async () => {
  for (const e of emulators) await e.close();
});

interface Workdir {
  cwd: string;
  env: Record<string, string>;
  emulator: RunningEmulator;
  emails: string[];
}

/**
 * A working directory with a config (concurrency 2) and a roster of `n` people, and its own emulator
 * whose slow answers (120 ms) make an apply of 24 invites take a few seconds: long enough to interrupt.
 */
async function workdir(n: number): Promise<Workdir> {
  const cwd = await mkdtemp(join(tmpdir(), 'invite-sync-state-'));
  const emulator = await startEmulator({ port: 0, latencyMs: 120 });
  emulators.push(emulator);
  const org = DEFAULT_ID;
  const emails = Array.from({ length: n }, (_, i) => `p${i}@example.com`);
  await writeFile(
    join(cwd, 'config.json'),
    JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: org, rules: [{ when: { department: 'Eng*' }, role: 'edit' }] }], concurrency: 2 }),
  );
  await writeFile(join(cwd, 'roster.csv'), ['email,department', ...emails.map((e) => `${e},Engineering`)].join('\n') + '\n');
  return { cwd, env: { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN }, emulator, emails };
}

/** POSTs of new invites answered so far. */
function posts(w: Workdir): number {
  return w.emulator.stats().requests.filter((r) => r.method === 'POST' && r.route === INVITES).reduce((n, r) => n + r.count, 0);
}

/** True when no email has more than one invite, and the emulator counted no duplicate. */
function noDuplicates(w: Workdir): boolean {
  const counts = new Map<string, number>();
  for (const i of w.emulator.invites(DEFAULT_ID, DEFAULT_ID)) counts.set(i.email, (counts.get(i.email) ?? 0) + 1);
  return [...counts.values()].every((n) => n === 1) && w.emulator.stats().duplicateInvites === 0;
}

/** DynamoDB Local JVMs whose data directory is under `dir` (from `ps`). */
function jvmsUnder(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('DynamoDBLocal') && l.includes(dir));
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

const apply = ['apply', '--config', 'config.json', '--roster', 'roster.csv', '--json'];

describe('Command: invite-sync state dir', { timeout: 150_000 }, () => {
  it('keeps state in a relative --state-dir (0700) across three runs, and runs / show list and read them', async () => {
    // Prepare
    const w = await workdir(3);
    const state = ['--state-dir', '.state'];

    // Act: plan, apply, plan: three processes, one state dir
    const first = await runCli(['plan', '--config', 'config.json', '--roster', 'roster.csv', '--json', ...state], w.env, { cwd: w.cwd });
    const applied = await runCli([...apply, ...state], w.env, { cwd: w.cwd });
    const third = await runCli(['plan', '--config', 'config.json', '--json', ...state], w.env, { cwd: w.cwd });
    const runs = await runCli(['runs', '--json', ...state], {}, { cwd: w.cwd });
    const appliedId = (JSON.parse(applied.stdout) as { runId: string }).runId;
    const shown = await runCli(['show', '--run', appliedId, ...state], {}, { cwd: w.cwd });
    const shownJson = await runCli(['show', '--run', appliedId, '--json', ...state], {}, { cwd: w.cwd });

    // Assess
    expect([first.code, applied.code, third.code, runs.code, shown.code], applied.stderr + runs.stderr).toEqual([0, 0, 0, 0, 0]);
    expect((await stat(join(w.cwd, '.state'))).mode & 0o777).toBe(0o700);
    expect(existsSync(join(w.cwd, '.state', 'lock.json'))).toBe(false);
    // the third run remembers what the second sent: nothing left to do
    expect((JSON.parse(third.stdout) as { targets: { planned: { invite: number } }[] }).targets[0]?.planned.invite).toBe(0);
    const listed = (JSON.parse(runs.stdout) as { runs: { runId: string; mode: string; trigger: string }[] }).runs;
    const ids = [first, applied, third].map((r) => (JSON.parse(r.stdout) as { runId: string }).runId);
    expect(listed.map((r) => r.runId)).toEqual([...ids].reverse());
    expect(listed.map((r) => `${r.trigger}/${r.mode}`)).toEqual(['cli/plan', 'cli/apply', 'cli/plan']);
    const actions = (JSON.parse(shownJson.stdout) as { actions: { kind: string; email: string; result: string }[] }).actions;
    expect(actions.map((a) => `${a.kind} ${a.email} ${a.result}`).sort()).toEqual(w.emails.map((e) => `invite ${e} done`));
    expect(shown.stdout).toContain(`run ${appliedId} (apply, trigger cli) complete`);
    expect(shown.stdout).toMatch(/\+ invite\s+p0@example\.com\s+edit\s+done/);
  });

  it('serves plan beside a running serve from the default ./.invite-sync, and refuses a holder with no endpoint after --wait', async () => {
    // Prepare: serve holds the default state dir
    const w = await workdir(2);
    const serve = spawnCli(['serve', '--config', 'config.json', '--port', '0'], { ...w.env, WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}` }, { cwd: w.cwd });
    await serve.waitForStdout(/listening on/, 60_000);
    const lock = JSON.parse(await readFile(join(w.cwd, '.invite-sync', 'lock.json'), 'utf8')) as { pid: number; endpoint: string };

    // Act: plan beside it; then a state dir whose holder (alive) serves no endpoint
    const beside = await runCli(['plan', '--config', 'config.json', '--roster', 'roster.csv', '--json'], w.env, { cwd: w.cwd });
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    const busyDir = join(w.cwd, 'busy');
    await mkdir(busyDir, { mode: 0o700 });
    await writeFile(join(busyDir, 'lock.json'), JSON.stringify({ pid: sleeper.pid, startedAt: new Date().toISOString(), endpoint: null, processStart: processStartToken(sleeper.pid!) }));
    const refused = await runCli(['plan', '--config', 'config.json', '--roster', 'roster.csv', '--state-dir', 'busy', '--wait', '1'], w.env, { cwd: w.cwd });
    sleeper.kill('SIGKILL');
    serve.signal('SIGTERM');
    const stopped = await serve.exited;

    // Assess
    expect(lock.pid).toBe(serve.pid);
    expect(beside.code, beside.stderr).toBe(0);
    expect((JSON.parse(beside.stdout) as { targets: { planned: { invite: number } }[] }).targets[0]?.planned.invite).toBe(2);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`in use by pid ${sleeper.pid}`);
    expect(refused.ms).toBeGreaterThanOrEqual(1000);
    expect(`${beside.stderr}${refused.stderr}`).not.toMatch(/Exception|at com\.amazonaws|java\./);
    expect(jvmsUnder(busyDir)).toEqual([]);
    expect(stopped.code).toBe(0);
    expect(existsSync(join(w.cwd, '.invite-sync', 'lock.json'))).toBe(false);
    expect(await until(() => jvmsUnder(w.cwd).length === 0, 5000)).toBe(true);
  });

  it('exits 2 naming --ephemeral for a state dir it cannot create, before starting anything', async () => {
    const w = await workdir(1);
    await writeFile(join(w.cwd, 'file'), 'not a directory');

    const r = await runCli(['plan', '--config', 'config.json', '--roster', 'roster.csv', '--state-dir', 'file/state'], w.env, { cwd: w.cwd });

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--ephemeral');
    expect(r.stderr).toContain(join(w.cwd, 'file/state'));
  });
});

describe('Command: invite-sync apply interrupted', { timeout: 150_000 }, () => {
  it('stops on SIGTERM after the requests in flight, exits 143, releases the lease and the JVM; a rerun at once finishes without duplicates', async () => {
    // Prepare
    const w = await workdir(24);

    // Act
    const stopped = await runCli(apply, w.env, { cwd: w.cwd, signal: 'SIGTERM', killWhen: () => posts(w) >= 4 });
    const postsAtStop = posts(w);
    const noJvm = jvmsUnder(w.cwd);
    const rerun = await runCli([...apply], w.env, { cwd: w.cwd });

    // Assess
    const report = JSON.parse(stopped.stdout) as { targets: { error?: { code: string }; done: { invite: number } }[] };
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(report.targets[0]?.error?.code).toBe('interrupted');
    expect(report.targets[0]?.done.invite).toBe(postsAtStop);
    expect(postsAtStop).toBeLessThan(24);
    expect(noJvm).toEqual([]);
    expect(existsSync(join(w.cwd, '.invite-sync', 'lock.json'))).toBe(false);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toContain('leaseBusy');
    expect(noDuplicates(w)).toBe(true);
  });

  it('leaves no JVM behind a SIGKILL; the rerun at once takes over the dead process\'s lease with no duplicate', async () => {
    // Prepare
    const w = await workdir(24);

    // Act
    const killed = await runCli(apply, w.env, { cwd: w.cwd, killWhen: () => posts(w) >= 4 });
    const jvmGone = await until(() => jvmsUnder(w.cwd).length === 0, 5000);
    const rerun = await runCli(apply, w.env, { cwd: w.cwd });

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(jvmGone).toBe(true);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('took over the lease of a process that is gone');
    expect((JSON.parse(rerun.stdout) as { targets: { error?: unknown }[] }).targets[0]?.error).toBeUndefined();
    expect(noDuplicates(w)).toBe(true);
    expect(jvmsUnder(w.cwd)).toEqual([]);
  });

  it('unlock refuses a freshly renewed lease of a killed run without --yes, naming its holder, and releases it with --yes', async () => {
    // Prepare
    const w = await workdir(24);
    const killed = spawnCli([...apply], w.env, { cwd: w.cwd });
    await until(() => posts(w) >= 4, 60_000);
    killed.signal('SIGKILL');
    await killed.exited;

    // Act
    const refused = await runCli(['unlock', '--config', 'config.json', '--target', 'eng'], {}, { cwd: w.cwd });
    const released = await runCli(['unlock', '--config', 'config.json', '--target', 'eng', '--yes', '--json'], {}, { cwd: w.cwd });
    const again = await runCli(['unlock', '--config', 'config.json', '--target', 'eng', '--json'], {}, { cwd: w.cwd });

    // Assess
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`pid ${killed.pid} on host`);
    expect(refused.stderr).toContain('--yes');
    expect(released.code, released.stderr).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ target: 'eng', released: true, holder: { pid: killed.pid } });
    expect(JSON.parse(again.stdout)).toMatchObject({ target: 'eng', released: false, held: false });
  });
});
