// The CLI an operator trusts: plan/apply as a child process against the emulator (real HTTP) and DynamoDB Local.
// Each change on its own line, warnings, saved plans (exit 5), terminal manners (a real TTY through `script`), --json errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { dynamoEndpoint, uniqueTableName } from '../helpers/dynamo.ts';
import { BIN, runCli } from '../helpers/cli.ts';

const DAY = 24 * 3600 * 1000;
let emulator: RunningEmulator;
/** the emulator's clock runs this far from ours (invites can be made old without waiting) */
let clockOffsetMs = 0;
let dir: string;

function envFor(table: string, extra: Record<string, string> = {}): Record<string, string> {
  return { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table, ...extra };
}

/** One target on the emulator's default org; each test uses its own email domain and state table. */
async function writeConfig(name: string, rules: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules }], ...extra }));
  return file;
}

async function writeCsv(name: string, rows: [string, string][]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, ['email,department', ...rows.map(([e, d]) => `${e},${d}`)].join('\n') + '\n');
  return file;
}

const ENG_RULES = [{ when: { department: 'Engineering' }, role: 'edit' }, { when: {}, role: 'view' }];
const invitedEmails = (suffix: string): string[] =>
  emulator
    .invites(DEFAULT_ID, DEFAULT_ID)
    .map((i) => i.email.toLowerCase())
    .filter((e) => e.endsWith(suffix));

