// security --> representative flows (CLI apply, serve, the Lambda's logger around the webhook handler, the Losant
// client's failure paths) with every log line captured --> no token, no Bearer, no whsec_ key, no plain email
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startEmulator, DEFAULT_ID, type RunningEmulator } from '../../../emulator/index.ts';
import { LosantClient } from '../../../functions/losant/client.ts';
import { DynamoStateStore } from '../../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../../functions/state/table-design.ts';
import { parseSyncConfig } from '../../../functions/config/sync-config.schema.ts';
import { handleWebhook } from '../../../functions/handlers/webhook.handler.ts';
import { signWebhook } from '../../../functions/handlers/webhook-signature.ts';
import { reconcileAndRecord } from '../../../functions/handlers/run-reconcile.ts';
import { InProcessReconcileQueue } from '../../../functions/queue/in-process-queue.ts';
import { createLambdaLogger } from '../../../functions/runtime/logger.ts';
import { createLambdaMetrics } from '../../../functions/runtime/metrics.ts';
import { staticSecret } from '../../../functions/secrets/secrets-manager.ts';
import { freePort } from '../../../cli/local-dynamodb.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../../helpers/dynamo.ts';
import { captureOutput, findLeaks } from '../../helpers/chaos.ts';
import { runCli, spawnCli } from '../../helpers/cli.ts';
import { fixture } from '../../helpers/fixtures.ts';

const TOKEN = `lsnt-${randomBytes(16).toString('hex')}`;
const WRONG_TOKEN = `lsnt-wrong-${randomBytes(16).toString('hex')}`;
const WEBHOOK_KEY = `whsec_${randomBytes(32).toString('base64')}`;
const SECRETS = [TOKEN, WRONG_TOKEN, WEBHOOK_KEY, WEBHOOK_KEY.slice('whsec_'.length)];
const TARGET = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const FIXTURE = fixture('lambda/http-api-webhook.json') as APIGatewayProxyEventV2;

let emulator: RunningEmulator;
let dir: string;
let configFile: string;
let roster: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: { tokens: [{ token: TOKEN, scopes: ['all.Instance'] }] }, faultSeed: 5 });
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-pii-'));
  configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }] }));
  roster = join(dir, 'roster.csv');
  await writeFile(roster, ['email,department', 'Jane.Doe@Example.com,Engineering', 'jan+hr@müller.de,Sales', 'a*b@x.com,Ops', ...Array.from({ length: 20 }, (_, i) => `person${i}@example.org,Ops`)].join('\n') + '\n');
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cliEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LOSANT_API_URL: emulator.url,
    LOSANT_API_TOKEN: TOKEN,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    STATE_TABLE: uniqueTableName('pii'),
    INVITE_SYNC_LOG_LEVEL: 'debug',
    ...overrides,
  };
}

/** stdout is a report the user asked for: emails may show there, credentials never. */
function stdoutLeaks(stdout: string): string[] {
  return findLeaks(stdout.replace(/[^\s"]+@[^\s"]+/g, '<address>'), SECRETS);
}

