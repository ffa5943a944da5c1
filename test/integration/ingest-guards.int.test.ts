// Issue "Never a wrong invite", ingest side, where users hit it: the Lambda handlers through the real composition
// root over DynamoDB Local and the Losant emulator (real HTTP); Secrets Manager and SQS are real SDK clients
// answered in their middleware stack.
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_ID, type RunningEmulator } from '../../emulator/index.ts';
import type { Container } from '../../functions/runtime/composition-root.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import { signWebhook } from '../../functions/handlers/webhook-signature.ts';
import type { JsonResult } from '../../functions/handlers/http.ts';
import { dynamoEndpoint } from '../helpers/dynamo.ts';
import { runCli } from '../helpers/cli.ts';
import { memoryLog } from '../helpers/sync-harness.ts';
import { lambdaHost } from '../helpers/lambda-host.ts';
import { fixture } from '../helpers/fixtures.ts';

const WEBHOOK_KEY = `whsec_${Buffer.from('a-webhook-key-of-thirty-two-byte').toString('base64')}`;
/** 16 bytes: what a hurried operator pastes; Standard Webhooks asks for 24 to 64 */
const WEAK_KEY = `whsec_${Buffer.from('sixteen-byte-key').toString('base64')}`;
const FIXTURES = {
  http: fixture<APIGatewayProxyEventV2>('lambda/http-api-webhook.json'),
  eventBridge: fixture<EventBridgeEvent<string, Record<string, unknown>>>('lambda/eventbridge-hr-event.json'),
  scheduled: fixture<Record<string, unknown>>('lambda/eventbridge-scheduled.json'),
  sqs: fixture<SQSEvent>('lambda/sqs-reconcile.json'),
};
const LAMBDA_CONTEXT = { getRemainingTimeInMillis: () => 120_000 };
const MINUTE = 60_000;

const host = lambdaHost({
  name: 'ingest-guards',
  config: { targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] }] },
  webhookKey: WEBHOOK_KEY,
});
const { sent, metricTotal } = host;
const weakLog = memoryLog();
let emulator: RunningEmulator;
let dynamo: DynamoDBClient;
let table: string;
/** the container with a strong key */
let c: Container;
/** the same table and config, a WEBHOOK_SECRET of 16 bytes */
let weak: Container;

host.hooks(async (started) => {
  ({ emulator, dynamo, table, container: c } = started);
  weak = await host.build({ webhookKey: WEAK_KEY, log: weakLog });
});

const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
const isoIn = (ms: number): string => new Date(Date.now() + ms).toISOString();

function webhookRequest(doc: unknown, key = WEBHOOK_KEY): APIGatewayProxyEventV2 {
  const body = JSON.stringify(doc);
  const event = structuredClone(FIXTURES.http);
  event.headers = { ...event.headers, ...signWebhook(key, `msg_${randomUUID()}`, Math.floor(Date.now() / 1000), body), 'content-length': String(Buffer.byteLength(body)) };
  event.body = body;
  return event;
}

async function webhook(doc: unknown, container: Container = c): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = (await dispatch(webhookRequest(doc), LAMBDA_CONTEXT, container)) as JsonResult;
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

function sqsEvent(messages: { target: string; reason: string }[]): SQSEvent {
  const template = FIXTURES.sqs.Records[0]!;
  return { Records: messages.map((m) => ({ ...structuredClone(template), messageId: randomUUID(), body: JSON.stringify(m) })) };
}

async function peopleOf(source: string) {
  return (await c.store.listPeople()).filter((p) => p.source === source);
}

