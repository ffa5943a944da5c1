// Issue 12 item 2 through the CLI: the sync config's limits.maxAnswerBytes reaches the Losant client. `invite-sync
// apply` as a child process against the emulator (an org whose invite list is ~10 KB) and DynamoDB Local.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ID, DEFAULT_TOKEN, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { runCli } from '../helpers/cli.ts';

const PENDING = Array.from({ length: 30 }, (_, i) => ({ email: `pending${i}@cap.example`, role: 'edit' as const }));
let emulator: RunningEmulator;
let dir: string;
const table = uniqueTableName('answer-cap');
const client = localDynamoClient();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'answer-cap-'));
  emulator = await startEmulator({ port: 0, seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID, invites: PENDING }] }] } });
  await createTableIfMissing(client, table);
});

afterAll(async () => {
  await emulator?.close();
  client.destroy();
});

describe('CLI: apply with limits.maxAnswerBytes below the size of the invite list', () => {
  it('returns exit 4 with error code invalidResponse naming limits.maxAnswerBytes, and sends no POST; the default cap reads the same list', async () => {
    // Arrange
    const config = (limits: Record<string, number>) => JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'edit' }] }], limits });
    await writeFile(join(dir, 'capped.json'), config({ maxAnswerBytes: 4096 }));
    await writeFile(join(dir, 'default.json'), config({}));
    const roster = join(dir, 'roster.csv');
    await writeFile(roster, ['email', 'new@cap.example', ...PENDING.map((p) => p.email)].join('\n') + '\n');
    const env = { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table };
    const listed = await (await fetch(`${emulator.url}/instances/${DEFAULT_ID}/orgs/${DEFAULT_ID}/invites`, { headers: { authorization: `Bearer ${DEFAULT_TOKEN}` } })).text();

    // Act
    const capped = await runCli(['apply', '--config', join(dir, 'capped.json'), '--roster', roster, '--json'], env);
    const postsCapped = emulator.stats().requests.filter((r) => r.method === 'POST').length;
    const uncapped = await runCli(['apply', '--config', join(dir, 'default.json'), '--roster', roster, '--json'], env);

    // Assess
    expect(Buffer.byteLength(listed)).toBeGreaterThan(4096);
    expect(capped.code, capped.stderr).toBe(4);
    const t = (JSON.parse(capped.stdout) as { targets: { error?: { code: string; message: string }; planned: { invite: number } }[] }).targets[0]!;
    expect(t.error?.code).toBe('invalidResponse');
    expect(t.error?.message).toContain('limits.maxAnswerBytes');
    expect(t.planned.invite).toBe(0);
    expect(postsCapped).toBe(0);
    expect(uncapped.code, uncapped.stderr).toBe(0);
    expect((JSON.parse(uncapped.stdout) as { targets: { done: { invite: number } }[] }).targets[0]!.done.invite).toBe(1);
  });
});
