// Issue "Operating a deployed stage", approvals that act: `invite-sync approve --stage <name>` as a child process
// against DynamoDB Local (DYNAMODB_ENDPOINT + STATE_TABLE) and a tiny AWS endpoint on 127.0.0.1 speaking SQS's
// JSON protocol (SendMessageBatch) and STS's query protocol (GetCallerIdentity).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableIfMissing } from '../../functions/state/table-design.ts';
import { DynamoStateStore } from '../../functions/state/dynamo-store.ts';
import { keys } from '../../functions/state/keys.ts';
import { emptyActionCounts, emptySkipCounts } from '../../functions/sync/types.ts';
import type { RunRecord } from '../../functions/sync/ports.ts';
import { runCli } from '../helpers/cli.ts';
import { dynamoEndpoint, localDynamoClient, uniqueTableName } from '../helpers/dynamo.ts';
import { iso } from '../helpers/builders.ts';

const ENG = { instanceId: '5a5b5c5d5e5f606162636401', orgId: '5a5b5c5d5e5f606162636402' };
const OPS = { instanceId: '5a5b5c5d5e5f606162636401', orgId: '5a5b5c5d5e5f606162636403' };
const CALLER = 'arn:aws:sts::123456789012:assumed-role/invite-sync-operator/jane';

interface SqsCall {
  target: string;
  body: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] };
}

let server: Server;
let endpoint: string;
let client: DynamoDBClient;
let table: string;
let store: DynamoStateStore;
const sqsCalls: SqsCall[] = [];
let stsCalls = 0;
let sqsMode: 'accept' | 'fail' = 'accept';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const amzTarget = String(req.headers['x-amz-target'] ?? '');
      if (amzTarget.startsWith('AmazonSQS.')) {
        const body = JSON.parse(raw) as SqsCall['body'];
        sqsCalls.push({ target: amzTarget, body });
        if (sqsMode === 'fail') {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' });
          res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ Successful: body.Entries.map((e) => ({ Id: e.Id, MessageId: randomUUID(), MD5OfMessageBody: md5(e.MessageBody) })), Failed: [] }));
        return;
      }
      if (new URLSearchParams(raw).get('Action') === 'GetCallerIdentity') {
        stsCalls++;
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${CALLER}</Arn>` +
            `<UserId>AROAEXAMPLE:jane</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        );
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = localDynamoClient();
  table = uniqueTableName('approve-stage');
  await createTableIfMissing(client, table);
  store = new DynamoStateStore({ tableName: table, client });
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  client?.destroy();
});

const queueUrl = () => `${endpoint}/123456789012/InviteSync-dev-ReconcileQueue`;

/** The environment of an operator against stage dev whose table and queue are given by STATE_TABLE / RECONCILE_QUEUE_URL. */
const stageEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  DYNAMODB_ENDPOINT: dynamoEndpoint(),
  STATE_TABLE: table,
  RECONCILE_QUEUE_URL: queueUrl(),
  AWS_ENDPOINT_URL_STS: endpoint,
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'example',
  ...extra,
});

/** A run whose targets eng and ops were blocked by a brake (plan hashes `<runId>-eng`, `<runId>-ops`). */
async function blockedRun(): Promise<RunRecord> {
  const runId = `r-${randomUUID().slice(0, 8)}`;
  const target = (name: string, ref: typeof ENG) => ({
    name, ...ref, desired: 3, pending: 0, members: 0,
    planned: { ...emptyActionCounts(), invite: 3 }, done: emptyActionCounts(), failed: 0, skipped: emptySkipCounts(),
    blocked: 'maxInvitesPerRun' as const, complete: false, planHash: `${runId}-${name}`,
  });
  const run: RunRecord = { mode: 'apply', runId, complete: false, trigger: 'schedule', startedAt: iso(Date.now() - 60_000), targets: [target('eng', ENG), target('ops', OPS)] };
  await store.putRun(run, 3600);
  return run;
}

const approvalItem = async (ref: typeof ENG, planHash: string) =>
  (await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: keys.approval(ref, planHash).pk }, sk: { S: planHash } }, ConsistentRead: true }))).Item;

