// Issue 16 (stale-source guard, the sources map at ingest): the Lambda handlers through the real composition root
// over DynamoDB Local and the Losant emulator (real HTTP); the CLI's approve as a child process on the same table.
import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, EventBridgeEvent } from 'aws-lambda';
import { DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import type { Container } from '../../functions/runtime/composition-root.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import { signWebhook } from '../../functions/handlers/webhook-signature.ts';
import type { JsonResult } from '../../functions/handlers/http.ts';
import { ingestHrEvent } from '../../functions/sync/ingest.ts';
import { InputError } from '../../functions/sync/errors.ts';
import { dynamoEndpoint } from '../helpers/dynamo.ts';
import { runCli } from '../helpers/cli.ts';
import { lambdaHost } from '../helpers/lambda-host.ts';
import { fixture } from '../helpers/fixtures.ts';

const WEBHOOK_KEY = `whsec_${Buffer.from('a-webhook-key-of-thirty-two-byte').toString('base64')}`;
const HTTP = fixture<APIGatewayProxyEventV2>('lambda/http-api-webhook.json');
const EVENT_BRIDGE = fixture<EventBridgeEvent<string, Record<string, unknown>>>('lambda/eventbridge-hr-event.json');
const SCHEDULED = fixture<Record<string, unknown>>('lambda/eventbridge-scheduled.json');
const LAMBDA_CONTEXT = { getRemainingTimeInMillis: () => 120_000 };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const SOURCES = {
  'bus-only': { via: ['event'] },
  'hook-only': { via: ['webhook'] },
  watched: { maxChangeFraction: 0.2 },
  quiet: { maxSilenceHours: 1 },
  chatty: { maxSilenceHours: 1 },
};

const host = lambdaHost({
  name: 'source-guards',
  config: { targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] }], sources: SOURCES, people: { startDateField: 'startDate' } },
  webhookKey: WEBHOOK_KEY,
});
const { log, metricTotal } = host;
let emulator: RunningEmulator;
let taskRoot: string;
let table: string;
let c: Container;

host.hooks((started) => ({ emulator, taskRoot, table, container: c } = started));

const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
const isoIn = (ms: number): string => new Date(Date.now() + ms).toISOString();
const cliEnv = (): Record<string, string> => ({ DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table });

