// The CLI as users run it: a child process, real HTTP to the emulator, DynamoDB Local shared through DYNAMODB_ENDPOINT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { dynamoEndpoint, uniqueTableName } from '../helpers/dynamo.ts';
import { clockAheadEnv } from '../helpers/cli.ts';
import { SETTLE_SECONDS } from '../../functions/sync/ownership.ts';

const BIN = join(import.meta.dirname, '../../bin/invite-sync.js');
let emulator: RunningEmulator;
let dir: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, opts: { killAfterMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.killAfterMs !== undefined) {
      // kill once the apply is under way (the first POSTs have been answered)
      const timer = setInterval(() => {
        const posts = emulator.stats().requests.filter((r) => r.method === 'POST').reduce((n, r) => n + r.count, 0);
        if (posts > 0) {
          clearInterval(timer);
          setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
        }
      }, 5);
      child.on('exit', () => clearInterval(timer));
    }
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function envFor(table: string): Record<string, string> {
  return {
    LOSANT_API_URL: emulator.url,
    LOSANT_API_TOKEN: DEFAULT_TOKEN,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    STATE_TABLE: table,
  };
}

async function writeConfig(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    JSON.stringify({
      targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Eng*' }, role: 'edit' }] }],
      ...extra,
    }),
  );
  return file;
}

async function writeCsv(name: string, emails: string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, ['email,department', ...emails.map((e) => `${e},Engineering`)].join('\n') + '\n');
  return file;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-cli-'));
});
afterAll(async () => {
  await emulator.close();
});

