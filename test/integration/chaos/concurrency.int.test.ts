// chaos --> schedule (runSync and the schedule handler's queue), signed webhooks (serve over HTTP) and the CLI
// on one target at once --> one POST per missing email; an HR change landing mid-run is never dropped
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../../emulator/index.ts';
import { LosantClient } from '../../../functions/losant/client.ts';
import { DynamoStateStore } from '../../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../../functions/state/table-design.ts';
import { parseSyncConfig, type SyncConfig } from '../../../functions/config/sync-config.schema.ts';
import { runSync, type SyncDeps } from '../../../functions/sync/reconcile.ts';
import { ingestHrEvent } from '../../../functions/sync/ingest.ts';
import { toPerson } from '../../../functions/sync/people.ts';
import { handleSchedule } from '../../../functions/handlers/schedule.handler.ts';
import { signWebhook } from '../../../functions/handlers/webhook-signature.ts';
import { startServeApp, type ServeApp } from '../../../cli/commands/serve.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../../helpers/dynamo.ts';
import { memoryLog } from '../../helpers/sync-harness.ts';
import { chaosCount, faultFigures, inviteCounts, seededRandom, startIntentProxy, type IntentProxy } from '../../helpers/chaos.ts';
import { runCli } from '../../helpers/cli.ts';

const target = { instanceId: DEFAULT_ID, orgId: DEFAULT_ID };
const WEBHOOK_KEY = `whsec_${randomBytes(32).toString('base64')}`;
const CONFIG = {
  targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' as const }] }],
  leaseSeconds: 10,
  concurrency: 2,
  limits: { minSizeForFraction: 100_000 },
};

interface World {
  emulator: RunningEmulator;
  ddb: DynamoDBClient;
  table: string;
  proxy: IntentProxy;
  api: LosantClient;
  store: DynamoStateStore;
  config: SyncConfig;
  deps: SyncDeps;
  app: ServeApp;
  webhookUrl: string;
}

let dir: string;
let world: World | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'invite-sync-conc-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  if (!world) return;
  await world.app.stop();
  await world.api.close();
  await world.proxy.close();
  await world.emulator.close();
  world.ddb.destroy();
  world = undefined;
});

async function build(latencyMs: number): Promise<World> {
  const emulator = await startEmulator({ port: 0, latencyMs });
  const ddb = localDynamoClient();
  const table = uniqueTableName('conc');
  await createTableIfMissing(ddb, table);
  const proxy = await startIntentProxy({ upstream: emulator.url, client: ddb, tableName: table, target });
  const store = new DynamoStateStore({ tableName: table, client: ddb });
  const log = memoryLog();
  const api = new LosantClient({ baseUrl: proxy.url, token: DEFAULT_TOKEN, log });
  const config = parseSyncConfig(CONFIG);
  const deps: SyncDeps = { api, store, clock: { now: () => Date.now() }, log };
  const app = startServeApp({ config, api, store, clock: deps.clock, log, webhookSecret: WEBHOOK_KEY });
  const { port } = await app.listen(0, '127.0.0.1');
  return { emulator, ddb, table, proxy, api, store, config, deps, app, webhookUrl: `http://127.0.0.1:${port}/webhook` };
}

async function storeRoster(w: World, emails: string[]): Promise<void> {
  await ingestHrEvent(
    w.deps,
    { id: `snap-${randomUUID()}`, type: 'roster.snapshot', occurredAt: new Date().toISOString(), source: 'default', people: emails.map((email) => toPerson({ email })) },
    { targets: w.config.targets },
  );
}

