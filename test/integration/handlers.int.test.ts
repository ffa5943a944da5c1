// Lambda handlers end to end: the real composition root over DynamoDB Local and the Losant emulator (real HTTP);
// Secrets Manager and SQS are real SDK clients answered in their middleware stack.
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DEFAULT_ID, type RunningEmulator } from '../../emulator/index.ts';
import type { Container } from '../../functions/runtime/composition-root.ts';
import { dispatch } from '../../functions/handlers/index.handler.ts';
import { signWebhook } from '../../functions/handlers/webhook-signature.ts';
import { EventShapeError, UnknownEventError } from '../../functions/handlers/errors.ts';
import type { JsonResult } from '../../functions/handlers/http.ts';
import type { HrEventResult } from '../../functions/handlers/hr-event.handler.ts';
import { ENG_OPS, lambdaHost, OPS_ORG } from '../helpers/lambda-host.ts';
import { fixture } from '../helpers/fixtures.ts';

const WEBHOOK_KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const FORGED_KEY = `whsec_${Buffer.from('an-attacker-key-thirty-two-bytes').toString('base64')}`;
const FIXTURES = {
  http: fixture<APIGatewayProxyEventV2>('lambda/http-api-webhook.json'),
  hrEvent: fixture<Record<string, unknown>>('lambda/hr-person-upserted.json'),
  eventBridge: fixture<Record<string, unknown> & { detail: Record<string, unknown> }>('lambda/eventbridge-hr-event.json'),
  scheduled: fixture<Record<string, unknown>>('lambda/eventbridge-scheduled.json'),
  sqs: fixture<SQSEvent>('lambda/sqs-reconcile.json'),
};
const LAMBDA_CONTEXT = { getRemainingTimeInMillis: () => 120_000 };

const host = lambdaHost({
  name: 'handlers',
  emulator: { seed: ENG_OPS.seed },
  config: { targets: ENG_OPS.targets },
  webhookKey: WEBHOOK_KEY,
});
const { sent, metrics, log } = host;
let emulator: RunningEmulator;
let c: Container;

host.hooks((started) => ({ emulator, container: c } = started));

/** The HR event fixture with a fresh id and the given email. */
function hrEvent(email: string): Record<string, unknown> {
  const doc = structuredClone(FIXTURES.hrEvent) as { id: string; person: Record<string, string> };
  doc.id = `evt-${randomUUID()}`;
  doc.person.email = email;
  doc.person.employeeId = `E-${randomUUID().slice(0, 8)}`;
  return doc;
}

function webhookRequest(body: string, key = WEBHOOK_KEY, msgId = `msg_${randomUUID()}`): APIGatewayProxyEventV2 {
  const event = structuredClone(FIXTURES.http);
  event.headers = { ...event.headers, ...signWebhook(key, msgId, Math.floor(Date.now() / 1000), body), 'content-length': String(Buffer.byteLength(body)) };
  event.body = body;
  return event;
}

function sqsEvent(messages: { target: string; reason: string }[]): SQSEvent {
  const template = FIXTURES.sqs.Records[0]!;
  return { Records: messages.map((m) => ({ ...structuredClone(template), messageId: randomUUID(), body: JSON.stringify(m) })) };
}

/** pending invites without the ever-shrinking ttl */
const inviteState = (orgId: string) => emulator.invites(DEFAULT_ID, orgId).map(({ id, email, role, inviteDate }) => ({ id, email, role, inviteDate }));
const invitedEmails = (orgId: string) => emulator.invites(DEFAULT_ID, orgId).map((i) => i.email.toLowerCase());
const posts = () => emulator.stats().requests.filter((r) => r.method === 'POST').reduce((n, r) => n + r.count, 0);

