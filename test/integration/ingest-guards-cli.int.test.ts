// Issue "Never a wrong invite", ingest side, as CLI users hit it: `invite-sync` as a child process, real HTTP to
// the emulator, DynamoDB Local shared through DYNAMODB_ENDPOINT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { dynamoEndpoint, uniqueTableName } from '../helpers/dynamo.ts';

let emulator: RunningEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-guards-cli-'));
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function envFor(table: string, extra: Record<string, string> = {}): Record<string, string> {
  return { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table, ...extra };
}

async function writeJson(name: string, doc: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(doc));
  return file;
}

async function writeText(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const config = (rules: unknown[] = [{ when: { department: 'Eng*' }, role: 'edit' }]) => ({
  targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules }],
});

const invitedEmails = (): string[] => emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email.toLowerCase());

describe('Command: invite-sync serve (signing key strength)', () => {
  it('exits 2 naming WEBHOOK_SECRET when its key is shorter than 24 bytes, without printing the key', async () => {
    // Arrange
    const file = await writeJson('serve-config.json', config());
    const key = Buffer.from('twenty-three-bytes-long').toString('base64');

    // Act
    const r = await runCli(['serve', '--config', file, '--port', '0'], envFor(uniqueTableName('guards'), { WEBHOOK_SECRET: `whsec_${key}` }));

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WEBHOOK_SECRET: .*23 bytes; at least 24/);
    expect(r.stdout + r.stderr).not.toContain(key);
  });
});

describe('Command: invite-sync plan|apply (reserved names)', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('exits 2 naming the rule key %s and invites nobody', async (name) => {
    // Arrange: written as text, so `__proto__` is a real key of the file
    const file = await writeText(
      `reserved-rule-${name}.json`,
      `{"targets":[{"name":"eng","instanceId":"${DEFAULT_ID}","orgId":"${DEFAULT_ID}","rules":[{"when":{"${name}":"x"},"role":"admin"}]}]}`,
    );
    const roster = await writeText(`reserved-rule-${name}.csv`, `email,department\nrule-${name.replaceAll('_', '')}@example.com,Engineering\n`);

    // Act
    const r = await runCli(['apply', '--config', file, '--roster', roster, '--json'], envFor(uniqueTableName('guards')));

    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(`targets.0.rules.0.when.${name}: is a reserved name`);
    expect(invitedEmails()).not.toContain(`rule-${name.replaceAll('_', '')}@example.com`);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('exits 2 for a roster column named %s and stores nobody', async (name) => {
    // Arrange
    const file = await writeJson(`reserved-column-${name}.json`, config());
    const roster = await writeText(`reserved-column-${name}.csv`, `email,department,${name}\ncol-${name.replaceAll('_', '')}@example.com,Engineering,x\n`);
    const table = uniqueTableName('guards');

    // Act
    const r = await runCli(['apply', '--config', file, '--roster', roster, '--json'], envFor(table));
    const after = await runCli(['plan', '--config', file, '--json'], envFor(table));

    // Assess
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(`column "${name}" is a reserved name`);
    expect(after.code).toBe(2);
    expect(after.stdout + after.stderr).toContain('no people in the state store');
  });
});

describe('Command: invite-sync apply --roster (identity)', () => {
  it('exits 2 for two active rows with one email and different employeeIds, naming the later row and its email field', async () => {
    // Arrange
    const file = await writeJson('identity-config.json', config());
    const roster = await writeText('identity.csv', 'email,employeeId,department\nsam@example.com,E1,Engineering\nSam@Example.com ,E2,Engineering\n');

    // Act
    const r = await runCli(['apply', '--config', file, '--roster', roster, '--json'], envFor(uniqueTableName('guards')));

    // Assess
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { error: { message: string; issues?: { line: number; path: string; message: string }[] } };
    expect(JSON.stringify(out)).toContain('a second active person with the email of line 2');
    expect(JSON.stringify(out)).toMatch(/"line":3/);
    expect(JSON.stringify(out)).toMatch(/"path":"email"/);
    expect(invitedEmails()).not.toContain('sam@example.com');
  });
});

describe('Command: invite-sync apply --roster (empty roster held)', () => {
  it('exits 3 for an empty roster and keeps the people; approve --run stores it and the next plan desires nobody', async () => {
    // Arrange
    const table = uniqueTableName('guards');
    const file = await writeJson('held-config.json', config());
    const roster = await writeText('held.csv', 'email,department\nheld.one@example.com,Engineering\nheld.two@example.com,Engineering\n');
    const empty = await writeText('held-empty.csv', 'email,department\n');
    expect((await runCli(['apply', '--config', file, '--roster', roster, '--json'], envFor(table))).code).toBe(0);

    // Act
    const blocked = await runCli(['apply', '--config', file, '--roster', empty, '--json'], envFor(table));
    const runId = (JSON.parse(blocked.stdout) as { runId: string }).runId;
    const planWhileHeld = await runCli(['plan', '--config', file, '--json'], envFor(table));
    const approved = await runCli(['approve', '--run', runId, '--yes'], envFor(table));
    const planAfter = await runCli(['plan', '--config', file, '--json'], envFor(table));

    // Assess
    expect(blocked.code).toBe(3);
    expect(JSON.parse(blocked.stdout).targets[0].blocked).toBe('emptySnapshot');
    expect(JSON.parse(planWhileHeld.stdout).targets[0].desired).toBe(2);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`approved run ${runId}: stored the empty snapshot of default (2 left)`);
    expect(JSON.parse(planAfter.stdout).targets[0].desired).toBe(0);
  });
});