describe('Function: handler (webhook signing key strength)', () => {
  it('returns 503 misconfigured with one log line and WebhookMisconfigured for a 16-byte key; schedule and queue paths go on', async () => {
    // Arrange
    const email = `weak.${randomUUID().slice(0, 6)}@example.com`;
    const doc = { id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(-MINUTE), source: unique('hr'), person: { email, department: 'Engineering' } };
    const linesBefore = weakLog.lines.length;

    // Act
    const res = (await dispatch(webhookRequest(doc), LAMBDA_CONTEXT, weak)) as JsonResult;
    const scheduled = (await dispatch(structuredClone(FIXTURES.scheduled), LAMBDA_CONTEXT, weak)) as { queued: number };
    const batch = (await dispatch(sqsEvent(sent), LAMBDA_CONTEXT, weak)) as SQSBatchResponse;

    // Assess
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ error: 'misconfigured' });
    const newLines = weakLog.lines.slice(linesBefore);
    expect(newLines.filter((l) => /misconfigured/.test(l))).toHaveLength(1);
    expect(newLines.join('\n')).not.toContain(WEAK_KEY.slice('whsec_'.length));
    expect(metricTotal('WebhookMisconfigured')).toBe(1);
    expect((await peopleOf(doc.source)).map((p) => p.email)).toEqual([]);
    expect(scheduled.queued).toBe(1);
    expect(batch.batchItemFailures).toEqual([]);
  });
});

describe('Function: handler (reserved names in events)', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('returns 400 naming person.%s, stores nothing and records no delivery', async (name) => {
    // Arrange: written as text, so `__proto__` is a real key of the body
    const source = unique('hr');
    const id = unique('evt');
    const text = `{"id":"${id}","type":"person.upserted","occurredAt":"${isoIn(-MINUTE)}","source":"${source}","person":{"email":"r@example.com","${name}":"x"}}`;

    // Act
    const res = await webhook(JSON.parse(text));

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(`person.${name}: is a reserved name (__proto__, constructor, prototype) and cannot be used`);
    expect(await peopleOf(source)).toEqual([]);
    expect(sent).toEqual([]);
  });
});

describe('Function: handler (occurredAt bounded)', () => {
  it('returns 400 naming occurredAt for an event 10 minutes ahead, stores nothing, counts EventsRejected, and processes the corrected resend', async () => {
    // Arrange
    const source = unique('hr');
    const id = unique('evt');
    const person = { email: 'future@example.com', department: 'Engineering' };
    const ahead = { id, type: 'person.upserted', occurredAt: isoIn(10 * MINUTE), source, person };

    // Act
    const refused = await webhook(ahead);
    const peopleAfterRefusal = await peopleOf(source);
    const corrected = await webhook({ ...ahead, occurredAt: isoIn(-MINUTE) });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^occurredAt: more than 5 minutes in the future/);
    expect(peopleAfterRefusal).toEqual([]);
    expect(metricTotal('EventsRejected')).toBe(1);
    expect(corrected.status).toBe(202);
    expect(corrected.body.status).toBe('applied');
    expect((await peopleOf(source)).map((p) => p.email)).toEqual(['future@example.com']);
    // the WebhookRejections alarm's own counts: one refused, one accepted
    expect([metricTotal('WebhookRejected'), metricTotal('WebhookAccepted')]).toEqual([1, 1]);
  });

  it('returns applied for an event 4 minutes ahead (clock skew within 5 minutes)', async () => {
    // Arrange
    const source = unique('hr');

    // Act
    const res = await webhook({ id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(4 * MINUTE), source, person: { email: 'skew@example.com' } });

    // Assess
    expect(res.status).toBe(202);
    expect((await peopleOf(source)).map((p) => p.email)).toEqual(['skew@example.com']);
  });
});

