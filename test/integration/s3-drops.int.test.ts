// Roster file drops end to end: an object put through the S3 API (s3rver on 127.0.0.1, the AWS SDK pointed at it) →
// s3rver's ObjectCreated notification → the Lambda dispatcher → people in DynamoDB Local → a reconcile → invites in the emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../emulator/index.ts';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { createContainer, type Container } from '../../functions/runtime/composition-root.ts';
import { keyedLog } from '../../functions/runtime/logger.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import type { DropResult } from '../../functions/handlers/ingest-drop.ts';
import { S3DropReader } from '../../functions/drops/s3-drop-reader.ts';
import { sha256Hex } from '../../functions/sync/drops.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { runCli } from '../helpers/cli.ts';
import { memoryLog } from '../helpers/sync-harness.ts';
import { localSecretsClient, localSqsClient, memoryMetrics, lambdaEnv } from '../helpers/aws-local.ts';
import { startLocalS3, type LocalS3 } from '../helpers/s3-local.ts';
import { fixture } from '../helpers/fixtures.ts';

const BUCKET = 'invite-sync-drops-test';
const WEBHOOK_KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const LAMBDA_CONTEXT = { getRemainingTimeInMillis: () => 120_000 };
const sqsTemplate = (fixture('lambda/sqs-reconcile.json') as SQSEvent).Records[0]!;

let emulator: RunningEmulator;
let dynamo: DynamoDBClient;
let s3: LocalS3;
let s3Client: S3Client;
let taskRoot: string;
let table: string;
let c: Container;
const sent: { target: string; reason: string }[] = [];
const metrics: Array<Record<string, number>> = [];
const log = memoryLog();

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, seed: { instances: [{ id: DEFAULT_ID, orgs: [{ id: DEFAULT_ID }] }] } });
  dynamo = localDynamoClient();
  table = uniqueTableName('drops');
  await createTableIfMissing(dynamo, table);
  s3 = await startLocalS3([BUCKET]);
  s3Client = s3.client();
  taskRoot = await mkdtemp(join(tmpdir(), 'invite-sync-task-'));
  await writeFile(
    join(taskRoot, 'sync-config.json'),
    JSON.stringify({
      targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: { department: 'Engineering' }, role: 'edit' }] }],
      sources: {
        workday: { via: ['s3'] },
        adp: { via: ['s3', 'cli'] },
        payroll: { via: ['s3'], trustUploadTime: true },
        bad: { via: ['s3'] },
        untimed: { via: ['s3'] },
        webonly: { via: ['webhook'] },
        dated: { via: ['s3'] },
        weekly: { via: ['s3'] },
        archive: { via: ['s3'] },
      },
      people: { startDateField: 'startDate', endDateField: 'endDate', timeZoneField: 'tz' },
    }),
  );
  const env = lambdaEnv(table, emulator.url, taskRoot);
  c = await createContainer(env, {
    dynamoClient: dynamo,
    secretsClient: localSecretsClient({ [env.LOSANT_TOKEN_SECRET_ARN]: DEFAULT_TOKEN, [env.WEBHOOK_SECRET_ARN]: WEBHOOK_KEY }),
    sqsClient: localSqsClient(sent),
    s3Client,
    log: keyedLog(log),
    metrics: memoryMetrics(metrics),
  });
});

afterAll(async () => {
  await (c?.api as { close?: () => Promise<void> } | undefined)?.close?.();
  await emulator?.close();
  await s3?.stop();
  dynamo?.destroy();
  if (taskRoot) await rm(taskRoot, { recursive: true, force: true });
});

beforeEach(() => {
  sent.length = 0;
  metrics.length = 0;
});

const counted = (name: string) => metrics.reduce((n, m) => n + (m[name] ?? 0), 0);
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