describe('Function: handler (webhook → queue → reconcile)', () => {
  it('returns 202, stores the person, queues the targets without calling Losant, and the queue handler invites them', async () => {
    // Arrange
    const email = `jane.${randomUUID().slice(0, 6)}@example.com`;
    const doc = hrEvent(email);
    const postsBefore = posts();
    // Act: the webhook
    const res = (await dispatch(webhookRequest(JSON.stringify(doc)), LAMBDA_CONTEXT, c)) as JsonResult;
    // Assert: accepted, stored, queued, Losant untouched
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ status: 'applied', eventId: doc.id, touched: 2 });
    expect((await c.store.listPeople()).map((p) => p.email)).toContain(email);
    expect(sent.map((m) => m.target).sort()).toEqual(['eng', 'ops']);
    expect(posts()).toBe(postsBefore);
    expect(invitedEmails(DEFAULT_ID)).not.toContain(email);

    // Act: SQS delivers the queued messages
    const batch = (await dispatch(sqsEvent(sent), LAMBDA_CONTEXT, c)) as SQSBatchResponse;
    // Assert: invited in the org whose rule matches, with its role
    expect(batch.batchItemFailures).toEqual([]);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).find((i) => i.email.toLowerCase() === email)?.role).toBe('edit');
    expect(invitedEmails(OPS_ORG)).not.toContain(email);
    expect(metrics.reduce((n, m) => n + (m.InvitesSent ?? 0), 0)).toBe(1);
    expect(log.lines.join('\n')).not.toContain(email);
  });

  it('returns 200 duplicate for a replayed delivery and changes nothing the second time', async () => {
    // Arrange: one delivery accepted and reconciled
    const email = `replay.${randomUUID().slice(0, 6)}@example.com`;
    const body = JSON.stringify(hrEvent(email));
    const request = webhookRequest(body);
    expect(((await dispatch(structuredClone(request), LAMBDA_CONTEXT, c)) as JsonResult).statusCode).toBe(202);
    await dispatch(sqsEvent(sent), LAMBDA_CONTEXT, c);
    const peopleBefore = await c.store.listPeople();
    const invitesBefore = inviteState(DEFAULT_ID);
    const postsBefore = posts();
    sent.length = 0;
    // Act: the same delivery again
    const replay = (await dispatch(structuredClone(request), LAMBDA_CONTEXT, c)) as JsonResult;
    // Assert
    expect(replay.statusCode).toBe(200);
    expect(JSON.parse(replay.body)).toMatchObject({ status: 'duplicate' });
    expect(sent).toEqual([]);
    expect(await c.store.listPeople()).toEqual(peopleBefore);
    expect(inviteState(DEFAULT_ID)).toEqual(invitesBefore);
    expect(posts()).toBe(postsBefore);
  });

  it('returns 401 for a forged request and stores, queues and invites nothing', async () => {
    // Arrange
    const email = `forged.${randomUUID().slice(0, 6)}@example.com`;
    const doc = hrEvent(email);
    const postsBefore = posts();
    // Act
    const res = (await dispatch(webhookRequest(JSON.stringify(doc), FORGED_KEY), LAMBDA_CONTEXT, c)) as JsonResult;
    // Assert
    expect(res.statusCode).toBe(401);
    expect((await c.store.listPeople()).map((p) => p.email)).not.toContain(email);
    expect(await c.store.hasDelivery({ source: doc.source as string, id: doc.id as string })).toBe(false);
    expect(sent).toEqual([]);
    expect(posts()).toBe(postsBefore);
  });
});

describe('Function: handler (EventBridge HR event)', () => {
  it('returns applied for an HR bus event, stores the person and queues the targets', async () => {
    // Arrange
    const event = structuredClone(FIXTURES.eventBridge);
    const email = `omar.${randomUUID().slice(0, 6)}@example.com`;
    event.detail.id = `evt-${randomUUID()}`;
    (event.detail.person as Record<string, string>).email = email;
    // Act
    const result = (await dispatch(event, LAMBDA_CONTEXT, c)) as HrEventResult;
    // Assert
    expect(result).toEqual({ status: 'applied', eventId: event.detail.id, touched: 2, queued: true });
    expect((await c.store.listPeople()).find((p) => p.email === email)?.attributes.title).toBe('Backend Engineer');
    expect(sent.map((m) => m.target).sort()).toEqual(['eng', 'ops']);
  });

  it('returns invalid for an event whose detail-type disagrees with its detail, storing nothing', async () => {
    const event = structuredClone(FIXTURES.eventBridge);
    const email = `mismatch.${randomUUID().slice(0, 6)}@example.com`;
    event['detail-type'] = 'roster.snapshot';
    event.detail.id = `evt-${randomUUID()}`;
    (event.detail.person as Record<string, string>).email = email;
    const result = (await dispatch(event, LAMBDA_CONTEXT, c)) as HrEventResult;
    expect(result.status).toBe('invalid');
    expect((await c.store.listPeople()).map((p) => p.email)).not.toContain(email);
    expect(sent).toEqual([]);
  });
});