describe('Function: handler (multi-part snapshots)', () => {
  it('returns 400 naming parts for a part whose parts disagrees; the snapshot completes with its right parts', async () => {
    // Arrange
    const source = unique('hr');
    const snapshotId = unique('snap');
    const at = isoIn(-MINUTE);
    const part = (n: number, parts: number, email: string) => ({
      id: unique('evt'), type: 'roster.snapshot', occurredAt: at, source, snapshotId, part: n, parts, people: [{ email, department: 'Engineering' }],
    });

    // Act
    const first = await webhook(part(1, 2, 'one@example.com'));
    const wrong = await webhook(part(2, 3, 'wrong@example.com'));
    const wrongAgain = await webhook(part(3, 3, 'wrong@example.com'));
    const second = await webhook(part(2, 2, 'two@example.com'));

    // Assess
    expect(first).toMatchObject({ status: 202, body: { status: 'partial' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/^parts: must be 2/);
    expect(wrongAgain.status).toBe(400);
    expect(second).toMatchObject({ status: 202, body: { status: 'applied' } });
    expect((await peopleOf(source)).map((p) => p.email).sort()).toEqual(['one@example.com', 'two@example.com']);
    expect(metricTotal('EventsRejected')).toBe(2);
  });
});

describe('Function: handler (delivery identity is (source, id))', () => {
  it('returns applied for the same event id from two HR sources and stores both people', async () => {
    // Arrange
    const id = unique('evt');
    const [a, b] = [unique('hr-a'), unique('hr-b')];
    const event = (source: string, email: string) => ({ id, type: 'person.upserted', occurredAt: isoIn(-MINUTE), source, person: { email } });

    // Act
    const first = await webhook(event(a, 'first@example.com'));
    const second = await webhook(event(b, 'second@example.com'));
    const replay = await webhook(event(b, 'second@example.com'));

    // Assess
    expect(first.body.status).toBe('applied');
    expect(second.body.status).toBe('applied');
    expect(replay).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    expect((await peopleOf(a)).map((p) => p.email)).toEqual(['first@example.com']);
    expect((await peopleOf(b)).map((p) => p.email)).toEqual(['second@example.com']);
  });

  it('returns duplicate for an event whose id the landed version recorded (raw item pk DELIVERY#<id>, sk -)', async () => {
    // Arrange: the item as the landed version wrote it, without the store
    const id = unique('evt');
    const source = unique('hr');
    await dynamo.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `DELIVERY#${id}` }, sk: { S: '-' }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) } } }));

    // Act
    const res = await webhook({ id, type: 'person.upserted', occurredAt: isoIn(-MINUTE), source, person: { email: 'landed@example.com' } });

    // Assess
    expect(res).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    expect(await peopleOf(source)).toEqual([]);
  });
});