/** Puts the object through the S3 API and returns the notification s3rver emitted for it. */
async function put(key: string, body: string, metadata: Record<string, string> = {}): Promise<unknown> {
  const before = s3.events.length;
  await s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
  const event = s3.events.slice(before).find((e) => (e as { Records: { s3: { object: { key: string } } }[] }).Records[0]?.s3.object.key === key);
  if (!event) throw new Error(`s3rver emitted no event for ${key}`);
  return event;
}

/** An ObjectCreated record as S3 sends it: the key URL-encoded with `+` for spaces. */
function notification(encodedKey: string, size?: number): unknown {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-central-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AROAEXAMPLE:roster-writer' },
        requestParameters: { sourceIPAddress: '2001:db8::1' },
        responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'rosters',
          bucket: { name: BUCKET, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${BUCKET}` },
          object: { key: encodedKey, size: size ?? 100, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
        },
      },
    ],
  };
}

const drop = async (event: unknown): Promise<DropResult> => {
  const results = (await dispatch(event, LAMBDA_CONTEXT, c)) as DropResult[];
  expect(results).toHaveLength(1);
  return results[0]!;
};

const csv = (rows: string[][]) => ['email,employeeId,department', ...rows.map((r) => r.join(','))].join('\n') + '\n';
const uid = () => randomUUID().slice(0, 8);

describe('Function: handler (S3 roster drop → people → reconcile → invites)', () => {
  it('stores the people of a CSV put through the S3 API, queues the target, and the queued reconcile invites them', async () => {
    // Arrange
    const email = `ana.${uid()}@example.com`;
    const body = csv([[email, `E-${uid()}`, 'Engineering']]);
    const key = `rosters/workday/${uid()}.csv`;
    const event = await put(key, body, { 'occurred-at': hoursAgo(1) });

    // Act
    const result = await drop(event);

    // Assert: applied with the s3 delivery id, stored, queued; then the queue reconciles and invites
    expect(result).toMatchObject({ status: 'applied', source: 'workday', people: 1, parts: 1, occurredAtFrom: 'metadata', queued: true });
    expect(result.status !== 'rejected' && result.status !== 'missing' && result.deliveryId).toBe(`s3:${BUCKET}/${key}#sha256:${sha256Hex(Buffer.from(body))}`);
    expect((await c.store.listPeople()).find((p) => p.email === email)?.source).toBe('workday');
    expect(sent.map((m) => m.target)).toEqual(['eng']);
    const batch = (await dispatch({ Records: sent.map((m) => ({ ...structuredClone(sqsTemplate), messageId: randomUUID(), body: JSON.stringify(m) })) }, LAMBDA_CONTEXT, c)) as SQSBatchResponse;
    expect(batch.batchItemFailures).toEqual([]);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email)?.role).toBe('edit');
    expect(log.lines.join('\n')).not.toContain(email);
  });

  it('answers duplicate for the same bytes uploaded again, and applies changed bytes at the same key', async () => {
    // Arrange
    const key = `rosters/workday/${uid()}.csv`;
    const body = csv([[`bo.${uid()}@example.com`, `E-${uid()}`, 'Engineering']]);
    const at = { 'occurred-at': hoursAgo(2) };
    expect((await drop(await put(key, body, at))).status).toBe('applied');

    // Act
    const again = await drop(await put(key, body, at));
    const changed = await drop(await put(key, body + `cy.${uid()}@example.com,E-${uid()},Engineering\n`, at));

    // Assert
    expect(again).toMatchObject({ status: 'duplicate', touched: 0, queued: false });
    expect(changed).toMatchObject({ status: 'applied', people: 2 });
  });

  it("counts the same bytes uploaded again as the source's latest delivery (maxSilenceHours), though nothing changes", async () => {
    // Arrange: the first upload arrived 2 hours ago (an injected clock)
    const key = `rosters/weekly/${uid()}.csv`;
    const body = csv([[`pa.${uid()}@example.com`, `E-${uid()}`, 'Engineering']]);
    const at = { 'occurred-at': hoursAgo(3) };
    const twoHoursAgo = { now: () => Date.now() - 2 * 3_600_000 };
    const first = (await dispatch(await put(key, body, at), LAMBDA_CONTEXT, { ...c, clock: twoHoursAgo })) as DropResult[];
    const lastDelivery = async () => (await c.store.listSourceDeliveries!()).find((d) => d.source === 'weekly')?.lastDeliveryAt;
    const before = Date.parse((await lastDelivery())!);

    // Act
    const again = await drop(await put(key, body, at));

    // Assert
    expect(first[0]?.status).toBe('applied');
    expect(Date.now() - before).toBeGreaterThan(3_600_000);
    expect(again).toMatchObject({ status: 'duplicate', touched: 0 });
    expect(Date.now() - Date.parse((await lastDelivery())!)).toBeLessThan(60_000);
  });

  it("takes a JSON roster's occurredAt when there is no metadata", async () => {
    // Arrange
    const email = `di.${uid()}@example.com`;
    const occurredAt = hoursAgo(3);
    const body = JSON.stringify({ occurredAt, people: [{ email, employeeId: `E-${uid()}`, department: 'Engineering' }] });

    // Act
    const result = await drop(await put(`rosters/adp/${uid()}.json`, body));

    // Assert
    expect(result).toMatchObject({ status: 'applied', source: 'adp', occurredAt: new Date(occurredAt).toISOString(), occurredAtFrom: 'file' });
    expect((await c.store.listPeople()).find((p) => p.email === email)?.lastEventAt).toBe(new Date(occurredAt).toISOString());
  });

  it('takes LastModified for a file without occurred-at when the source trusts upload times', async () => {
    // Act
    const result = await drop(await put(`rosters/payroll/${uid()}.csv`, csv([[`ed.${uid()}@example.com`, `E-${uid()}`, 'Sales']])));

    // Assert: s3rver's LastModified (whole seconds), now-ish
    expect(result).toMatchObject({ status: 'applied', occurredAtFrom: 'uploadTime' });
    const at = result.status === 'applied' ? Date.parse(result.occurredAt) : Number.NaN;
    expect(Math.abs(at - Date.now())).toBeLessThan(60_000);
  });

  it('holds a file without occurred-at (upload time not trusted) as staleSnapshot, stores nobody, and approve --run stores its people', async () => {
    // Arrange
    const email = `lu.${uid()}@example.com`;
    const key = `rosters/untimed/${uid()}.csv`;

    // Act
    const result = await drop(await put(key, csv([[email, `E-${uid()}`, 'Engineering']])));

    // Assert: held, a blocked run, nothing stored or queued
    expect(result).toMatchObject({ status: 'blocked', blocked: 'staleSnapshot', source: 'untimed', occurredAtFrom: 'uploadTime', touched: 0, queued: false });
    const runId = result.status === 'blocked' ? result.runId! : '';
    expect(runId).not.toBe('');
    expect((await c.store.listPeople()).some((p) => p.email === email)).toBe(false);
    expect(sent).toEqual([]);
    expect(counted('RunsBlocked')).toBe(1);

    // Act: the operator approves the held run
    const approved = await runCli(['approve', '--run', runId, '--yes', '--json'], { DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table });

    // Assert: stored with the upload time as its occurredAt
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ runId, approved: ['eng'], snapshot: { source: 'untimed', code: 'staleSnapshot', people: 1, upserted: 1 } });
    expect((await c.store.listPeople()).find((p) => p.email === email)?.source).toBe('untimed');
  });

  it('holds a file whose occurred-at is older than limits.maxSnapshotAgeHours (72) as staleSnapshot, and approve --run stores it', async () => {
    // Arrange: a source of its own (an older snapshot of a source holding newer people changes nobody)
    const email = `mo.${uid()}@example.com`;
    const occurredAt = hoursAgo(73);

    // Act
    const result = await drop(await put(`rosters/archive/${uid()}.csv`, csv([[email, `E-${uid()}`, 'Engineering']]), { 'occurred-at': occurredAt }));
    const whileHeld = (await c.store.listPeople()).some((p) => p.email === email);
    const runId = result.status === 'blocked' ? result.runId! : '';
    const approved = await runCli(['approve', '--run', runId, '--yes', '--json'], { DYNAMODB_ENDPOINT: dynamoEndpoint(), STATE_TABLE: table });

    // Assert: held, nothing stored; approve --run stores it with the export's own occurredAt
    expect(result).toMatchObject({ status: 'blocked', blocked: 'staleSnapshot', occurredAtFrom: 'metadata', touched: 0, queued: false });
    expect(whileHeld).toBe(false);
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ runId, approved: ['eng'], snapshot: { source: 'archive', code: 'staleSnapshot', occurredAt } });
    expect((await c.store.listPeople()).find((p) => p.email === email)).toMatchObject({ source: 'archive', leftSource: false, lastEventAt: occurredAt });
  });

  it('refuses a bad file whole: a failed delivery with every bad row, DropsFailed, the people unchanged', async () => {
    // Arrange: the source holds one person; the new file has two bad rows among good ones
    const keep = `fi.${uid()}@example.com`;
    await drop(await put(`rosters/bad/${uid()}.csv`, csv([[keep, 'E-keep', 'Engineering']]), { 'occurred-at': hoursAgo(5) }));
    const before = (await c.store.listPeople()).filter((p) => p.source === 'bad');
    sent.length = 0;
    metrics.length = 0;
    const body = csv([
      [`gi.${uid()}@example.com`, 'E-1', 'Engineering'],
      ['not-an-email', 'E-2', 'Engineering'],
      [`ha.${uid()}@example.com`, 'E-1', 'Engineering'],
    ]);
    const key = `rosters/bad/${uid()}.csv`;

    // Act
    const result = await drop(await put(key, body, { 'occurred-at': hoursAgo(4) }));

    // Assert
    const deliveryId = `s3:${BUCKET}/${key}#sha256:${sha256Hex(Buffer.from(body))}`;
    expect(result).toMatchObject({ status: 'failed', source: 'bad', deliveryId, rows: 2 });
    const failure = await c.store.getFailedDelivery({ source: 'bad', id: deliveryId });
    expect(failure?.message).toBe(`${key}: 2 bad rows`);
    expect(failure?.rows.map((r) => [r.line, r.field])).toEqual([
      [3, 'email'],
      [4, 'employeeId'],
    ]);
    expect((await c.store.listPeople()).filter((p) => p.source === 'bad')).toEqual(before);
    expect(await c.store.hasDelivery({ source: 'bad', id: deliveryId })).toBe(false);
    expect(counted('DropsFailed')).toBe(1);
    expect(sent).toEqual([]);
  });

  it('refuses a file with a bad date, an unknown zone and an end before the start: bad rows naming line and field, as --roster does', async () => {
    // Arrange: people.startDateField / endDateField / timeZoneField are set in this config
    const start = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const body = [
      'email,department,startDate,endDate,tz',
      `ok.${uid()}@example.com,Engineering,${start},,Asia/Tokyo`,
      `la.${uid()}@example.com,Engineering,2031-02-30,,`,
      `mo.${uid()}@example.com,Engineering,${start},,Mars/Olympus`,
      `ni.${uid()}@example.com,Engineering,${start},2020-01-01,`,
    ].join('\n');
    const key = `rosters/dated/${uid()}.csv`;

    // Act
    const result = await drop(await put(key, body, { 'occurred-at': hoursAgo(1) }));

    // Assert
    expect(result).toMatchObject({ status: 'failed', source: 'dated', rows: 3 });
    const failure = await c.store.getFailedDelivery({ source: 'dated', id: `s3:${BUCKET}/${key}#sha256:${sha256Hex(Buffer.from(body))}` });
    expect(failure?.rows.map((r) => [r.line, r.field, r.message])).toEqual([
      [3, 'startDate', 'must be a date YYYY-MM-DD (got "2031-02-30")'],
      [4, 'tz', 'unknown time zone "Mars/Olympus" (an IANA name such as Europe/Berlin)'],
      [5, 'endDate', 'before startDate'],
    ]);
    expect((await c.store.listPeople()).filter((p) => p.source === 'dated')).toEqual([]);
    expect(counted('DropsFailed')).toBe(1);
  });

  it('refuses an occurred-at that is not an ISO date-time, naming the metadata field', async () => {
    // Act
    const result = await drop(await put(`rosters/bad/${uid()}.csv`, csv([[`ik.${uid()}@example.com`, 'E-9', 'Engineering']]), { 'occurred-at': 'yesterday' }));

    // Assert
    expect(result).toMatchObject({ status: 'failed', message: 'x-amz-meta-occurred-at: must be an ISO date-time with a time zone' });
    expect(counted('DropsFailed')).toBe(1);
  });

  it('refuses nested keys, invalid source names, other extensions and sources without s3 in via, counting DropsRejected, reading nothing', async () => {
    // Arrange: none of these objects exists; a read would answer 'missing', not 'rejected'
    const keys = ['rosters/workday/2026/may.csv', 'rosters/bad%20name/may.csv', 'rosters/workday/may.xlsx', 'rosters/webonly/may.csv', 'rosters/unlisted/may.csv', 'other/workday/may.csv'];

    // Act
    const results = await Promise.all(keys.map((k) => drop(notification(k))));

    // Assert
    expect(results.map((r) => r.status)).toEqual(keys.map(() => 'rejected'));
    expect(results[3]).toMatchObject({ reason: 'source "webonly" does not take file drops (add "s3" to sources.webonly.via)' });
    expect(counted('DropsRejected')).toBe(keys.length);
    expect(counted('DropsFailed')).toBe(0);
  });

  it('URL-decodes the notification key (+ for a space) and reads the object at its real key', async () => {
    // Arrange
    const email = `jo.${uid()}@example.com`;
    const name = `May 2026 (${uid()})+final.csv`;
    await put(`rosters/workday/${name}`, csv([[email, `E-${uid()}`, 'Engineering']]), { 'occurred-at': hoursAgo(1) });
    const encoded = `rosters/workday/${encodeURIComponent(name).replace(/%20/g, '+')}`;

    // Act
    const result = await drop(notification(encoded));

    // Assert
    expect(result).toMatchObject({ status: 'applied', key: `rosters/workday/${name}` });
    expect((await c.store.listPeople()).some((p) => p.email === email)).toBe(true);
  });

  it('refuses a file over 50 MB by the notification size without fetching it, and a reader stops reading past its limit', async () => {
    // Act
    const big = await drop(notification('rosters/workday/huge.csv', 60 * 1024 * 1024));
    await put('rosters/workday/small.csv', csv([[`ka.${uid()}@example.com`, 'E-1', 'Engineering']]));
    const cut = await new S3DropReader({ client: s3Client, maxBytes: 16 }).read(BUCKET, 'rosters/workday/small.csv');

    // Assert
    expect(big).toMatchObject({ status: 'failed', deliveryId: `s3:${BUCKET}/rosters/workday/huge.csv#size:${60 * 1024 * 1024}`, rows: 1 });
    expect(cut.kind).toBe('tooLarge');
    expect(counted('DropsFailed')).toBe(1);
  });

  it('answers missing for an object deleted before it was read', async () => {
    // Act
    const result = await drop(notification(`rosters/workday/${uid()}.csv`));

    // Assert
    expect(result.status).toBe('missing');
    expect(counted('DropsRejected') + counted('DropsFailed')).toBe(0);
  });
});