/** Colour escapes and cursor controls removed. */
const ESC = String.fromCharCode(27);
const strip = (s: string): string => s.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]|${ESC}[78]`, 'g'), '');
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs the CLI on a real pseudo-terminal `cols` wide (util-linux `script`); stdout and stderr both land in `out`. */
function runInTty(args: string[], env: Record<string, string>, cols = 40): Promise<{ code: number | null; out: string }> {
  const cmd = `stty cols ${cols} rows 30; exec ${[process.execPath, BIN, ...args].map(shq).join(' ')}`;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, now: () => Date.now() + clockOffsetMs });
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-cli-plan-'));
});
afterAll(async () => {
  await emulator.close();
});

describe('Command: invite-sync plan (each change, warnings)', () => {
  it('prints one line per invite with the rule that decided it, the Plan line and the steady state, uncoloured when piped', async () => {
    // Arrange
    const config = await writeConfig('p1.json', ENG_RULES);
    const roster = await writeCsv('p1.csv', [['ann@p1.example', 'Engineering'], ['bob@p1.example', 'Sales']]);

    // Act
    const r = await runCli(['plan', '--config', config, '--roster', roster], envFor(uniqueTableName('cliplan')));

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(`${ESC}[`);
    expect(r.stdout).toMatch(/^ {2}\+ invite {2}ann@p1\.example {2}edit {2}rule 1 \{department: Engineering\}$/m);
    expect(r.stdout).toMatch(/^ {2}\+ invite {2}bob@p1\.example {2}view {2}rule 2 \{\}$/m);
    expect(r.stdout).toContain('Plan: 2 to invite.');
    expect(r.stdout).toMatch(/^After: \d+ members?, \d+ pending.*waiting over 7 days\.$/m);
  });

  it('warns about a typo in a rule key (departmnet) and plans what the rules really say: everyone through the catch-all', async () => {
    // Arrange
    const typo = await writeConfig('p2.json', [{ when: { departmnet: 'Engineering' }, role: 'admin' }, { when: {}, role: 'view' }]);
    const right = await writeConfig('p2ok.json', [{ when: { department: 'Engineering' }, role: 'admin' }, { when: {}, role: 'view' }]);
    const roster = await writeCsv('p2.csv', [['cat@p2.example', 'Engineering'], ['dan@p2.example', 'Engineering']]);
    const env = envFor(uniqueTableName('cliplan'));

    // Act
    const typoRun = await runCli(['plan', '--config', typo, '--roster', roster, '--json'], env);
    const rightRun = await runCli(['plan', '--config', right, '--roster', roster, '--json'], env);
    const strict = await runCli(['plan', '--config', typo, '--roster', roster, '--strict', '--json'], env);

    // Assess
    expect(typoRun.code).toBe(0);
    expect(typoRun.stderr).toMatch(/warning: target eng: rule 1 looks at "departmnet", which no person has \(did you mean "department"\?\)/);
    const typoJson = JSON.parse(typoRun.stdout);
    expect(typoJson.targets[0].actions).toEqual([
      { kind: 'invite', email: 'cat@p2.example', role: 'view', rule: { index: 2, when: {} } },
      { kind: 'invite', email: 'dan@p2.example', role: 'view', rule: { index: 2, when: {} } },
    ]);
    expect(typoJson.warnings.map((w: { code: string }) => w.code)).toEqual(['unknownKey']);
    const rightJson = JSON.parse(rightRun.stdout);
    expect(rightJson.targets[0].actions.map((a: { role: string }) => a.role)).toEqual(['admin', 'admin']);
    expect(rightRun.stderr).not.toMatch(/warning/);
    expect(rightJson.warnings).toBeUndefined();
    expect(strict.code).toBe(2);
    expect(JSON.parse(strict.stdout).error.code).toBe('strictWarnings');
  });

  it('warns about a rule after a catch-all and a target whose rules match nobody', async () => {
    // Arrange
    const after = await writeConfig('p3.json', [{ when: {}, role: 'view' }, { when: { department: 'Sales' }, role: 'edit' }]);
    const nobody = await writeConfig('p3b.json', [{ when: { department: 'Legal' }, role: 'view' }]);
    const roster = await writeCsv('p3.csv', [['eve@p3.example', 'Sales']]);
    const env = envFor(uniqueTableName('cliplan'));

    // Act
    const a = await runCli(['plan', '--config', after, '--roster', roster], env);
    const b = await runCli(['plan', '--config', nobody, '--roster', roster, '--strict'], env);

    // Assess
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/warning: target eng: rule 2 comes after rule 1, which matches everyone/);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/warning: target eng: its rules give none of the 1 people a role/);
  });

  it('shows role changes, renewals (n of max) and revocations, and their steady state; --show-skipped lists people by reason', async () => {
    // Arrange: invites made 8 days ago on the emulator's clock (expired by now: lifetime 7 days)
    const table = uniqueTableName('cliplan');
    const env = envFor(table);
    const policy = { renewExpired: true, maxRenewals: 3, revokeLeft: true, fixRole: true };
    const config = await writeConfig('p4.json', [{ when: { department: 'Engineering' }, role: 'edit' }, { when: {}, role: 'view' }], { policy });
    const first = await writeCsv('p4a.csv', [['fay@p4.example', 'Sales'], ['gus@p4.example', 'Sales'], ['hal@p4.example', 'Sales'], ['ida@p4.example', 'Sales']]);
    clockOffsetMs = -8 * DAY;
    try {
      expect((await runCli(['apply', '--config', config, '--roster', first], env)).code).toBe(0);
    } finally {
      clockOffsetMs = 0;
    }
    const invites = emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => i.email.endsWith('@p4.example'));
    expect(invites).toHaveLength(4);
    // fay's invite is resent now (fresh, our own), so it can get a role change; gus stays expired (renew); hal leaves; ida accepts
    const resend = await runCli(['apply', '--config', config, '--roster', await writeCsv('p4b.csv', [['fay@p4.example', 'Sales'], ['gus@p4.example', 'Sales'], ['hal@p4.example', 'Sales'], ['ida@p4.example', 'Sales']])], env);
    expect(resend.code).toBe(0); // renews all four expired invites
    emulator.acceptInvite(DEFAULT_ID, DEFAULT_ID, 'ida@p4.example');
    const next = await writeCsv('p4c.csv', [['fay@p4.example', 'Engineering'], ['gus@p4.example', 'Sales'], ['ida@p4.example', 'Sales']]);

    // Act
    const r = await runCli(['plan', '--config', config, '--roster', next, '--show-skipped'], env);
    const j = await runCli(['plan', '--config', config, '--roster', next, '--show-skipped', '--json'], env);

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}~ role {4}fay@p4\.example {2}view → edit {2}rule 1 \{department: Engineering\}$/m);
    expect(r.stdout).toMatch(/^ {2}- revoke {2}hal@p4\.example {2}view +left the roster$/m);
    expect(r.stdout).toContain('Plan: 1 role change, 1 to revoke.');
    expect(r.stdout).toMatch(/skipped alreadyMember \(1\):\n {4}ida@p4\.example/);
    expect(r.stdout).toMatch(/skipped alreadyPending \(1\):\n {4}gus@p4\.example/);
    const t = JSON.parse(j.stdout).targets[0];
    expect(t.actions).toEqual([
      expect.objectContaining({ kind: 'fixRole', email: 'fay@p4.example', role: 'edit', fromRole: 'view', rule: { index: 1, when: { department: 'Engineering' } } }),
      expect.objectContaining({ kind: 'revoke', email: 'hal@p4.example', role: 'view', reason: 'leftRoster' }),
    ]);
    expect(t.actions[0].inviteId).toMatch(/^[a-f\d]{24}$/);
    expect(t.skippedPeople).toMatchObject({ alreadyMember: ['ida@p4.example'], alreadyPending: ['gus@p4.example'] });
    expect(t.steadyState).toMatchObject({ members: expect.any(Number), renewalsExhausted: 0, waitingOver7Days: 0 });
    expect(t.steadyState.seats).toBeUndefined();
  }, 60_000);

  it('shows a renewal as (n of max) and counts people waiting on an invite older than 7 days', async () => {
    // Arrange: jon's invite 9 days old and expired; kim's invite 8 days old but not ours (added by hand), not expired by override
    const table = uniqueTableName('cliplan');
    const env = envFor(table);
    const config = await writeConfig('p5.json', ENG_RULES, { policy: { maxRenewals: 2 } });
    const roster = await writeCsv('p5.csv', [['jon@p5.example', 'Engineering']]);
    clockOffsetMs = -9 * DAY;
    try {
      expect((await runCli(['apply', '--config', config, '--roster', roster], env)).code).toBe(0);
    } finally {
      clockOffsetMs = 0;
    }
    emulator.addInvite(DEFAULT_ID, DEFAULT_ID, { email: 'kim@p5.example', role: 'view', inviteDate: new Date(Date.now() - 8 * DAY).toISOString(), hasExpired: false });
    const both = await writeCsv('p5b.csv', [['jon@p5.example', 'Engineering'], ['kim@p5.example', 'Engineering']]);

    // Act
    const r = await runCli(['plan', '--config', config, '--roster', both, '--json'], env);
    const text = await runCli(['plan', '--config', config, '--roster', both], env);

    // Assess
    const t = JSON.parse(r.stdout).targets[0];
    expect(t.actions).toEqual([expect.objectContaining({ kind: 'renew', email: 'jon@p5.example', renewals: 0, rule: { index: 1, when: { department: 'Engineering' } } })]);
    expect(t.steadyState.waitingOver7Days).toBe(1); // kim: on an 8-day-old invite made by hand (notOurs, roleMismatch)
    expect(text.stdout).toMatch(/^ {2}↻ renew {2}jon@p5\.example {2}edit {2}\(1 of 2\) {2}rule 1/m);
    expect(text.stdout).toContain('1 waiting over 7 days');
  });

  it('lists at most 50 lines per kind unless --full', async () => {
    // Arrange
    const config = await writeConfig('p6.json', ENG_RULES);
    const roster = await writeCsv('p6.csv', Array.from({ length: 60 }, (_, i): [string, string] => [`u${String(i).padStart(2, '0')}@p6.example`, 'Sales']));
    const env = envFor(uniqueTableName('cliplan'));

    // Act
    const short = await runCli(['plan', '--config', config, '--roster', roster], env);
    const full = await runCli(['plan', '--config', config, '--roster', roster, '--full'], env);

    // Assess
    expect(short.stdout.match(/\+ invite/g)).toHaveLength(50);
    expect(short.stdout).toContain('… and 10 more invites (--full shows all)');
    expect(full.stdout.match(/\+ invite/g)).toHaveLength(60);
    expect(full.stdout).not.toContain('more invites');
  });
});

describe('Command: invite-sync apply (results, mode plan)', () => {
  it('adds each action’s result to --json; a blocked apply reports its actions notStarted', async () => {
    // Arrange
    const config = await writeConfig('a1.json', ENG_RULES);
    const braked = await writeConfig('a1b.json', ENG_RULES, { limits: { maxInvitesPerRun: 1 } });
    const roster = await writeCsv('a1.csv', [['lea@a1.example', 'Engineering'], ['max@a1.example', 'Sales']]);
    const other = await writeCsv('a1b.csv', [['ned@a1b.example', 'Sales'], ['ola@a1b.example', 'Sales']]);

    // Act
    const done = await runCli(['apply', '--config', config, '--roster', roster, '--json'], envFor(uniqueTableName('cliplan')));
    const blocked = await runCli(['apply', '--config', braked, '--roster', other, '--json'], envFor(uniqueTableName('cliplan')));

    // Assess
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout).targets[0].actions.map((a: { email: string; result: string }) => [a.email, a.result])).toEqual([
      ['lea@a1.example', 'done'],
      ['max@a1.example', 'done'],
    ]);
    expect(blocked.code).toBe(3);
    expect(JSON.parse(blocked.stdout).targets[0].actions.map((a: { result: string }) => a.result)).toEqual(['notStarted', 'notStarted']);
    expect(invitedEmails('@a1b.example')).toEqual([]);
  });

  it('refuses a config whose mode is plan: exit 2, one line saying why, nothing invited; --json prints the error object', async () => {
    // Arrange
    const config = await writeConfig('a2.json', ENG_RULES, { mode: 'plan' });
    const roster = await writeCsv('a2.csv', [['pam@a2.example', 'Engineering']]);
    const env = envFor(uniqueTableName('cliplan'));

    // Act
    const text = await runCli(['apply', '--config', config, '--roster', roster], env);
    const json = await runCli(['apply', '--config', config, '--roster', roster, '--json'], env);

    // Assess
    expect(text.code).toBe(2);
    expect(text.stderr.trim().split('\n')).toEqual([expect.stringMatching(/sets "mode": "plan", so apply refuses to change Losant/)]);
    expect(text.stdout).toBe('');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('modeIsPlan');
    expect(invitedEmails('@a2.example')).toEqual([]);
  });
});

describe('Command: invite-sync plan --out / apply --plan', () => {
  it('saves the plan with mode 0600 and its inputs; apply --plan runs it; a stale plan is exit 5 with both hashes and no change', async () => {
    // Arrange
    const table = uniqueTableName('cliplan');
    const env = envFor(table);
    const config = await writeConfig('s1.json', ENG_RULES);
    const roster = await writeCsv('s1.csv', [['quin@s1.example', 'Engineering'], ['rae@s1.example', 'Sales']]);
    const file = join(dir, 's1.plan.json');

    // Act
    const planned = await runCli(['plan', '--config', config, '--roster', roster, '--out', file, '--json'], env);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    const mode = (await stat(file)).mode & 0o777;
    const applied = await runCli(['apply', '--plan', file, '--json'], env);
    const again = await runCli(['apply', '--plan', file, '--json'], env);

    // Assess
    expect(planned.code).toBe(0);
    expect(mode).toBe(0o600);
    expect(saved).toMatchObject({ format: 'invite-sync/plan/v1', planHash: JSON.parse(planned.stdout).savedPlan.planHash });
    expect(saved.inputs.config.path).toBe(config);
    expect(saved.inputs.roster.sha256).toMatch(/^[a-f\d]{64}$/);
    expect(saved.targets[0].actions.map((a: { email: string }) => a.email)).toEqual(['quin@s1.example', 'rae@s1.example']);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout).targets[0].done.invite).toBe(2);
    expect(invitedEmails('@s1.example').sort()).toEqual(['quin@s1.example', 'rae@s1.example']);
    expect(again.code).toBe(5);
    const err = JSON.parse(again.stdout).error;
    expect(err).toMatchObject({ code: 'stalePlan', planHash: saved.planHash });
    expect(err.freshPlanHash).toMatch(/^[a-f\d]{64}$/);
    expect(err.freshPlanHash).not.toBe(saved.planHash);
  });

  it('never executes the file’s actions: an added action is ignored, an edited hash is stale; a changed roster is stale (exit 5)', async () => {
    // Arrange
    const env = envFor(uniqueTableName('cliplan'));
    const config = await writeConfig('s2.json', ENG_RULES);
    const roster = await writeCsv('s2.csv', [['sal@s2.example', 'Engineering']]);
    const file = join(dir, 's2.plan.json');
    expect((await runCli(['plan', '--config', config, '--roster', roster, '--out', file], env)).code).toBe(0);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    const forged = join(dir, 's2.forged.json');
    doc.targets[0].actions.push({ kind: 'invite', email: 'mallory@s2.example', role: 'admin' });
    await writeFile(forged, JSON.stringify(doc));
    const badHash = join(dir, 's2.badhash.json');
    await writeFile(badHash, JSON.stringify({ ...doc, planHash: 'f'.repeat(64) }));

    // Act
    const stale = await runCli(['apply', '--plan', badHash], env);
    const ran = await runCli(['apply', '--plan', forged, '--json'], env);
    await writeFile(roster, 'email,department\nsal@s2.example,Engineering\ntom@s2.example,Sales\n');
    const changed = await runCli(['apply', '--plan', file], env);

    // Assess
    expect(stale.code).toBe(5);
    expect(stale.stderr).toMatch(/saved plan is stale/);
    expect(ran.code).toBe(0);
    expect(invitedEmails('@s2.example')).toEqual(['sal@s2.example']);
    expect(changed.code).toBe(5);
    expect(changed.stderr).toMatch(/saved plan is stale: the roster changed since/);
    expect(invitedEmails('@s2.example')).toEqual(['sal@s2.example']);
  });
});

describe('Command: invite-sync (terminal manners)', () => {
  it('draws a progress bar that fits a 40-column terminal, logs above it, coloured changes on a TTY; NO_COLOR turns colours off', async () => {
    // Arrange
    const config = await writeConfig('t1.json', ENG_RULES, { concurrency: 2 });
    const roster = await writeCsv('t1.csv', Array.from({ length: 120 }, (_, i): [string, string] => [`t${i}@t1.example`, 'Engineering']));
    emulator.setFaults({ latencyMs: 10, errorRate: 0.1 });

    // Act
    let r: { code: number | null; out: string };
    try {
      r = await runInTty(['apply', '--config', config, '--roster', roster], envFor(uniqueTableName('cliplan'), { INVITE_SYNC_LOG_LEVEL: 'debug' }));
    } finally {
      emulator.setFaults({ latencyMs: 0, errorRate: 0 });
    }
    const plainConfig = await writeConfig('t1b.json', ENG_RULES);
    const plain = await runInTty(['plan', '--config', plainConfig, '--roster', await writeCsv('t1b.csv', [['u@t1b.example', 'Sales']])], envFor(uniqueTableName('cliplan'), { NO_COLOR: '1' }));

    // Assess
    expect(r.code).toBe(0);
    const segments = r.out.split(new RegExp(`\\r|\\n|${ESC}\\[1G|${ESC}\\[\\d*[AF]`)).map(strip);
    const bars = segments.filter((s) => /^eng \[[#.]+\] \d+\/120 /.test(s));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.every((b) => b.length <= 39)).toBe(true);
    expect(bars.at(-1)).toMatch(/120\/120 [\d.]+\/s ETA 0s$/);
    const retries = segments.filter((s) => s.includes('losant request retry'));
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((s) => s.startsWith('debug losant request retry'))).toBe(true);
    expect(r.out).toContain('\u001b[32m+\u001b[39m invite');
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('+ invite');
    expect(plain.out).not.toMatch(new RegExp(`${ESC}\\[3\\dm`));
  }, 60_000);

  it('prints a progress line on a non-TTY at the interval (--progress-interval), and a table whose widths follow the content', async () => {
    // Arrange
    const config = await writeConfig('t2.json', ENG_RULES);
    const roster = await writeCsv('t2.csv', Array.from({ length: 12 }, (_, i): [string, string] => [`v${i}@t2.example`, 'Sales']));

    // Act
    const r = await runCli(['apply', '--config', config, '--roster', roster, '--progress-interval', '0'], envFor(uniqueTableName('cliplan')));

    // Assess
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^progress eng 12\/12 \(100%\) [\d.]+\/s ETA 0s$/m);
    const table = r.stdout.split('\n').filter((l) => /^(target|eng) /.test(l));
    expect(table[0]).toMatch(/^target +desired +pending +members +invite +renew +fixRole +revoke +failed +status$/);
    expect(table[1]!.indexOf('12/12') + '12/12'.length).toBe(table[0]!.indexOf('invite') + 'invite'.length); // right-aligned under its header
  });

  it('a usage error is one line plus a pointer to the verb’s help; --version prints the version; --help lists required options, environment and exit codes', async () => {
    // Act
    const typo = await runCli(['plan', '--config', 'x.json', '--jsno'], {});
    const noConfig = await runCli(['apply'], {});
    const version = await runCli(['--version'], {});
    const help = await runCli(['apply', '--help'], {});
    const jsonUsage = await runCli(['plan', '--config', 'x.json', '--bogus', '--json'], {});

    // Assess
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim().split('\n')).toEqual(["error: unknown option '--jsno' (did you mean --json?)", "see 'invite-sync plan --help'"]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr.trim().split('\n')).toHaveLength(2);
    expect(noConfig.stderr).toContain("see 'invite-sync apply --help'");
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Required: --config <file>, or --plan <file>/);
    expect(help.stdout).toMatch(/LOSANT_API_TOKEN/);
    expect(help.stdout).toMatch(/5 +apply --plan: the saved plan is stale/);
    expect(help.stdout).toMatch(/first of 2, 5, 4, 130\/143, 3, 1 wins/);
    expect(jsonUsage.code).toBe(2);
    expect(JSON.parse(jsonUsage.stdout)).toEqual({ error: { code: 'usage', message: "unknown option '--bogus'" } });
  });

  it('a Losant error names the host, the target and the likely fix; with --json every error is one JSON object with the same exit code', async () => {
    // Arrange
    const config = await writeConfig('t4.json', ENG_RULES);
    const roster = await writeCsv('t4.csv', [['wes@t4.example', 'Sales']]);
    const badRoster = join(dir, 't4bad.csv');
    await writeFile(badRoster, 'email,department\nnot-an-email,Sales\n');
    const env = envFor(uniqueTableName('cliplan'));
    const noToken = { ...env };
    delete (noToken as Partial<typeof noToken>).LOSANT_API_TOKEN;

    // Act
    const refused = await runCli(['plan', '--config', config, '--roster', roster], { ...env, LOSANT_API_TOKEN: 'wrong-token' });
    const refusedJson = await runCli(['plan', '--config', config, '--roster', roster, '--json'], { ...env, LOSANT_API_TOKEN: 'wrong-token' });
    const missing = await runCli(['plan', '--config', config, '--roster', roster, '--json'], noToken);
    const bad = await runCli(['plan', '--config', config, '--roster', badRoster, '--json'], env);

    // Assess
    expect(refused.code).toBe(4);
    expect(refused.stdout).toContain(`target eng (instance ${DEFAULT_ID}, org ${DEFAULT_ID}) at ${new URL(emulator.url).host}: unauthorized`);
    expect(refused.stdout).toContain('check LOSANT_API_TOKEN');
    expect(refusedJson.code).toBe(4);
    expect(JSON.parse(refusedJson.stdout).targets[0].error).toMatchObject({ code: 'unauthorized', hint: expect.stringContaining('LOSANT_API_TOKEN') });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'badInput', message: expect.stringContaining('LOSANT_API_TOKEN') });
    expect(bad.code).toBe(2);
    const badErr = JSON.parse(bad.stdout).error;
    expect(badErr.code).toBe('badInput');
    expect(badErr.issues[0]).toMatchObject({ line: 2, path: 'email' });
  });
});

describe('README: the CLI section', () => {
  it('shows the output plan really prints for the emulator walk-through (examples/emulator-seed.json)', async () => {
    // Arrange
    const { loadSeedFile } = await import('../../emulator/index.ts');
    const root = join(import.meta.dirname, '../..');
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const shown = /prints \(captured from a real run\):\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
    const seeded = await startEmulator({ port: 0, seed: await loadSeedFile(join(root, 'examples/emulator-seed.json')) });

    // Act
    let r;
    try {
      r = await runCli(['plan', '--config', join(root, 'examples/sync-config.json'), '--roster', join(root, 'examples/roster.csv')], {
        ...envFor(uniqueTableName('cliplan')),
        LOSANT_API_URL: seeded.url,
      });
    } finally {
      await seeded.close();
    }

    // Assess
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runId = /run (r-\S+)/;
    expect(shown?.replace(runId, 'run <id>')).toBe(r.stdout.trimEnd().replace(runId, 'run <id>'));
  });
});