describe('Function: handler (schedule)', () => {
  it('returns queued = every target and sends one message per target', async () => {
    const result = await dispatch(structuredClone(FIXTURES.scheduled), LAMBDA_CONTEXT, c);
    expect(result).toEqual({ queued: 2 });
    expect(sent.map((m) => m.target).sort()).toEqual(['eng', 'ops']);
    expect(sent.every((m) => m.reason.startsWith('schedule '))).toBe(true);
  });
});

describe('Function: handler (SQS batch)', () => {
  it('returns only the lease-busy target in batchItemFailures and reconciles the other', async () => {
    // Arrange: a person for each org, and another run holding ops' lease
    const engEmail = `eng.${randomUUID().slice(0, 6)}@example.com`;
    const opsEmail = `ops.${randomUUID().slice(0, 6)}@example.com`;
    const opsPerson = hrEvent(opsEmail) as { person: Record<string, string> };
    opsPerson.person.department = 'Operations';
    await dispatch(webhookRequest(JSON.stringify(hrEvent(engEmail))), LAMBDA_CONTEXT, c);
    await dispatch(webhookRequest(JSON.stringify(opsPerson)), LAMBDA_CONTEXT, c);
    const ops = { instanceId: DEFAULT_ID, orgId: OPS_ORG };
    const lease = await c.store.acquireLease(ops, 'another-run', 60);
    expect(lease).not.toBeNull();
    const event = sqsEvent([{ target: 'eng', reason: 'test' }, { target: 'ops', reason: 'test' }, { target: 'eng', reason: 'dup' }]);
    try {
      // Act
      // 14 s left: a 4 s deadline, so the busy lease is waited for 1 s
      const batch = (await dispatch(event, { getRemainingTimeInMillis: () => 14_000 }, c)) as SQSBatchResponse;
      // Assert
      expect(batch.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]!.messageId }]);
      expect(invitedEmails(DEFAULT_ID)).toContain(engEmail);
      expect(invitedEmails(OPS_ORG)).not.toContain(opsEmail);
    } finally {
      await c.store.releaseLease(lease!);
    }
  });

  it('waits for a lease another run lets go of, then reconciles the queued target (no retry, no DLQ)', async () => {
    const opsEmail = `ops.${randomUUID().slice(0, 6)}@example.com`;
    const opsPerson = hrEvent(opsEmail) as { person: Record<string, string> };
    opsPerson.person.department = 'Operations';
    await dispatch(webhookRequest(JSON.stringify(opsPerson)), LAMBDA_CONTEXT, c);
    const lease = await c.store.acquireLease({ instanceId: DEFAULT_ID, orgId: OPS_ORG }, 'another-run', 60);
    expect(lease).not.toBeNull();
    const released = new Promise<void>((resolve) => setTimeout(() => void c.store.releaseLease(lease!).then(() => resolve()), 300));

    const batch = (await dispatch(sqsEvent([{ target: 'ops', reason: 'busy' }]), LAMBDA_CONTEXT, c)) as SQSBatchResponse;
    await released;

    expect(batch.batchItemFailures).toEqual([]);
    expect(invitedEmails(OPS_ORG)).toContain(opsEmail);
  });

  it('returns every message as failed when the invocation has less time left than the safety margin', async () => {
    const event = sqsEvent([{ target: 'eng', reason: 'late' }, { target: 'ops', reason: 'late' }]);
    const batch = (await dispatch(event, { getRemainingTimeInMillis: () => 5_000 }, c)) as SQSBatchResponse;
    expect(batch.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(event.Records.map((r) => r.messageId));
  });

  it('returns a malformed message as failed (for the DLQ) and acknowledges a target no longer configured', async () => {
    const event = sqsEvent([{ target: 'gone', reason: 'old' }]);
    const poison = { ...structuredClone(event.Records[0]!), messageId: randomUUID(), body: 'not json' };
    event.Records.push(poison);
    const batch = (await dispatch(event, LAMBDA_CONTEXT, c)) as SQSBatchResponse;
    expect(batch.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);
  });
});

describe('Function: handler (unknown events)', () => {
  it('throws UnknownEventError for a shape no trigger sends', async () => {
    await expect(dispatch({ Records: [{ eventSource: 'aws:kinesis' }] }, LAMBDA_CONTEXT, c)).rejects.toBeInstanceOf(UnknownEventError);
  });

  it('throws EventShapeError for an S3 record without bucket and key (S3 drops are a known trigger now)', async () => {
    await expect(dispatch({ Records: [{ eventSource: 'aws:s3' }] }, LAMBDA_CONTEXT, c)).rejects.toBeInstanceOf(EventShapeError);
  });
});