describe('Function: handler (identity resolves one way)', () => {
  const upsert = (source: string, person: Record<string, string>, at: string, type = 'person.upserted') => ({ id: unique('evt'), type, occurredAt: at, source, person });

  it('terminates the person stored by employeeId when the termination names their email alone', async () => {
    // Arrange
    const source = unique('hr');
    await webhook(upsert(source, { email: 'Ann@Example.com', employeeId: 'E1', department: 'Engineering' }, isoIn(-3 * MINUTE)));

    // Act
    const res = await webhook(upsert(source, { email: 'ann@example.com' }, isoIn(-2 * MINUTE), 'person.terminated'));

    // Assess
    expect(res).toMatchObject({ status: 202, body: { status: 'applied' } });
    expect((await peopleOf(source)).map((p) => [p.identity, p.status])).toEqual([['emp:E1', 'terminated']]);
  });

  it('merges a person stored by email into one record when an upsert adds the employeeId', async () => {
    // Arrange
    const source = unique('hr');
    await webhook(upsert(source, { email: 'bo@example.com', department: 'Engineering' }, isoIn(-3 * MINUTE)));

    // Act
    await webhook(upsert(source, { email: 'bo@example.com', employeeId: 'E2', department: 'Engineering' }, isoIn(-2 * MINUTE)));

    // Assess
    expect((await peopleOf(source)).map((p) => [p.identity, p.employeeId])).toEqual([['emp:E2', 'E2']]);
  });

  it('returns 400 naming person.email for a second active person with one email, counts EventsRejected, and processes the corrected resend', async () => {
    // Arrange
    const source = unique('hr');
    await webhook(upsert(source, { email: 'cy@example.com', employeeId: 'E3' }, isoIn(-3 * MINUTE)));
    const clash = upsert(source, { email: 'cy@example.com', employeeId: 'E4' }, isoIn(-2 * MINUTE));

    // Act
    const refused = await webhook(clash);
    const corrected = await webhook({ ...clash, person: { email: 'cy.two@example.com', employeeId: 'E4' } });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^person\.email: another active person of this source has this email/);
    expect(metricTotal('EventsRejected')).toBe(1);
    expect(corrected).toMatchObject({ status: 202, body: { status: 'applied' } });
    expect((await peopleOf(source)).map((p) => p.email).sort()).toEqual(['cy.two@example.com', 'cy@example.com']);
  });

  it('invites nobody for an email whose newest record, in another source, is a termination', async () => {
    // Arrange: active in one source, terminated later in another
    const email = `dee.${randomUUID().slice(0, 6)}@example.com`;
    await webhook(upsert(unique('hr'), { email, department: 'Engineering' }, isoIn(-3 * MINUTE)));
    await webhook(upsert(unique('contractors'), { email, department: 'Engineering' }, isoIn(-2 * MINUTE), 'person.terminated'));

    // Act: the queued reconcile
    const batch = (await dispatch(sqsEvent(sent.splice(0)), LAMBDA_CONTEXT, c)) as SQSBatchResponse;

    // Assess
    expect(batch.batchItemFailures).toEqual([]);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email.toLowerCase())).not.toContain(email);
  });

  it('returns stale for a single-person event older than a snapshot that listed the person unchanged', async () => {
    // Arrange: stored at -10 min, listed unchanged by a snapshot at -5 min
    const source = unique('hr');
    const person = { email: 'eve@example.com', employeeId: 'E5', department: 'Engineering' };
    await webhook(upsert(source, person, isoIn(-10 * MINUTE)));
    const snapshotAt = isoIn(-5 * MINUTE);
    const snapshot = await webhook({ id: unique('evt'), type: 'roster.snapshot', occurredAt: snapshotAt, source, people: [person] });

    // Act: a termination dated between the two
    const res = await webhook(upsert(source, person, isoIn(-7 * MINUTE), 'person.terminated'));

    // Assess
    expect(snapshot.body).toMatchObject({ status: 'applied' });
    expect(res).toMatchObject({ status: 202, body: { status: 'stale' } });
    expect((await peopleOf(source)).map((p) => [p.status, p.lastEventAt])).toEqual([['active', snapshotAt]]);
  });
});

describe('Function: handler (empty snapshots are held, approve --run releases them)', () => {
  it('returns 202 blocked with a runId and stores nothing; RunsBlocked counts it; approve --run stores it with its own occurredAt', async () => {
    // Arrange: a source with one person
    const source = unique('hr');
    await webhook({ id: unique('evt'), type: 'person.upserted', occurredAt: isoIn(-10 * MINUTE), source, person: { email: 'held@example.com', department: 'Engineering' } });
    const emptyAt = isoIn(-5 * MINUTE);

    // Act: the empty snapshot, then the CLI's approve against the same table
    const held = await webhook({ id: unique('evt'), type: 'roster.snapshot', occurredAt: emptyAt, source, people: [] });
    const peopleWhileHeld = await peopleOf(source);
    const runId = String(held.body.runId);
    const run = await c.store.getRun(runId);
    const approved = await runCli(['approve', '--run', runId, '--yes', '--json'], { DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table });
    const again = await runCli(['approve', '--run', runId, '--yes', '--json'], { DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table });

    // Assess
    expect(held).toMatchObject({ status: 202, body: { status: 'blocked', touched: 0 } });
    expect(runId).toMatch(/\S/);
    expect(peopleWhileHeld.map((p) => p.leftSource)).toEqual([false]);
    expect(run).toMatchObject({ runId, complete: false, held: { source }, targets: [{ name: 'eng', blocked: 'emptySnapshot' }] });
    expect(metricTotal('RunsBlocked')).toBe(1);
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ runId, approved: ['eng'], snapshot: { source, occurredAt: emptyAt, left: 1 } });
    expect((await peopleOf(source)).map((p) => [p.leftSource, p.lastEventAt])).toEqual([[true, emptyAt]]);
    expect(again.code).toBe(2);
    expect(again.stderr + again.stdout).toContain('already released');
  });
});