describe('Command: invite-sync apply (stderr, log level debug)', () => {
  it('logs no credential and no plain email when the token is wrong', async () => {
    // Act
    const r = await runCli(['apply', '--config', configFile, '--roster', roster, '--json'], cliEnv({ LOSANT_API_TOKEN: WRONG_TOKEN }));

    // Assess
    expect(r.code).toBe(4);
    expect((JSON.parse(r.stdout) as { targets: { error: { code: string } }[] }).targets[0]?.error.code).toBe('unauthorized');
    expect(findLeaks(r.stderr, SECRETS)).toEqual([]);
    expect(stdoutLeaks(r.stdout)).toEqual([]);
  });

  it('logs no credential and no plain email when Losant is unreachable', async () => {
    // Arrange: a port nothing listens on
    const closed = `http://127.0.0.1:${await freePort()}`;

    // Act
    const r = await runCli(['apply', '--config', configFile, '--roster', roster, '--json'], cliEnv({ LOSANT_API_URL: closed }));

    // Assess
    expect(r.code).not.toBe(0);
    expect((JSON.parse(r.stdout) as { targets: { error: { code: string } }[] }).targets[0]?.error.code).toBe('unreachable');
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(findLeaks(r.stderr, SECRETS)).toEqual([]);
    expect(stdoutLeaks(r.stdout)).toEqual([]);
  });

  it('logs no credential and no plain email in a normal apply through retries and lost answers', async () => {
    // Arrange: 503s and lost answers make the client retry and recover (and log it)
    emulator.setFaults({ errorRate: 0.2, lostResponseRate: 0.3 });

    // Act
    const r = await runCli(['apply', '--config', configFile, '--roster', roster], cliEnv()).finally(() => emulator.setFaults({ errorRate: 0, lostResponseRate: 0 }));

    // Assess
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/found after an unanswered POST|retry/);
    // positive control: addresses do reach the log, masked
    expect(r.stderr).toMatch(/[a-z]\*\*\*@[a-z]\*\*\*\./);
    expect(findLeaks(r.stderr, SECRETS)).toEqual([]);
    expect(stdoutLeaks(r.stdout)).toEqual([]);
  });
});

describe('Command: invite-sync serve (stdout and stderr, log level debug)', () => {
  it('logs no credential and no plain email for accepted and rejected webhooks and the reconcile they start', async () => {
    // Arrange
    const serve = spawnCli(['serve', '--config', configFile, '--port', '0'], cliEnv({ WEBHOOK_SECRET: WEBHOOK_KEY }));
    const [, url] = await serve.waitForStdout(/listening on (http:\/\/\S+)/, 30_000);
    const post = async (body: string, key = WEBHOOK_KEY, contentType = 'application/json'): Promise<number> => {
      const res = await fetch(`${url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': contentType, ...signWebhook(key, `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body) },
        body,
      });
      await res.text();
      return res.status;
    };
    const event = (person: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ id: `evt-${randomUUID()}`, type: 'person.upserted', occurredAt: new Date().toISOString(), source: 'hr', person, ...extra });

    try {
      // Act
      const statuses = [
        await post(event({ email: 'Served.Person@Example.com', department: 'Engineering' })),
        await post(event({ email: 'forged@example.com' }), `whsec_${randomBytes(32).toString('base64')}`),
        await post(event({ email: 'bad-status@example.com', status: 'gone' })),
        await post(event({ email: 'extra@example.com' }, { 'leak.me@example.com': true })),
        await post(event({ email: 'plain@example.com' }), WEBHOOK_KEY, 'text/plain'),
      ];
      for (let i = 0; i < 200 && !emulator.invites(DEFAULT_ID, DEFAULT_ID).some((inv) => inv.email === 'served.person@example.com'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      serve.signal('SIGTERM');
      const done = await serve.exited;

      // Assess
      expect(statuses).toEqual([202, 401, 400, 400, 415]);
      expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email)).toContain('served.person@example.com');
      expect(done.code).toBe(0);
      expect(done.stderr).toMatch(/webhook rejected/);
      expect(findLeaks(done.stderr, SECRETS)).toEqual([]);
      expect(findLeaks(done.stdout, SECRETS)).toEqual([]);
    } finally {
      serve.signal('SIGKILL');
    }
  });
});