describe('Command: invite-sync approve --stage', () => {
  it('records the approval with the caller ARN and queues the approved targets at once', async () => {
    // Arrange
    const run = await blockedRun();
    sqsMode = 'accept';
    sqsCalls.length = 0;
    stsCalls = 0;

    // Act
    const r = await runCli(['approve', '--stage', 'dev', '--run', run.runId, '--yes', '--json'], stageEnv());

    // Assess
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId: run.runId, approved: ['eng', 'ops'], queued: ['eng', 'ops'], approvedBy: CALLER });
    expect(stsCalls).toBe(1);
    expect(sqsCalls).toHaveLength(1);
    expect(sqsCalls[0]!.target).toBe('AmazonSQS.SendMessageBatch');
    expect(sqsCalls[0]!.body.QueueUrl).toBe(queueUrl());
    expect(sqsCalls[0]!.body.Entries.map((e) => JSON.parse(e.MessageBody) as unknown)).toEqual([
      { target: 'eng', reason: `approve ${run.runId}` },
      { target: 'ops', reason: `approve ${run.runId}` },
    ]);
    const item = await approvalItem(ENG, `${run.runId}-eng`);
    expect(item?.runId?.S).toBe(run.runId);
    expect(item?.approvedBy?.S).toBe(CALLER);
    expect(await store.takeApproval(OPS, `${run.runId}-ops`)).toBe(true);
  });

  it('records the approval without an ARN when STS cannot be reached, and still queues', async () => {
    // Arrange
    const run = await blockedRun();
    sqsMode = 'accept';
    sqsCalls.length = 0;

    // Act: STS on a port nobody listens on
    const r = await runCli(['approve', '--stage', 'dev', '--run', run.runId, '--yes'], stageEnv({ AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9' }));

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`approved run ${run.runId} for: eng, ops\n`);
    expect(r.stdout).toContain('queued eng, ops: they reconcile now');
    expect(sqsCalls).toHaveLength(1);
    const item = await approvalItem(ENG, `${run.runId}-eng`);
    expect(item?.runId?.S).toBe(run.runId);
    expect(item?.approvedBy).toBeUndefined();
  });

  it('keeps the approval and exits 4 naming the targets when the queue refuses the message', async () => {
    // Arrange
    const run = await blockedRun();
    sqsMode = 'fail';
    sqsCalls.length = 0;

    // Act
    const r = await runCli(['approve', '--stage', 'dev', '--run', run.runId, '--yes', '--json'], stageEnv());

    // Assess
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({ approved: ['eng', 'ops'], queued: [] });
    expect(r.stderr).toMatch(/approved, but could not queue eng, ops: .*next schedule/);
    expect(sqsCalls.length).toBeGreaterThanOrEqual(1);
    expect((await approvalItem(OPS, `${run.runId}-ops`))?.runId?.S).toBe(run.runId);
  });

  it('queues the targets of a held empty snapshot it releases, with RECONCILE_QUEUE_URL and no --stage', async () => {
    // Arrange: a run that held back the empty snapshot s-<runId> of source hr
    const runId = `r-${randomUUID().slice(0, 8)}`;
    await store.putBlockedSnapshot('hr', `s-${runId}`, 'emptySnapshot', { runId, occurredAt: iso(Date.now() - 120_000) });
    const eng = { name: 'eng', ...ENG, desired: 0, pending: 0, members: 0, planned: emptyActionCounts(), done: emptyActionCounts(), failed: 0, skipped: emptySkipCounts(), blocked: 'emptySnapshot' as const, complete: false };
    await store.putRun({ mode: 'apply', runId, complete: false, trigger: 'webhook', startedAt: iso(Date.now() - 120_000), targets: [eng], held: { source: 'hr', snapshotId: `s-${runId}` } }, 3600);
    sqsMode = 'accept';
    sqsCalls.length = 0;
    stsCalls = 0;

    // Act
    const r = await runCli(['approve', '--run', runId, '--yes', '--json'], stageEnv());

    // Assess: a local endpoint without --stage is no deployed table: no STS question
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId, approved: ['eng'], queued: ['eng'], snapshot: { source: 'hr' } });
    expect(stsCalls).toBe(0);
    expect(sqsCalls.map((c) => c.body.Entries.map((e) => JSON.parse(e.MessageBody) as unknown))).toEqual([[{ target: 'eng', reason: `approve ${runId}` }]]);
  });

  it('exits 2 when --stage is given with --state-dir', async () => {
    // Act
    const r = await runCli(['approve', '--stage', 'dev', '--state-dir', '/tmp/x', '--run', 'r-1', '--yes'], stageEnv());

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--stage and --state-dir exclude each other');
  });
});

describe('Command: invite-sync approve --help', () => {
  it('lists --stage and RECONCILE_QUEUE_URL', async () => {
    // Act
    const r = await runCli(['approve', '--help'], {});

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--stage <name>\s+work against deployed stage <name>/);
    expect(r.stdout).toMatch(/RECONCILE_QUEUE_URL\s+the reconcile queue/);
  });
});

describe('Command: invite-sync runs --stage / show --stage', () => {
  it('lists and shows the runs of the stage table', async () => {
    // Arrange
    const run = await blockedRun();

    // Act
    const runs = await runCli(['runs', '--stage', 'dev', '--json'], stageEnv());
    const shown = await runCli(['show', '--stage', 'dev', '--run', run.runId, '--json'], stageEnv());

    // Assess
    expect(runs.code).toBe(0);
    expect((JSON.parse(runs.stdout) as { runs: RunRecord[] }).runs.map((x) => x.runId)).toContain(run.runId);
    expect(shown.code).toBe(0);
    expect((JSON.parse(shown.stdout) as { run: RunRecord }).run.targets.map((t) => t.blocked)).toEqual(['maxInvitesPerRun', 'maxInvitesPerRun']);
  });
});