describe('Command: invite-sync plan|apply', () => {
  it('apply --json prints exactly one JSON object with the documented shape and exits 0; plan afterwards plans nothing', async () => {
    const table = uniqueTableName('cli');
    const config = await writeConfig('c1.json');
    const roster = await writeCsv('r1.csv', ['cli-a@example.com', 'CLI-B@Example.com ']);

    const applied = await run(['apply', '--config', config, '--roster', roster, '--json'], envFor(table));
    expect(applied.stderr).not.toMatch(/NodeVersionSupportWarning/);
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout);
    expect(Object.keys(report).sort()).toEqual(['complete', 'mode', 'runId', 'targets']);
    expect(report.mode).toBe('apply');
    expect(report.targets[0]).toMatchObject({ name: 'eng', desired: 2, planned: { invite: 2, renew: 0, fixRole: 0, revoke: 0 }, done: { invite: 2 }, failed: 0, blocked: null, complete: true });
    expect(Object.keys(report.targets[0].skipped).sort()).toEqual(['alreadyMember', 'alreadyPending', 'invitedRecently', 'lastAdmin', 'missingScope', 'noSeat', 'notOurs', 'notStarted', 'ownUser', 'removedOutsideSync', 'renewalsExhausted', 'roleMismatch', 'settling']);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email.toLowerCase())).toEqual(expect.arrayContaining(['cli-a@example.com', 'cli-b@example.com']));

    const planned = await run(['plan', '--config', config, '--json'], envFor(table));
    expect(planned.code).toBe(0);
    expect(JSON.parse(planned.stdout).targets[0].planned.invite).toBe(0);
  });

  it('plans the examples against an emulator seeded with examples/emulator-seed.json (README walk-through)', async () => {
    const { loadSeedFile } = await import('../../emulator/index.ts');
    const seeded = await startEmulator({ port: 0, seed: await loadSeedFile(join(import.meta.dirname, '../../examples/emulator-seed.json')) });
    try {
      const examples = join(import.meta.dirname, '../../examples');
      const r = await run(['plan', '--config', join(examples, 'sync-config.json'), '--roster', join(examples, 'roster.csv'), '--json'], {
        ...envFor(uniqueTableName('cli')),
        LOSANT_API_URL: seeded.url,
      });
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.targets.map((t: { name: string }) => t.name)).toEqual(['engineering', 'all-hands']);
      expect(report.targets[0].skipped.alreadyMember).toBe(1);
      // grace.hopper's hand-made invite (role view) is not ours and has another role than the rule's (edit)
      expect([report.targets[0].skipped.notOurs, report.targets[0].skipped.roleMismatch]).toEqual([1, 1]);
      expect(report.targets.every((t: { error?: unknown }) => t.error === undefined)).toBe(true);
    } finally {
      await seeded.close();
    }
  });

  it('refuses a roster with bad rows whole: exit 2, every bad row by line and field, nothing stored', async () => {
    const table = uniqueTableName('cli');
    const config = await writeConfig('c2.json');
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'email,department\nok@example.com,Engineering\nnot-an-email,Engineering\n,Engineering\n');

    const r = await run(['apply', '--config', config, '--roster', file], envFor(table));

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 3: email/);
    expect(r.stderr).toMatch(/line 4: email/);
    const plan = await run(['plan', '--config', config, '--json'], envFor(table));
    expect(plan.code).toBe(2); // still no people stored
    expect(plan.stderr).toMatch(/no people in the state store/);
  });

  it('a bad config is one clear line naming the path, exit 2', async () => {
    const file = join(dir, 'badconf.json');
    await writeFile(file, JSON.stringify({ targets: [{ name: 'x', instanceId: 'nope', orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }] }));
    const roster = await writeCsv('r3.csv', ['x@example.com']);

    const r = await run(['plan', '--config', file, '--roster', roster], envFor(uniqueTableName('cli')));

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/targets\.0\.instanceId/);
  });

  it('without LOSANT_API_TOKEN: a clear error and exit 2', async () => {
    const config = await writeConfig('c4.json');
    const roster = await writeCsv('r4.csv', ['x@example.com']);
    const env = envFor(uniqueTableName('cli'));
    delete (env as Partial<typeof env>).LOSANT_API_TOKEN;

    const r = await run(['plan', '--config', config, '--roster', roster], env);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/LOSANT_API_TOKEN/);
  });

  it('a wrong token is exit 4 and the token never appears in the output', async () => {
    const config = await writeConfig('c5.json');
    const roster = await writeCsv('r5.csv', ['x@example.com']);
    const env = { ...envFor(uniqueTableName('cli')), LOSANT_API_TOKEN: 'secret-token-value-123' };

    const r = await run(['apply', '--config', config, '--roster', roster, '--json'], env);

    expect(r.code).toBe(4);
    expect(r.stdout + r.stderr).not.toContain('secret-token-value-123');
    expect(JSON.parse(r.stdout).targets[0].error.code).toBe('unauthorized');
  });

  it('a brake blocks with exit 3 (plan too); approve --run releases that plan', async () => {
    const table = uniqueTableName('cli');
    const config = await writeConfig('c6.json', { limits: { maxInvitesPerRun: 2 } });
    const roster = await writeCsv('r6.csv', ['b1@brake.example', 'b2@brake.example', 'b3@brake.example']);
    const env = envFor(table);

    const plan = await run(['plan', '--config', config, '--roster', roster, '--json'], env);
    expect(plan.code).toBe(3);
    const blocked = await run(['apply', '--config', config, '--roster', roster, '--json'], env);
    expect(blocked.code).toBe(3);
    const runId = JSON.parse(blocked.stdout).runId as string;
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => i.email.endsWith('@brake.example'))).toHaveLength(0);

    const approve = await run(['approve', '--run', runId], env);
    expect(approve.code).toBe(0);
    const released = await run(['apply', '--config', config, '--json'], env);
    expect(released.code).toBe(0);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => i.email.endsWith('@brake.example'))).toHaveLength(3);
  });

  it('a run killed mid-apply (SIGKILL) and rerun invites the rest, nobody twice', async () => {
    const table = uniqueTableName('cli');
    const config = await writeConfig('c7.json', { concurrency: 4, leaseSeconds: 10 });
    const list = Array.from({ length: 60 }, (_, i) => `k${i}@kill.example`);
    const roster = await writeCsv('r7.csv', list);
    emulator.setFaults({ latencyMs: 15 });
    emulator.reset();
    try {
      const killed = await run(['apply', '--config', config, '--roster', roster, '--json'], envFor(table), { killAfterMs: 40 });
      expect(killed.code).toBeNull(); // killed by the signal
      const partial = emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => i.email.endsWith('@kill.example')).length;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(60);

      // the dead run's lease expires after leaseSeconds; --force is not needed, --wait covers it. Its intents then
      // settle for SETTLE_SECONDS (an answer may still be on the way): a rerun right away neither POSTs nor adopts them
      const rerun = await run(['apply', '--config', config, '--json', '--wait', '20'], envFor(table));
      expect(rerun.code).toBe(0);
      expect(JSON.parse(rerun.stdout).targets[0].skipped.settling).toBeGreaterThanOrEqual(60 - partial);
      expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => i.email.endsWith('@kill.example'))).toHaveLength(partial);
      // once settled, the rest are invited and the ones the dead run created are adopted
      const settled = await run(['apply', '--config', config, '--json'], { ...envFor(table), ...clockAheadEnv(SETTLE_SECONDS + 15) });
      expect(settled.code).toBe(0);
    } finally {
      emulator.setFaults({ latencyMs: 0 });
    }
    const invited = emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => i.email.endsWith('@kill.example'));
    expect(invited).toHaveLength(60);
    expect(new Set(invited.map((i) => i.email)).size).toBe(60);
    expect(emulator.stats().duplicateInvites).toBe(0);
  }, 90_000);
});
