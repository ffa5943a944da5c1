// `invite-sync serve --drop-dir` as a child process: a roster written as .part and renamed is picked up (after 2 s stable),
// stored in DynamoDB Local and invited in the emulator; a .part never renamed is ignored; a bad --drop-dir exits 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { sha256Hex } from '../../functions/sync/drops.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const WEBHOOK_KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let emulator: RunningEmulator;
let dir: string;
let configFile: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-serve-drops-'));
  configFile = join(dir, 'sync-config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }],
      sources: { hr: { via: ['s3'], trustUploadTime: true } },
    }),
  );
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startServe(table: string, args: string[]): { child: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/invite-sync.js', 'serve', '--config', configFile, '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table, WEBHOOK_SECRET: WEBHOOK_KEY, INVITE_SYNC_LOG_LEVEL: 'info' },
  });
  let err = '';
  let out = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

describe('Function: invite-sync serve --drop-dir', () => {
  it('picks up a roster renamed from .part into <dir>/<source>/, invites it, and ignores a .part left alone', async () => {
    // Arrange
    const drops = join(dir, 'drops');
    await mkdir(join(drops, 'hr'), { recursive: true });
    const table = uniqueTableName('serve-drops');
    const client = localDynamoClient();
    await createTableIfMissing(client, table);
    const store = new DynamoStateStore({ tableName: table, client });
    const email = `dropped.${randomUUID().slice(0, 6)}@example.com`;
    const half = `half.${randomUUID().slice(0, 6)}@example.com`;
    const body = `email,department\n${email},Engineering\n`;
    const serve = startServe(table, ['--drop-dir', drops]);
    try {
      expect(await waitFor(() => (/^listening on /m.test(serve.stdout()) ? true : undefined), 30_000)).toBe(true);

      // Act: write, then rename; and a half-written file that stays .part
      await writeFile(join(drops, 'hr', 'roster.csv.part'), body);
      await writeFile(join(drops, 'hr', 'next.csv.part'), `email\n${half}\n`);
      const renamedAt = Date.now();
      await rename(join(drops, 'hr', 'roster.csv.part'), join(drops, 'hr', 'roster.csv'));

      // Assert: stored (not before 2 s of stability), then invited by the queued reconcile
      const stored = await waitFor(async () => (await store.listPeople()).find((p) => p.email === email), 20_000);
      const storedAfterMs = Date.now() - renamedAt;
      expect(stored?.source).toBe('hr');
      expect(storedAfterMs).toBeGreaterThanOrEqual(2_000);
      const invite = await waitFor(() => emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email), 15_000);
      expect(invite?.role).toBe('view');
      expect(await store.hasDelivery({ source: 'hr', id: `file:hr/roster.csv#sha256:${sha256Hex(Buffer.from(body))}` })).toBe(true);
      expect((await store.listPeople()).some((p) => p.email === half)).toBe(false);
    } finally {
      serve.child.kill('SIGTERM');
      client.destroy();
    }
    expect(await serve.exit).toBe(0);
    expect(serve.stderr()).toContain('drop dir: file handled');
    expect(serve.stderr()).not.toContain(email);
  });

  it('exits 2 naming --drop-dir when it is not a directory', async () => {
    // Act
    const serve = startServe(uniqueTableName('serve-drops-bad'), ['--drop-dir', join(dir, 'missing')]);
    const code = await serve.exit;

    // Assert
    expect(code).toBe(2);
    expect(serve.stderr()).toContain(`--drop-dir: ${join(dir, 'missing')} is not a directory`);
  });
});
