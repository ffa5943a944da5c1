// security --> handleWebhook (and serve over HTTP) with DynamoDB Local + the emulator behind a real queue worker
// --> forged, stale, replayed, re-serialised, oversized, nested and mistyped requests change nothing and call nobody
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmulator, DEFAULT_ID, DEFAULT_TOKEN, type RunningEmulator } from '../../../emulator/index.ts';
import { LosantClient } from '../../../functions/losant/client.ts';
import { DynamoStateStore } from '../../../functions/state/dynamo-store.ts';
import { createTableIfMissing } from '../../../functions/state/table-design.ts';
import { parseSyncConfig } from '../../../functions/config/sync-config.schema.ts';
import { handleWebhook, MAX_WEBHOOK_BODY_BYTES, type WebhookDeps } from '../../../functions/handlers/webhook.handler.ts';
import type { JsonResult } from '../../../functions/handlers/http.ts';
import { signWebhook } from '../../../functions/handlers/webhook-signature.ts';
import { reconcileAndRecord } from '../../../functions/handlers/run-reconcile.ts';
import { InProcessReconcileQueue } from '../../../functions/queue/in-process-queue.ts';
import { keyedLog } from '../../../functions/runtime/logger.ts';
import { createLogMetrics } from '../../../functions/runtime/metrics.ts';
import { staticSecret } from '../../../functions/secrets/secrets-manager.ts';
import { startServeApp, type ServeApp } from '../../../cli/commands/serve.ts';
import { localDynamoClient, uniqueTableName } from '../../helpers/dynamo.ts';
import { memoryLog } from '../../helpers/sync-harness.ts';
import { findLeaks, scanTable } from '../../helpers/chaos.ts';
import { fixture } from '../../helpers/fixtures.ts';

const KEY = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_KEY = `whsec_${randomBytes(32).toString('base64')}`;
const FIXTURE = fixture('lambda/http-api-webhook.json') as APIGatewayProxyEventV2;

let emulator: RunningEmulator;
let ddb: DynamoDBClient;
let table: string;
let api: LosantClient;
let queue: InProcessReconcileQueue;
let deps: WebhookDeps;
let serve: ServeApp;
let serveUrl: string;
const log = memoryLog();

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A valid HR event body for a new person (fresh event id). */
function eventBody(email = `hire-${randomUUID().slice(0, 8)}@example.com`, space?: number): string {
  return JSON.stringify({ id: `evt-${randomUUID()}`, type: 'person.upserted', occurredAt: new Date().toISOString(), source: 'hr', person: { email, department: 'Engineering' } }, null, space);
}

/** The HTTP API fixture carrying `body`, signed with `key` unless headers are given. */
function request(body: string, headers?: Record<string, string>, opts: { key?: string; contentType?: string; base64?: boolean } = {}): APIGatewayProxyEventV2 {
  const event = structuredClone(FIXTURE);
  const signed = headers ?? signWebhook(opts.key ?? KEY, `msg_${randomUUID()}`, nowSeconds(), body);
  const base = { ...event.headers };
  delete base['webhook-id'];
  delete base['webhook-timestamp'];
  delete base['webhook-signature'];
  event.headers = { ...base, 'content-type': opts.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(body)), ...signed };
  event.body = opts.base64 ? Buffer.from(body).toString('base64') : body;
  event.isBase64Encoded = opts.base64 ?? false;
  return event;
}

/** Everything an attack could have changed: the whole table, Losant's counters, the queue. */
async function observe(): Promise<{ items: string[]; losant: string; queued: number }> {
  return { items: await scanTable(ddb, table), losant: JSON.stringify(emulator.stats()), queued: queue.size };
}

async function idle(): Promise<void> {
  for (let i = 0; i < 400 && queue.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ddb = localDynamoClient();
  table = uniqueTableName('attack');
  await createTableIfMissing(ddb, table);
  const store = new DynamoStateStore({ tableName: table, client: ddb });
  api = new LosantClient({ baseUrl: emulator.url, token: DEFAULT_TOKEN, log });
  const config = parseSyncConfig({ targets: [{ name: 'eng', instanceId: DEFAULT_ID, orgId: DEFAULT_ID, rules: [{ when: {}, role: 'view' }] }] });
  const handlerLog = keyedLog(log);
  const clock = { now: () => Date.now() };
  const metrics = createLogMetrics(handlerLog);
  queue = new InProcessReconcileQueue({
    log: handlerLog,
    worker: async (name) => {
      const report = await reconcileAndRecord({ api, store, clock, log: handlerLog, metrics, config }, { targetNames: [name], trigger: 'queue', deadline: Date.now() + 30_000 });
      return report.complete;
    },
  });
  deps = { store, clock, log: handlerLog, queue, config, metrics, webhookSecret: staticSecret(KEY) };
  serve = startServeApp({ config, api, store, clock, log, webhookSecret: KEY });
  const { port } = await serve.listen(0, '127.0.0.1');
  serveUrl = `http://127.0.0.1:${port}/webhook`;

  // a genuine delivery first, so the table and Losant hold state an attack could disturb
  const accepted = await handleWebhook(request(eventBody('first@example.com')), deps);
  expect(accepted.statusCode).toBe(202);
  await idle();
  expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).map((i) => i.email)).toEqual(['first@example.com']);
});