describe('Function: handleWebhook and LosantClient with the Lambda logger (process output captured)', () => {
  it('writes no credential and no plain email on stdout, stderr or the console, whatever fails', async () => {
    // Arrange: the Lambda's Powertools logger and EMF metrics, a real table and the emulator
    const ddb = localDynamoClient();
    const table = uniqueTableName('pii-lambda');
    await createTableIfMissing(ddb, table);
    const store = new DynamoStateStore({ tableName: table, client: ddb });
    const config = parseSyncConfig({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }] });
    const clock = { now: () => Date.now() };
    const capture = captureOutput({ quiet: true });
    const clients: LosantClient[] = [];
    const errors: string[] = [];
    try {
      const log = createLambdaLogger({ serviceName: 'invite-sync', level: 'DEBUG', persistentKeys: { stage: 'test' } });
      const metrics = createLambdaMetrics({ namespace: 'InviteSyncTest', serviceName: 'invite-sync' });
      const client = (baseUrl: string, token: string) => {
        const c = new LosantClient({ baseUrl, token: () => Promise.resolve(token), log, retry: { maxAttempts: 3, baseDelayMs: 5 } });
        clients.push(c);
        return c;
      };
      const api = client(emulator.url, TOKEN);
      const queue = new InProcessReconcileQueue({
        log,
        worker: async (name) => (await reconcileAndRecord({ api, store, clock, log, metrics, config }, { targetNames: [name], trigger: 'queue', deadline: Date.now() + 30_000 })).complete,
      });
      const deps = { store, clock, log, queue, config, metrics, webhookSecret: staticSecret(WEBHOOK_KEY) };
      const webhook = (body: string, key = WEBHOOK_KEY) => {
        const e = structuredClone(FIXTURE);
        e.headers = { 'content-type': 'application/json', ...signWebhook(key, `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body) };
        e.body = body;
        return handleWebhook(e, deps);
      };
      const body = (email: string, extra: Record<string, unknown> = {}) =>
        JSON.stringify({ id: `evt-${randomUUID()}`, type: 'person.upserted', occurredAt: new Date().toISOString(), source: 'hr', person: { email }, ...extra });

      // Act: accepted and rejected webhooks, a reconcile with retries and lost answers, and the client's failure paths
      emulator.setFaults({ errorRate: 0.3, lostResponseRate: 0.3 });
      const statuses = [
        (await webhook(body('Lambda.Person@Example.com'))).statusCode,
        (await webhook(body('forged@example.com'), `whsec_${randomBytes(32).toString('base64')}`)).statusCode,
        (await webhook(body('extra@example.com', { 'leak.me@example.com': 1 }))).statusCode,
      ];
      await queue.drain(30_000);
      emulator.setFaults({ errorRate: 0, lostResponseRate: 0 });
      const attempts: [string, () => Promise<unknown>][] = [
        ['closed port', async () => client(`http://127.0.0.1:${await freePort()}`, TOKEN).createInvite(TARGET, { email: 'closed.port@example.com', role: 'view' })],
        ['wrong token', () => client(emulator.url, WRONG_TOKEN).createInvite(TARGET, { email: 'wrong.token@example.com', role: 'view' })],
        ['always 503', async () => {
          emulator.setFaults({ errorRate: 1 });
          try {
            return await api.createInvite(TARGET, { email: 'always.503@example.com', role: 'view' });
          } finally {
            emulator.setFaults({ errorRate: 0 });
          }
        }],
        ['answer lost', async () => {
          emulator.setFaults({ lostResponseRate: 1 });
          try {
            return await api.createInvite(TARGET, { email: 'Lost.Answer@Example.com', role: 'view' });
          } finally {
            emulator.setFaults({ lostResponseRate: 0 });
          }
        }],
        ['bad request', () => api.createInvite(TARGET, { email: 'not an email', role: 'view' })],
      ];
      for (const [what, attempt] of attempts) {
        try {
          await attempt();
        } catch (err) {
          // what a handler does with such an error: log it, and keep the message
          errors.push(`${what}: ${(err as Error).message}`);
          log.error('losant call failed', { what, error: (err as Error).message, errorName: (err as Error).name });
        }
      }
      metrics.publishStoredMetrics();

      // Assess
      const output = capture.text();
      expect(statuses).toEqual([202, 401, 400]);
      expect(errors.map((e) => e.split(':')[0])).toEqual(['closed port', 'wrong token', 'always 503', 'bad request']);
      expect(output).toMatch(/"level":"DEBUG"/);
      expect(output).toMatch(/webhook rejected/);
      // positive control: addresses do reach the output, masked
      expect(output).toMatch(/[a-z]\*\*\*@[a-z]\*\*\*\./i);
      expect(findLeaks(output, SECRETS)).toEqual([]);
      expect(findLeaks(errors.join('\n'), SECRETS)).toEqual([]);
    } finally {
      capture.restore();
      for (const c of clients) await c.close();
      ddb.destroy();
    }
  });
});
