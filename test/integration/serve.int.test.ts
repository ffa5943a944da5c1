// `invite-sync serve` as a child process: real HTTP in, signed webhook, background reconcile against the emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { signWebhook } from '../../functions/handlers/webhook-signature.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { fixture } from '../helpers/fixtures.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const WEBHOOK_KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const HR_EVENT = fixture('lambda/hr-person-upserted.json') as Record<string, unknown>;

interface Serve {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

let emulator: RunningEmulator;
let dir: string;
let configFile: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-serve-'));
  configFile = join(dir, 'sync-config.json');
  await writeFile(configFile, JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }] }));
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function startServe(env: Record<string, string | undefined>, args: string[] = []): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['bin/invite-sync.js', 'serve', '--config', configFile, '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: uniqueTableName('serve'), ...env },
  });
}

/** Starts serve and resolves once it printed `listening on <url>`. */
async function serveReady(env: Record<string, string | undefined> = {}, args: string[] = []): Promise<Serve> {
  const child = startServe({ WEBHOOK_SECRET: WEBHOOK_KEY, ...env }, args);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve not ready in 30 s; stderr: ${err}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exit.then((code) => reject(new Error(`serve exited ${code} before it was ready; stderr: ${err}`)));
  });
  return { child, url, stderr: () => err, exit };
}

async function postSigned(url: string, body: string, key = WEBHOOK_KEY): Promise<Response> {
  const headers = signWebhook(key, `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body);
  return fetch(`${url}/webhook`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
}

async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Function: invite-sync serve', () => {
  it('returns 202 for a signed event, the invite shows up in the emulator, and SIGTERM exits 0', async () => {
    // Arrange
    const serve = await serveReady();
    const email = `serve.${randomUUID().slice(0, 6)}@example.com`;
    const doc = { ...structuredClone(HR_EVENT), id: `evt-${randomUUID()}`, person: { email, department: 'Engineering' } };
    try {
      // Act
      const res = await postSigned(serve.url, JSON.stringify(doc));
      // Assert: answered without waiting for Losant, then reconciled in the background
      expect(res.status).toBe(202);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ status: 'applied', eventId: doc.id, touched: 1 });
      const invite = await waitFor(() => emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email), 10_000);
      expect(invite?.role).toBe('view');

      const forged = await postSigned(serve.url, JSON.stringify({ ...doc, id: `evt-${randomUUID()}` }), `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`);
      const wrongMethod = await fetch(`${serve.url}/webhook`);
      const wrongPath = await fetch(`${serve.url}/hooks`, { method: 'POST', body: '{}' });
      expect([forged.status, wrongMethod.status, wrongPath.status]).toEqual([401, 405, 404]);
      expect(await wrongPath.json()).toMatchObject({ error: 'not_found' });
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await serve.exit).toBe(0);
    expect(serve.stderr()).not.toContain(email);
  });

  it('returns invites for people already stored once --schedule-seconds fires the schedule trigger', async () => {
    // Arrange: a person stored in the table serve will use, and no webhook at all
    const table = uniqueTableName('serve-schedule');
    const client = localDynamoClient();
    const email = `scheduled.${randomUUID().slice(0, 6)}@example.com`;
    try {
      await createTableIfMissing(client, table);
      await new DynamoStateStore({ tableName: table, client }).applyPersonEvent('default', { email, status: 'active', attributes: {} }, new Date().toISOString());
    } finally {
      client.destroy();
    }
    // Act
    const serve = await serveReady({ STATE_TABLE: table }, ['--schedule-seconds', '1']);
    let invite;
    try {
      invite = await waitFor(() => emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email), 10_000);
    } finally {
      serve.child.kill('SIGTERM');
    }
    // Assert
    expect(invite?.role).toBe('view');
    expect(await serve.exit).toBe(0);
  });

  it('returns 413 for a body over 256 KiB without reading it as an event', async () => {
    const serve = await serveReady();
    try {
      const res = await fetch(`${serve.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(300 * 1024) });
      expect(res.status).toBe(413);
    } finally {
      serve.child.kill('SIGINT');
    }
    expect(await serve.exit).toBe(0);
  });

  it('exits 2 with a clear message when WEBHOOK_SECRET is not set', async () => {
    const child = startServe({ WEBHOOK_SECRET: undefined });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('WEBHOOK_SECRET is not set');
  });
});