afterAll(async () => {
  await queue?.drain(10_000);
  await serve?.stop();
  await api?.close();
  await emulator?.close();
  ddb?.destroy();
});

function flipOneBit(signatureHeader: string): string {
  const raw = Buffer.from(signatureHeader.slice('v1,'.length), 'base64');
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 0x01;
  return `v1,${raw.toString('base64')}`;
}

/** [name, request, status, error code] */
/** [what the attacker sends, documented status, error code, the request] */
function attacks(): [string, number, string, () => APIGatewayProxyEventV2][] {
  const signed = (body: string, ts = nowSeconds(), id = `msg_${randomUUID()}`) => signWebhook(KEY, id, ts, body);
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  return [
    ['one bit of the signature flipped', 401, 'invalid_signature', () => { const b = eventBody(); const h = signed(b); return request(b, { ...h, 'webhook-signature': flipOneBit(h['webhook-signature']) }); }],
    ['signed with another secret', 401, 'invalid_signature', () => request(eventBody(), undefined, { key: OTHER_KEY })],
    ['a bare "v1," signature', 401, 'invalid_signature', () => { const b = eventBody(); return request(b, { ...signed(b), 'webhook-signature': 'v1,' }); }],
    ['a signature of another scheme', 401, 'invalid_signature', () => { const b = eventBody(); const h = signed(b); return request(b, { ...h, 'webhook-signature': h['webhook-signature'].replace('v1,', 'v1a,') }); }],
    ...(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const).map(
      (name): [string, number, string, () => APIGatewayProxyEventV2] => [
        `no ${name} header`,
        401,
        'invalid_signature',
        () => { const b = eventBody(); const h: Record<string, string> = { ...signed(b) }; delete h[name]; return request(b, h); },
      ],
    ),
    ['a timestamp 301 s old (signed for it)', 401, 'invalid_signature', () => { const b = eventBody(); return request(b, signed(b, nowSeconds() - 301)); }],
    ['a timestamp 301 s ahead (signed for it)', 401, 'invalid_signature', () => { const b = eventBody(); return request(b, signed(b, nowSeconds() + 301)); }],
    ['a fresh timestamp on a signature made for an old one', 401, 'invalid_signature', () => { const b = eventBody(); const id = `msg_${randomUUID()}`; const old = signed(b, nowSeconds() - 400, id); return request(b, { ...old, 'webhook-timestamp': String(nowSeconds()) }); }],
    ['the same JSON re-serialised with other whitespace', 401, 'invalid_signature', () => { const b = eventBody(undefined, 0); return { ...request(b), body: JSON.stringify(JSON.parse(b) as unknown, null, 2) }; }],
    ['a body over 256 KiB, unsigned', 413, 'payload_too_large', () => request(' '.repeat(MAX_WEBHOOK_BODY_BYTES + 1), {})],
    ['a body over 256 KiB, validly signed', 413, 'payload_too_large', () => { const b = eventBody() + ' '.repeat(MAX_WEBHOOK_BODY_BYTES); return request(b); }],
    ['a base64 body over 256 KiB once decoded', 413, 'payload_too_large', () => request(' '.repeat(MAX_WEBHOOK_BODY_BYTES + 1), undefined, { base64: true })],
    ['100 000 levels of nested arrays, validly signed', 400, 'invalid_event', () => request(deep)],
    ['100 000 unclosed [ , validly signed', 400, 'invalid_event', () => request('['.repeat(100_000))],
    ['an event nested 100 000 levels deep in a field, validly signed', 400, 'invalid_event', () => request(`{"id":"e1","type":"person.upserted","occurredAt":"2024-05-01T08:00:00Z","person":{"email":"deep@example.com","x":${deep}}}`)],
    ['content-type text/plain, validly signed', 415, 'unsupported_media_type', () => request(eventBody(), undefined, { contentType: 'text/plain' })],
    ['content-type application/json; charset=latin1, validly signed', 415, 'unsupported_media_type', () => request(eventBody(), undefined, { contentType: 'application/json; charset=latin1' })],
    ['no content-type, validly signed', 415, 'unsupported_media_type', () => { const e = request(eventBody()); delete e.headers['content-type']; return e; }],
    ['a valid signature over a body that is not an HR event', 400, 'invalid_event', () => request(JSON.stringify({ id: 'x', type: 'person.deleted' }))],
  ];
}

