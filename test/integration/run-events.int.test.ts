// Sync Run Completed end to end: the real composition root (RUN_EVENT_BUS set) over DynamoDB Local and the Losant
// emulator; the EventBridge client speaks real HTTP (AWS JSON 1.1) to a tiny PutEvents endpoint on 127.0.0.1.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Container } from '../../functions/runtime/composition-root.ts';
import type { MetricsSink } from '../../functions/runtime/metrics.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import { RUN_EVENT_DETAIL_TYPE, RUN_EVENT_SOURCE } from '../../functions/notify/run-event-names.ts';
import { LOCAL_AWS_CREDENTIALS } from '../helpers/aws-local.ts';
import { ENG_OPS, lambdaHost } from '../helpers/lambda-host.ts';
import { fixture } from '../helpers/fixtures.ts';

const CREDENTIALS = LOCAL_AWS_CREDENTIALS;
const LAMBDA_CONTEXT = { getRemainingTimeInMillis: () => 120_000 };
const EMAIL_PATTERN = /[^\s"@]+@[^\s"@]+\.[a-z]{2,}/i;
const DETAIL_KEYS = ['stage', 'runId', 'target', 'trigger', 'mode', 'complete', 'planned', 'done', 'failed', 'skipped', 'blocked', 'errorCode', 'approveCommand'];
const sqsTemplate = (fixture('lambda/sqs-reconcile.json') as SQSEvent).Records[0]!;

interface PutEventsCall {
  target: string | undefined;
  contentType: string | undefined;
  body: { Entries: { EventBusName: string; Source: string; DetailType: string; Detail: string }[] };
}

const host = lambdaHost({
  name: 'run-events',
  emulator: { seed: ENG_OPS.seed },
  config: {
    targets: ENG_OPS.targets,
    limits: { maxChangesPerRun: 2 },
  },
  env: { RUN_EVENT_BUS: 'default' },
});
const { log } = host;
let eventBridge: Server;
let c: Container;
/** what the local endpoint answers: PutEvents accepted, or a 500 */
let endpointMode: 'accept' | 'fail' = 'accept';
const calls: PutEventsCall[] = [];

const noMetrics: MetricsSink = { addMetric: () => undefined, publishStoredMetrics: () => undefined };

/** A PutEvents endpoint speaking EventBridge's JSON 1.1 protocol: records each call, accepts every entry (or fails). */
function startEventBridgeEndpoint(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PutEventsCall['body'];
      calls.push({ target: req.headers['x-amz-target'] as string | undefined, contentType: req.headers['content-type'], body });
      if (endpointMode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InternalException', message: 'the bus is having a bad day' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedEntryCount: 0, Entries: body.Entries.map(() => ({ EventId: randomUUID() })) }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  eventBridge = await startEventBridgeEndpoint();
});
afterAll(() => new Promise((resolve) => (eventBridge ? eventBridge.close(resolve) : resolve(undefined))));
/** the host starts after the endpoint (its client needs the port) and closes before it */
host.hooks(
  (started) => (c = started.container),
  () => ({
    eventBridgeClient: new EventBridgeClient({ endpoint: `http://127.0.0.1:${(eventBridge.address() as AddressInfo).port}`, region: 'eu-central-1', credentials: CREDENTIALS, maxAttempts: 1 }),
    metrics: noMetrics,
  }),
);

beforeEach(() => {
  calls.length = 0;
  endpointMode = 'accept';
});

/** An HR bus event for a new Engineering person (stored by the real handler, queued to the fake SQS). */
async function hire(department: string): Promise<string> {
  const email = `p.${randomUUID().slice(0, 8)}@example.com`;
  const event = {
    version: '0', id: randomUUID(), 'detail-type': 'person.upserted', source: 'hr.workday', account: '123456789012',
    time: new Date().toISOString(), region: 'eu-central-1', resources: [],
    detail: { id: `evt-${randomUUID()}`, type: 'person.upserted', occurredAt: new Date(Date.now() - 60_000).toISOString(), source: 'workday', person: { email, employeeId: `E-${randomUUID().slice(0, 8)}`, department } },
  };
  await dispatch(event, LAMBDA_CONTEXT, c);
  return email;
}

const reconcile = (target: string) =>
  dispatch({ Records: [{ ...structuredClone(sqsTemplate), messageId: randomUUID(), body: JSON.stringify({ target, reason: 'test' }) }] }, LAMBDA_CONTEXT, c) as Promise<SQSBatchResponse>;

describe('Function: handler (queue) announcing a run', () => {
  it('returns the blocked run acknowledged and puts one Sync Run Completed event whose detail has exactly the documented fields and no email', async () => {
    // Arrange: three hires against a brake of two changes per run
    const emails = [await hire('Engineering'), await hire('Engineering'), await hire('Engineering')];

    // Act
    const batch = await reconcile('eng');

    // Assert: acknowledged (a retry cannot unblock it), one PutEvents call over the JSON protocol
    expect(batch.batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.target).toBe('AWSEvents.PutEvents');
    expect(call.contentType).toBe('application/x-amz-json-1.1');
    expect(call.body.Entries).toHaveLength(1);
    const entry = call.body.Entries[0]!;
    expect(entry).toMatchObject({ EventBusName: 'default', Source: RUN_EVENT_SOURCE, DetailType: RUN_EVENT_DETAIL_TYPE });
    expect([RUN_EVENT_SOURCE, RUN_EVENT_DETAIL_TYPE]).toEqual(['invite-sync', 'Sync Run Completed']);
    const detail = JSON.parse(entry.Detail) as Record<string, unknown>;
    expect(Object.keys(detail).sort()).toEqual([...DETAIL_KEYS].sort());
    expect(detail).toMatchObject({
      stage: 'test',
      target: 'eng',
      trigger: 'queue',
      mode: 'apply',
      blocked: 'maxInvitesPerRun',
      planned: { invite: 3, renew: 0, fixRole: 0, revoke: 0, remove: 0 },
      done: { invite: 0, renew: 0, fixRole: 0, revoke: 0, remove: 0 },
      failed: 0,
      errorCode: null,
    });
    expect(detail.runId).toMatch(/^r-/);
    expect(detail.approveCommand).toBe(`invite-sync approve --stage test --run ${String(detail.runId)}`);
    const wire = JSON.stringify(call.body);
    expect(wire).not.toMatch(EMAIL_PATTERN);
    for (const email of emails) expect(wire.toLowerCase()).not.toContain(email);
    expect(await c.store.getRun(String(detail.runId))).not.toBeNull();
  });

  it('returns the run unharmed when PutEvents fails, logging one warning', async () => {
    // Arrange
    await hire('Engineering');
    endpointMode = 'fail';
    const before = log.lines.length;

    // Act
    const batch = await reconcile('eng');

    // Assert: the put was tried, failed, and the message is still acknowledged
    expect(calls).toHaveLength(1);
    expect(batch.batchItemFailures).toEqual([]);
    const warnings = log.lines.slice(before).filter((l) => l.includes('could not put the Sync Run Completed events'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"targets":["eng"]');
  });

  it('returns a steady target without putting any event', async () => {
    // Arrange: nobody matches ops's rule, so its run changes nothing

    // Act
    const batch = await reconcile('ops');

    // Assert
    expect(batch.batchItemFailures).toEqual([]);
    expect(calls).toEqual([]);
  });
});