/** A signed `person.upserted` webhook for a new hire, over real HTTP to serve; resolves with the status. */
async function hire(w: World, email: string): Promise<number> {
  const body = JSON.stringify({ id: `evt-${randomUUID()}`, type: 'person.upserted', occurredAt: new Date().toISOString(), source: 'default', person: { email } });
  const res = await fetch(w.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signWebhook(WEBHOOK_KEY, `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body) },
    body,
  });
  await res.text();
  return res.status;
}

function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'eu-central-1',
    resources: ['arn:aws:events:eu-central-1:123456789012:rule/invite-sync-test-schedule'],
    detail: {},
  };
}

/** POSTs per email as they reached Losant (through the proxy). */
function postsPerEmail(w: World): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of w.proxy.posts) m.set(p.email, (m.get(p.email) ?? 0) + 1);
  return m;
}

describe('Function: reconcile triggers racing on one target', () => {
  it('sends exactly one POST per missing email when the schedule, a webhook and the CLI apply run at once', async () => {
    // Arrange
    world = await build(10);
    const w = world;
    const emails = Array.from({ length: chaosCount(60, 200) }, (_, i) => `race${i}@example.com`);
    await storeRoster(w, emails);
    const configFile = join(dir, `config-${w.table}.json`);
    await writeFile(configFile, JSON.stringify(CONFIG));
    const env = { LOSANT_API_URL: w.proxy.url, LOSANT_API_TOKEN: DEFAULT_TOKEN, DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: w.table };

    // Act: all four at once
    const [scheduled, queued, hired, cli] = await Promise.all([
      runSync(w.deps, w.config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + 60_000, waitForLeaseMs: 30_000 }),
      handleSchedule(scheduledEvent(), w.app.container),
      hire(w, 'race-hire@example.com'),
      runCli(['apply', '--config', configFile, '--json', '--wait', '30'], env),
    ]);
    const drained = await w.app.stop();

    // Assess
    const wanted = [...emails, 'race-hire@example.com'].sort();
    const perEmail = postsPerEmail(w);
    console.log(
      `[chaos] concurrency: ${wanted.length} missing; schedule run done ${scheduled.targets[0]?.done.invite}, ` +
        `CLI exit ${cli.code} done ${(JSON.parse(cli.stdout || '{}') as { targets?: { done: { invite: number } }[] }).targets?.[0]?.done.invite ?? '?'}, ` +
        `webhook ${hired}, queued ${queued.queued}; POSTs ${w.proxy.posts.length}, duplicates ${faultFigures(w.emulator).duplicateInvites}`,
    );
    expect(hired).toBe(202);
    expect(drained).toBe(true);
    expect(cli.code).toBe(0);
    expect(scheduled.complete).toBe(true);
    expect([...perEmail.keys()].sort()).toEqual(wanted);
    expect([...perEmail.values()].every((n) => n === 1)).toBe(true);
    expect(w.proxy.posts.every((p) => p.ledgerState === 'intent')).toBe(true);
    expect([...inviteCounts(w.emulator, target).keys()].sort()).toEqual(wanted);
    expect(faultFigures(w.emulator).duplicateInvites).toBe(0);
  }, 120_000);

  it('applies HR changes that land during a run before it lets the lease go, and one landing after it by the next run', async () => {
    // Arrange: a run slow enough to land hires in the middle of it, at seeded points
    world = await build(15);
    const w = world;
    const emails = Array.from({ length: chaosCount(100, 250) }, (_, i) => `mid${i}@example.com`);
    await storeRoster(w, emails);
    const random = seededRandom(31);
    const points = Array.from({ length: 5 }, () => Math.floor(random() * emails.length * 0.8)).sort((a, b) => a - b);
    const hires = points.map((_, i) => `mid-hire${i}@example.com`);

    // Act
    const running = runSync(w.deps, w.config, { mode: 'apply', trigger: 'schedule', deadline: Date.now() + 60_000 });
    const statuses: number[] = [];
    /** hires whose webhook was answered while the run was still sending its POSTs */
    const landedDuring: string[] = [];
    for (const [i, point] of points.entries()) {
      while (w.proxy.posts.length < point) await new Promise((r) => setTimeout(r, 5));
      statuses.push(await hire(w, hires[i]!));
      if (w.proxy.posts.length < emails.length) landedDuring.push(hires[i]!);
    }
    const report = await running;
    const invitedByTheRun = hires.filter((e) => inviteCounts(w.emulator, target).has(e));
    statuses.push(await hire(w, 'after-hire@example.com'));
    const drained = await w.app.stop();

    // Assess
    console.log(`[chaos] mid-run changes: hires at POST #${points.join(', #')}; ${landedDuring.length} landed mid-run; the run invited ${report.targets[0]?.done.invite} (${invitedByTheRun.length} of ${hires.length} hires) before releasing`);
    expect(statuses.every((s) => s === 202)).toBe(true);
    expect(landedDuring.length).toBeGreaterThanOrEqual(3);
    expect(report.complete).toBe(true);
    expect(invitedByTheRun).toEqual(expect.arrayContaining(landedDuring));
    expect(drained).toBe(true);
    const counts = inviteCounts(w.emulator, target);
    expect([...counts.keys()].sort()).toEqual([...emails, ...hires, 'after-hire@example.com'].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect([...postsPerEmail(w).values()].every((n) => n === 1)).toBe(true);
    expect(faultFigures(w.emulator).duplicateInvites).toBe(0);
  }, 120_000);
});