describe('Function: handleWebhook under attack', () => {
  it.each(attacks())('answers %s with %i %s and changes nothing, calls nobody', async (_name, status, code, make) => {
    // Arrange
    const before = await observe();
    const event = make();

    // Act
    const started = performance.now();
    const res: JsonResult = await handleWebhook(event, deps);
    const ms = performance.now() - started;

    // Assess
    expect(res.statusCode).toBe(status);
    expect((JSON.parse(res.body) as { error: string }).error).toBe(code);
    expect(ms).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(await observe()).toEqual(before);
  });

  it('answers a replayed delivery 200 duplicate and changes nothing, calls nobody', async () => {
    // Arrange: a genuine delivery, applied and reconciled
    const genuine = request(eventBody('replayed@example.com'));
    expect((await handleWebhook(structuredClone(genuine), deps)).statusCode).toBe(202);
    await idle();
    const before = await observe();

    // Act: the identical request again (same webhook-id, timestamp, signature, body), twice
    const first = await handleWebhook(structuredClone(genuine), deps);
    const second = await handleWebhook(structuredClone(genuine), deps);

    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(JSON.parse(first.body)).toMatchObject({ status: 'duplicate' });
    await new Promise((r) => setTimeout(r, 20));
    expect(await observe()).toEqual(before);
    expect(emulator.invites(DEFAULT_ID, DEFAULT_ID).filter((i) => i.email === 'replayed@example.com')).toHaveLength(1);
  });

  it('answers the same event id under a new, validly signed webhook-id as a duplicate (dedupe is on the event id)', async () => {
    // Arrange
    const body = eventBody('twice@example.com');
    expect((await handleWebhook(request(body), deps)).statusCode).toBe(202);
    await idle();
    const before = await observe();

    // Act
    const again = await handleWebhook(request(body), deps);

    // Assess
    expect(again.statusCode).toBe(200);
    expect(await observe()).toEqual(before);
  });

  it('never puts the secret, a computed signature or an email of a rejected body into a log line', () => {
    // Assess: over every line logged by the attacks above (and the genuine deliveries)
    expect(log.lines.length).toBeGreaterThan(0);
    expect(findLeaks(log.lines.join('\n'), [KEY, KEY.slice('whsec_'.length), OTHER_KEY, DEFAULT_TOKEN])).toEqual([]);
  });
});

describe('Command: invite-sync serve (POST /webhook over HTTP) under attack', () => {
  // [what the attacker sends, documented status, the request]; past 16 MiB serve may drop the connection instead of draining it
  it.each([
    ['a 1 MiB body', 413, () => ({ body: 'x'.repeat(1024 * 1024), headers: { 'content-type': 'application/json' } })],
    ['a 20 MiB body', 413, () => ({ body: 'x'.repeat(20 * 1024 * 1024), headers: { 'content-type': 'application/json' } }), 'mayDrop'],
    ['100 000 levels of nested arrays, validly signed', 400, () => { const b = '['.repeat(100_000) + ']'.repeat(100_000); return { body: b, headers: { 'content-type': 'application/json', ...signWebhook(KEY, `msg_${randomUUID()}`, nowSeconds(), b) } }; }],
    ['a forged signature', 401, () => { const b = eventBody(); return { body: b, headers: { 'content-type': 'application/json', ...signWebhook(OTHER_KEY, `msg_${randomUUID()}`, nowSeconds(), b) } }; }],
    ['text/plain, validly signed', 415, () => { const b = eventBody(); return { body: b, headers: { 'content-type': 'text/plain', ...signWebhook(KEY, `msg_${randomUUID()}`, nowSeconds(), b) } }; }],
  ] as [string, number, () => { body: string; headers: Record<string, string> }, 'mayDrop'?][])('answers %s with %i and changes nothing, calls nobody', async (_name, status, make, mayDrop) => {
    // Arrange
    const before = await observe();
    const { body, headers } = make();

    // Act
    let answered: number | 'dropped';
    try {
      const res = await fetch(serveUrl, { method: 'POST', headers, body });
      answered = res.status;
      await res.text().catch(() => '');
    } catch (err) {
      if (!mayDrop) throw new Error(`no HTTP answer: ${(err as Error).message}`, { cause: err });
      answered = 'dropped';
    }

    // Assess
    expect(mayDrop ? [status, 'dropped'] : [status]).toContain(answered);
    await new Promise((r) => setTimeout(r, 20));
    expect(await observe()).toEqual(before);
    expect(serve.queue.size).toBe(0);
  });
});