async function webhook(doc: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify(doc);
  const event = structuredClone(HTTP);
  event.headers = { ...event.headers, ...signWebhook(WEBHOOK_KEY, `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body), 'content-length': String(Buffer.byteLength(body)) };
  event.body = body;
  const res = (await dispatch(event, LAMBDA_CONTEXT, c)) as JsonResult;
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

async function bus(detail: Record<string, unknown>): Promise<Record<string, unknown>> {
  const event = { ...structuredClone(EVENT_BRIDGE), id: randomUUID(), 'detail-type': String(detail.type), detail };
  return (await dispatch(event, LAMBDA_CONTEXT, c)) as Record<string, unknown>;
}

async function peopleOf(source: string) {
  return (await c.store.listPeople()).filter((p) => p.source === source).sort((a, b) => a.email.localeCompare(b.email));
}

const engineers = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ email: `${tag}.${i}@example.com`, department: 'Engineering' }));

describe('Function: handler (stale snapshots are held, approve --run releases them)', () => {
  it('returns 202 blocked staleSnapshot for a snapshot 73 hours old, stores nothing, and approve --run stores its people with their own occurredAt', async () => {
    // Arrange: a source with one person; its next snapshot is an export from 73 hours ago (the default limit is 72)
    const source = unique('hr');
    await webhook({ id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(-80 * HOUR), source, person: { email: 'old@example.com', department: 'Engineering' } });
    const staleAt = isoIn(-73 * HOUR);
    const people = [{ email: 'kept@example.com', department: 'Engineering' }, { email: 'new@example.com', department: 'Engineering' }];

    // Act
    const held = await webhook({ id: unique('evt'), type: 'roster.snapshot', occurredAt: staleAt, source, people });
    const whileHeld = await peopleOf(source);
    const runId = String(held.body.runId);
    const run = await c.store.getRun(runId);
    const approved = await runCli(['approve', '--run', runId, '--yes', '--json'], cliEnv());
    const again = await runCli(['approve', '--run', runId, '--yes'], cliEnv());

    // Assess
    expect(held).toMatchObject({ status: 202, body: { status: 'blocked', blocked: 'staleSnapshot', touched: 0 } });
    expect(whileHeld.map((p) => [p.email, p.leftSource])).toEqual([['old@example.com', false]]);
    expect(run).toMatchObject({ runId, complete: false, held: { source, code: 'staleSnapshot', occurredAt: staleAt, people: 2 }, targets: [{ name: 'eng', blocked: 'staleSnapshot' }] });
    expect(metricTotal('RunsBlocked')).toBe(1);
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ runId, approved: ['eng'], snapshot: { source, occurredAt: staleAt, code: 'staleSnapshot', people: 2, upserted: 2, left: 1 } });
    expect((await peopleOf(source)).map((p) => [p.email, p.leftSource, p.lastEventAt])).toEqual([
      ['kept@example.com', false, staleAt],
      ['new@example.com', false, staleAt],
      ['old@example.com', true, staleAt],
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already released');
  });

  it('applies a snapshot 71 hours old at once (inside the default 72 hours)', async () => {
    // Arrange
    const source = unique('hr');
    const at = isoIn(-71 * HOUR);

    // Act
    const res = await webhook({ id: unique('evt'), type: 'roster.snapshot', occurredAt: at, source, people: [{ email: 'fresh@example.com', department: 'Engineering' }] });

    // Assess
    expect(res).toMatchObject({ status: 202, body: { status: 'applied', touched: 1 } });
    expect((await peopleOf(source)).map((p) => p.email)).toEqual(['fresh@example.com']);
  });

  it('holds a stale two-part snapshot once its last part arrives, and approve --run stores both parts', async () => {
    // Arrange
    const source = unique('hr');
    const snapshotId = unique('snap');
    const at = isoIn(-100 * HOUR);
    const part = (n: number) => ({ id: unique('evt'), type: 'roster.snapshot', occurredAt: at, source, snapshotId, part: n, parts: 2, people: [{ email: `p${n}@example.com`, department: 'Engineering' }] });

    // Act
    const first = await webhook(part(1));
    const second = await webhook(part(2));
    const whileHeld = await peopleOf(source);
    const approved = await runCli(['approve', '--run', String(second.body.runId), '--yes'], cliEnv());

    // Assess
    expect(first.body).toMatchObject({ status: 'partial' });
    expect(second.body).toMatchObject({ status: 'blocked', blocked: 'staleSnapshot' });
    expect(whileHeld).toEqual([]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('held back a snapshot of 2 people (staleSnapshot');
    expect(approved.stdout).toContain(`stored the held snapshot of ${source} (2 people: 2 upserted, 0 left)`);
    expect((await peopleOf(source)).map((p) => [p.email, p.lastEventAt])).toEqual([['p1@example.com', at], ['p2@example.com', at]]);
  });

  it('holds a fresh snapshot whose age is unknown (ageUnknown) as staleSnapshot', async () => {
    // Arrange
    const source = unique('drop');
    const event = { id: unique('evt'), type: 'roster.snapshot' as const, occurredAt: isoIn(-MINUTE), source, people: [{ email: 'x@example.com', status: 'active' as const, attributes: { department: 'Engineering' } }] };

    // Act
    const r = await ingestHrEvent(c, event, { targets: c.config.targets, ageUnknown: true, sources: c.config.sources });

    // Assess
    expect(r).toMatchObject({ status: 'blocked', blocked: 'staleSnapshot', touched: [] });
    expect(await peopleOf(source)).toEqual([]);
  });
});

describe('Function: handler (sources.<name>.via)', () => {
  it('returns 400 naming source for a webhook delivery of a source fed only by the event bus, stores nothing and counts EventsRejected', async () => {
    // Arrange
    const doc = { id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(-MINUTE), source: 'bus-only', person: { email: 'via@example.com', department: 'Engineering' } };

    // Act
    const refused = await webhook(doc);
    const overBus = await bus({ ...doc, id: unique('evt') });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe('source: source "bus-only" does not accept webhook deliveries (sources.bus-only.via: event)');
    expect(refused.body.issues).toEqual([{ path: 'source', message: expect.stringContaining('does not accept webhook') }]);
    expect(metricTotal('EventsRejected')).toBe(1);
    expect(overBus).toMatchObject({ status: 'applied' });
    expect((await peopleOf('bus-only')).map((p) => p.email)).toEqual(['via@example.com']);
  });

  it('answers invalid naming source for an EventBridge delivery of a source fed only by the webhook', async () => {
    // Act
    const res = await bus({ id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(-MINUTE), source: 'hook-only', person: { email: 'bus@example.com' } });

    // Assess
    expect(res).toMatchObject({ status: 'invalid', issues: [{ path: 'source' }] });
    expect(await peopleOf('hook-only')).toEqual([]);
  });

  it.each(['apply', 'plan'])('exits 2 with one line naming source when %s --roster feeds a source that does not accept cli (plan refuses what apply would)', async (verb) => {
    // Arrange
    const config = join(taskRoot, 'sync-config.json');
    const roster = join(taskRoot, 'via.csv');
    await writeFile(roster, 'email,department\ncli@example.com,Engineering\n');

    // Act
    const res = await runCli([verb, '--config', config, '--roster', roster, '--source', 'hook-only'], { ...cliEnv(), LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN });

    // Assess
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/source "hook-only" does not accept cli deliveries \(sources\.hook-only\.via: webhook\)/);
    expect(await peopleOf('hook-only')).toEqual([]);
  });

  it('throws InputError naming source from ingestHrEvent for channel s3 on a source that did not opt in', async () => {
    // Arrange
    const event = { id: unique('evt'), type: 'roster.snapshot' as const, occurredAt: isoIn(-MINUTE), source: unique('hr'), people: [] };

    // Act
    const err = await ingestHrEvent(c, event, { targets: c.config.targets, channel: 's3' }).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).issues.map((i) => i.path)).toEqual(['source']);
  });
});

describe('Function: handler (sources.<name>.maxChangeFraction)', () => {
  it('holds a snapshot changing more than 20% of the source as sourceChangeFraction; one within it applies; approve --run stores the held one', async () => {
    // Arrange: 10 active people in `watched`
    const base = engineers(10, unique('w'));
    const first = await webhook({ id: unique('evt'), type: 'roster.snapshot', occurredAt: isoIn(-30 * MINUTE), source: 'watched', people: base });
    // 2 of 10 leave: exactly 20%, not more
    const within = await webhook({ id: unique('evt'), type: 'roster.snapshot', occurredAt: isoIn(-20 * MINUTE), source: 'watched', people: base.slice(2) });
    // 2 more leave and one changes department: 3 of 8 active
    const changed = [...base.slice(4, 9), { ...base[9]!, department: 'Sales' }];
    const tooMuchAt = isoIn(-10 * MINUTE);

    // Act
    const held = await webhook({ id: unique('evt'), type: 'roster.snapshot', occurredAt: tooMuchAt, source: 'watched', people: changed });
    const whileHeld = (await peopleOf('watched')).filter((p) => !p.leftSource).length;
    const approved = await runCli(['approve', '--run', String(held.body.runId), '--yes', '--json'], cliEnv());

    // Assess
    expect(first.body).toMatchObject({ status: 'applied' });
    expect(within.body).toMatchObject({ status: 'applied' });
    expect(held.body).toMatchObject({ status: 'blocked', blocked: 'sourceChangeFraction' });
    expect(whileHeld).toBe(8);
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ snapshot: { code: 'sourceChangeFraction', people: 6, upserted: 1, left: 2, unchanged: 5 } });
    const after = await peopleOf('watched');
    expect(after.filter((p) => !p.leftSource).length).toBe(6);
    expect(after.find((p) => p.email === base[9]!.email)?.attributes).toMatchObject({ department: 'Sales' });
  });
});

describe('Function: handler (sources.<name>.maxSilenceHours)', () => {
  it('counts SourceSilent for a watched source whose last delivery is older than maxSilenceHours; a duplicate counts as a delivery', async () => {
    // Arrange: both sources delivered 2 hours ago (an injected clock); `chatty` then resends the same event now
    const twoHoursAgo = { now: () => Date.now() - 2 * HOUR };
    const event = (source: string) => ({ id: `old-${source}`, type: 'person.upserted' as const, occurredAt: isoIn(-3 * HOUR), source, person: { email: `${source}@example.com`, status: 'active' as const, attributes: {} } });
    await ingestHrEvent({ ...c, clock: twoHoursAgo }, event('quiet'), { targets: c.config.targets });
    await ingestHrEvent({ ...c, clock: twoHoursAgo }, event('chatty'), { targets: c.config.targets });
    const duplicate = await ingestHrEvent(c, event('chatty'), { targets: c.config.targets });
    const lines = log.lines.length;

    // Act
    const scheduled = await dispatch(structuredClone(SCHEDULED), LAMBDA_CONTEXT, c);

    // Assess
    expect(duplicate.status).toBe('duplicate');
    expect(scheduled).toMatchObject({ queued: 1 });
    expect(metricTotal('SourceSilent')).toBe(1);
    const silent = log.lines.slice(lines).filter((l) => l.includes('HR source silent'));
    expect(silent).toHaveLength(1);
    expect(silent[0]).toContain('"source":"quiet"');
    expect(silent[0]).toMatch(/"ageHours":2(\.0)?[,}]/);
  });

  it('shows each source with its last delivery and age in plan --json and plan', async () => {
    // Arrange
    const config = join(taskRoot, 'sync-config.json');
    const env = { ...cliEnv(), LOSANT_API_URL: emulator.url, LOSANT_API_TOKEN: DEFAULT_TOKEN };
    const before = Date.now();
    await webhook({ id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(-MINUTE), source: 'chatty', person: { email: 'chatty@example.com' } });

    // Act
    const json = await runCli(['plan', '--config', config, '--json'], env);
    const text = await runCli(['plan', '--config', config], env);

    // Assess
    expect(json.code).toBe(0);
    const sources = (JSON.parse(json.stdout) as { sources: { source: string; lastDeliveryAt?: string; ageHours?: number; silent: boolean }[] }).sources;
    const chatty = sources.find((s) => s.source === 'chatty')!;
    expect(Date.parse(chatty.lastDeliveryAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(chatty).toMatchObject({ ageHours: 0, maxSilenceHours: 1, silent: false });
    expect(sources.find((s) => s.source === 'quiet')).toMatchObject({ ageHours: expect.any(Number), silent: true });
    expect(sources.find((s) => s.source === 'watched')).toMatchObject({ silent: false });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Sources:$/m);
    expect(text.stdout).toMatch(/^ {2}chatty +last delivery \S+ \(0 h ago\), maxSilenceHours 1$/m);
    expect(text.stdout).toMatch(/^ {2}quiet +last delivery \S+ \(2(\.\d)? h ago\), maxSilenceHours 1 {2}SILENT$/m);
  });
});

describe('Function: handler (people.startDateField)', () => {
  it('returns 400 naming person.startDate for a date not in YYYY-MM-DD and stores nothing; a termination with it lands', async () => {
    // Arrange
    const source = unique('hr');
    const person = { email: 'hire@example.com', department: 'Engineering', startDate: '01/02/2031' };

    // Act
    const refused = await webhook({ id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(-MINUTE), source, person });
    const terminated = await webhook({ id: unique('evt'), type: 'person.terminated', occurredAt: isoIn(-MINUTE), source, person });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ message: 'person.startDate: must be a date YYYY-MM-DD (got "01/02/2031")', issues: [{ path: 'person.startDate' }] });
    expect(terminated).toMatchObject({ status: 202, body: { status: 'applied' } });
    expect((await peopleOf(source)).map((p) => p.status)).toEqual(['terminated']);
  });
});
