// `invite-sync serve` as a child process with SCIM_TOKEN: a short token stops it at start with one line (exit 2);
// a good one serves /scim/v2 over real HTTP, and a burst of SCIM writes with scim.debounceSeconds is one run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { dynamoEndpoint, uniqueTableName } from '../helpers/dynamo.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const WEBHOOK_KEY = `whsec_${randomBytes(32).toString('base64')}`;
const TOKEN = randomBytes(24).toString('base64url');
let emulator: RunningEmulator;
let dir: string;
let configFile: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-scim-cli-'));
  configFile = join(dir, 'sync-config.json');
  await writeFile(configFile, JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }], scim: { debounceSeconds: 2 } }));
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function serve(scimToken: string) {
  const child = spawn(process.execPath, ['bin/invite-sync.js', 'serve', '--config', configFile, '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: uniqueTableName('scim-cli'), WEBHOOK_SECRET: WEBHOOK_KEY, SCIM_TOKEN: scimToken },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, out: () => out, err: () => err };
}

describe('invite-sync serve with SCIM_TOKEN', () => {
  it('refuses a token under 24 characters with one readable line, exit 2', async () => {
    const s = serve(`${TOKEN} short-token`);
    expect(await s.exit).toBe(2);
    const lines = s.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/SCIM_TOKEN: token 2 is 11 characters; each must be at least 24/);
    expect(s.err()).not.toContain(TOKEN);
  });

  it('serves /scim/v2 and plans a burst of writes as one run after scim.debounceSeconds', async () => {
    const s = serve(TOKEN);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve not ready: ${s.err()}`)), 30_000);
        s.child.stdout.on('data', () => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(s.out());
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };
      const emails = Array.from({ length: 5 }, (_, i) => `burst${i}.${randomUUID().slice(0, 6)}@example.com`);
      const postsBefore = emulator.stats().requests.filter((r) => r.method === 'POST').reduce((n, r) => n + r.count, 0);
      const started = Date.now();
      for (const email of emails) {
        const res = await fetch(`${url}/scim/v2/Users`, { method: 'POST', headers, body: JSON.stringify({ userName: email, emails: [{ value: email, primary: true }] }) });
        expect(res.status).toBe(201);
      }
      const answeredMs = Date.now() - started;
      // nothing reached Losant while the debounce runs
      expect(emulator.stats().requests.filter((r) => r.method === 'POST').reduce((n, r) => n + r.count, 0)).toBe(postsBefore);
      const invited = () => emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => emails.includes(i.email.toLowerCase())).length;
      const until = Date.now() + 15_000;
      while (invited() < emails.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(invited()).toBe(emails.length);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(answeredMs).toBeLessThan(2_000);
      const spc = await fetch(`${url}/scim/v2/ServiceProviderConfig`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(spc.headers.get('content-type')).toBe('application/scim+json');
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exit).toBe(0);
    // one reconcile for the burst
    expect(s.err().match(/reconcile finished/g)?.length).toBe(1);
    expect(s.err()).not.toContain(TOKEN);
  });
});
