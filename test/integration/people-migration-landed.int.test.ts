// The people migration, tried for real: the landed version's CLI (commit LANDED, main before the shards,
// extracted with `git archive` into a temp dir, sharing node_modules) invites a roster and stores its people
// in the one partition `PEOPLE`; today's code migrates them (one migration killed midway, then resumed by a
// CLI run's first read, then run twice more) and converges with 0 revokes and 0 duplicate invites; the
// first run's read also backfills the person index (one index item per person, the marker done).
import { beforeAll, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN } from '../../emulator/index.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { LEGACY_PEOPLE_PK, PEOPLE_SHARDS, keys } from '../../functions/state/keys.ts';
import { dynamoEndpoint, dyingClient, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { clockAheadEnv, runCli } from '../helpers/cli.ts';

/** The commit before people moved to shards ("the landed version" of the people store). */
const LANDED = '67e0d9d';
const ROOT = join(import.meta.dirname, '../..');
const PEOPLE = 300;
let landedBin = '';

beforeAll(async () => {
  const tree = await mkdtemp(join(tmpdir(), 'invite-sync-landed-people-'));
  // fails loudly (no skip) when the checkout lacks the commit: the test needs the repository's history
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${LANDED} | tar -x -C "${tree}"`], { stdio: ['ignore', 'ignore', 'inherit'] });
  await symlink(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  landedBin = join(tree, 'bin/invite-sync.js');
}, 60_000);

function runLanded(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [landedBin, ...args], { env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it('migrates the people the landed version stored (one migration killed midway) and converges with 0 revokes and 0 duplicates', async () => {
  // Prepare: the landed CLI invites a roster of 300; its people sit in pk PEOPLE
  const emulator = await startEmulator({ port: 0, latencyMs: 5 });
  const client = localDynamoClient();
  const dir = await mkdtemp(join(tmpdir(), 'landed-people-'));
  const table = uniqueTableName('landed-people');
  const env = { LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table };
  const config = join(dir, 'c.json');
  await writeFile(config, JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Eng*' }, role: 'edit' }] }], leaseSeconds: 10, concurrency: 8, policy: { revokeLeft: true } }));
  const roster = join(dir, 'r.csv');
  const emails = Array.from({ length: PEOPLE }, (_, i) => `p${i}@example.com`);
  await writeFile(roster, ['email,department', ...emails.map((e) => `${e},Engineering`)].join('\n') + '\n');
  const count = async (pk: string) =>
    (await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;
  const landed = await runLanded(['apply', '--config', config, '--roster', roster, '--json'], env);
  const landedPeople = await count(LEGACY_PEOPLE_PK);
  const posts = () => emulator.stats().requests.filter((r) => r.method === 'POST').reduce((n, r) => n + r.count, 0);
  const deletes = () => emulator.stats().requests.filter((r) => r.method === 'DELETE').reduce((n, r) => n + r.count, 0);
  const postsByLanded = posts();

  // Act: a migration killed at its 6th transaction (page 1: a transaction per shard), readers meanwhile see everyone
  const dying = dyingClient(5);
  const crashed: unknown = await new DynamoStateStore({ tableName: table, client: dying.client }).people.migrateLegacyPeople().catch((e: unknown) => e);
  await dying.settled();
  const leftAfterCrash = await count(LEGACY_PEOPLE_PK);
  const during = await new DynamoStateStore({ tableName: table, client }).listPeople();
  // a CLI run past the dead migration's lease: its first read resumes the migration, then it plans and applies
  const first = await runCli(['apply', '--config', config, '--json', '--wait', '15'], { ...env, ...clockAheadEnv(120) });
  const leftAfterRun = await count(LEGACY_PEOPLE_PK);
  const twice = [await new DynamoStateStore({ tableName: table, client }).people.migrateLegacyPeople(), await new DynamoStateStore({ tableName: table, client }).people.migrateLegacyPeople()];
  const second = await runCli(['apply', '--config', config, '--json', '--wait', '15'], { ...env, ...clockAheadEnv(240) });
  const sharded = (await Promise.all(Array.from({ length: PEOPLE_SHARDS }, (_, s) => count(`PEOPLE#${s}`)))).reduce((a, b) => a + b, 0);
  // the person index: backfilled by the first run's listPeople, one item per person (the roster has no employeeIds)
  const indexed = (await Promise.all(during.flatMap((p) => keys.personIndexPks(p.source, p.email, p.employeeId)).map(count))).reduce((a, b) => a + b, 0);
  const marker = keys.peopleIndex();
  const indexMarker = (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: marker.pk }, sk: { S: marker.sk } }, ConsistentRead: true }))).Item;
  const counts = new Map<string, number>();
  for (const i of emulator.invites(DEFAULT_ID, DEFAULT_ID)) counts.set(i.email, (counts.get(i.email) ?? 0) + 1);
  console.log(
    `[people migration] landed exit ${landed.code}, ${landedPeople} legacy people, ${postsByLanded} POSTs; killed migration left ${leftAfterCrash}; ` +
      `new runs exit ${first.code} ${second.code}, planned ${JSON.stringify(JSON.parse(first.stdout).targets[0].planned)} then ${JSON.stringify(JSON.parse(second.stdout).targets[0].planned)}; ` +
      `POSTs after ${posts() - postsByLanded}, DELETEs ${deletes()}, duplicates ${emulator.stats().duplicateInvites}`,
  );

  // Assess
  expect(landed.code, landed.stderr).toBe(0);
  expect(landedPeople).toBe(PEOPLE);
  expect(postsByLanded).toBe(PEOPLE);
  expect(String(crashed)).toContain('the process died here');
  expect(leftAfterCrash).toBeGreaterThan(0);
  expect(leftAfterCrash).toBeLessThan(PEOPLE);
  expect(during).toHaveLength(PEOPLE);
  expect(first.code, first.stderr).toBe(0);
  expect(second.code, second.stderr).toBe(0);
  expect(leftAfterRun).toBe(0);
  expect(twice).toEqual([{ outcome: 'done', moved: 0 }, { outcome: 'done', moved: 0 }]);
  expect(sharded).toBe(PEOPLE + PEOPLE_SHARDS); // every person once, and each shard's digest
  expect(indexMarker?.doneAt?.S).toBeDefined();
  expect(indexed).toBe(PEOPLE);
  expect(posts() - postsByLanded).toBe(0);
  expect(deletes()).toBe(0);
  expect(emulator.stats().duplicateInvites).toBe(0);
  expect(counts.size).toBe(PEOPLE);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
  client.destroy();
  await emulator.close();
}, 200_000);
