// The webhook handler's gatekeeping without a database: order of checks, media types, bad JSON, key rotation.
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { handleWebhook, isJsonContentType, MAX_WEBHOOK_BODY_BYTES, type WebhookDeps } from '../../functions/handlers/webhook.handler.ts';
import { signWebhook } from '../../functions/handlers/webhook-signature.ts';
import { keyedLog } from '../../functions/runtime/logger.ts';
import { createLogMetrics } from '../../functions/runtime/metrics.ts';
import { memoryMetrics } from '../helpers/aws-local.ts';
import { parseSyncConfig } from '../../functions/config/sync-config.schema.ts';
import type { Log, ReconcileQueue, StateStore } from '../../functions/sync/ports.ts';
import type { SecretSource } from '../../functions/secrets/secrets-manager.ts';
import { fixture, fixtureText } from '../helpers/fixtures.ts';

const FIXTURE: APIGatewayProxyEventV2 = fixture('lambda/http-api-webhook.json');
const HR_EVENT = fixtureText('lambda/hr-person-upserted.json');

const KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEW_KEY = `whsec_${Buffer.from('the-rotated-key-of-thirty-two-b!').toString('base64')}`;
const NOW_S = 1_714_550_400;

function lines(): Log & { lines: string[] } {
  const out: string[] = [];
  const push = (lvl: string) => (m: string, e?: Record<string, unknown>) => out.push(`${lvl} ${m} ${e ? JSON.stringify(e) : ''}`);
  return { lines: out, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/** A store that fails the test if the handler reaches it (none of these requests may). */
const untouchedStore = new Proxy({} as StateStore, {
  get: (_t, prop) => () => {
    throw new Error(`store.${String(prop)} must not be called`);
  },
});

function countingSecret(values: string[]): SecretSource & { fetches: number } {
  const src = {
    fetches: 0,
    get(opts?: { refresh?: boolean }) {
      if (src.fetches === 0 || opts?.refresh) src.fetches++;
      return Promise.resolve(values[Math.min(src.fetches - 1, values.length - 1)]!);
    },
  };
  return src;
}

function deps(secret: SecretSource = countingSecret([KEY])): WebhookDeps & { queued: string[][]; log: ReturnType<typeof keyedLog>; raw: ReturnType<typeof lines> } {
  const raw = lines();
  const log = keyedLog(raw);
  const queued: string[][] = [];
  const queue: ReconcileQueue = { enqueue: async (names) => void queued.push(names) };
  return {
    raw,
    queued,
    log,
    store: untouchedStore,
    queue,
    clock: { now: () => NOW_S * 1000 },
    metrics: createLogMetrics(log),
    config: parseSyncConfig({ targets: [{ name: 'eng', instanceId: '575ec8687ae143cd83dc4a97', orgId: '575ec8687ae143cd83dc4a97', rules: [{ role: 'view' }] }] }),
    webhookSecret: secret,
  };
}

function request(body: string, opts: { key?: string | null; contentType?: string; base64?: boolean; timestamp?: number; method?: string; path?: string } = {}): APIGatewayProxyEventV2 {
  const event = structuredClone(FIXTURE);
  const signed = opts.key === null ? {} : signWebhook(opts.key ?? KEY, 'msg_unit_1', opts.timestamp ?? NOW_S, body);
  const { 'webhook-id': _i, 'webhook-timestamp': _t, 'webhook-signature': _s, ...rest } = event.headers;
  event.headers = { ...rest, ...signed, 'content-type': opts.contentType ?? 'application/json' };
  event.body = opts.base64 ? Buffer.from(body).toString('base64') : body;
  event.isBase64Encoded = opts.base64 ?? false;
  if (opts.method) event.requestContext.http.method = opts.method;
  if (opts.path) {
    event.rawPath = opts.path;
    event.routeKey = '$default';
  }
  return event;
}

const json = (body: string | undefined) => JSON.parse(body ?? 'null') as Record<string, unknown>;

describe('Function: handleWebhook', () => {
  it('counts WebhookRejected for each refusal a sender can fix (401, 413, 415, 400) and nothing for 404/405', async () => {
    // Arrange
    const published: Record<string, number>[] = [];
    const counted = { ...deps(), metrics: memoryMetrics(published) };
    const asked = [
      request(HR_EVENT, { key: NEW_KEY }),
      request(`{"pad":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}"}`, { key: null }),
      request(HR_EVENT, { contentType: 'text/plain' }),
      request('{"not":"an event"}'),
      request(HR_EVENT, { method: 'GET' }),
      request(HR_EVENT, { path: '/other' }),
    ];

    // Act
    const statuses: number[] = [];
    for (const event of asked) statuses.push((await handleWebhook(event, counted)).statusCode);

    // Assert
    expect(statuses).toEqual([401, 413, 415, 400, 405, 404]);
    expect(published.reduce((n, m) => n + (m.WebhookRejected ?? 0), 0)).toBe(4);
    expect(published.some((m) => 'WebhookAccepted' in m)).toBe(false);
  });

  it('returns 413 for an oversized unsigned body (size is checked before the signature)', async () => {
    // Arrange
    const body = `{"pad":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}"}`;
    // Act
    const res = await handleWebhook(request(body, { key: null }), deps());
    // Assert
    expect(res.statusCode).toBe(413);
    expect(json(res.body).error).toBe('payload_too_large');
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('returns 401 for a body of the maximum size that is not signed', async () => {
    const body = `{"p":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES - 8)}"}`;
    expect(Buffer.byteLength(body)).toBe(MAX_WEBHOOK_BODY_BYTES);
    const res = await handleWebhook(request(body, { key: null }), deps());
    expect(res.statusCode).toBe(401);
    expect(json(res.body)).toMatchObject({ error: 'invalid_signature' });
  });

  it('returns 401 for a body signed with a key we do not hold, and never echoes a key', async () => {
    const res = await handleWebhook(request(HR_EVENT, { key: NEW_KEY }), deps());
    expect(res.statusCode).toBe(401);
    expect(res.body).not.toContain(KEY.slice(6));
    expect(res.body).not.toContain(NEW_KEY.slice(6));
  });

  it('returns 401 for a signature older than the tolerance', async () => {
    const res = await handleWebhook(request(HR_EVENT, { timestamp: NOW_S - 301 }), deps());
    expect(res.statusCode).toBe(401);
    expect(json(res.body).message).toContain('past');
  });

  it('returns 415 for a signed body that is not JSON by its content type', async () => {
    const res = await handleWebhook(request(HR_EVENT, { contentType: 'text/plain' }), deps());
    expect(res.statusCode).toBe(415);
    expect(json(res.body).error).toBe('unsupported_media_type');
  });

  it('returns 400 naming the field for a signed event with a bad email', async () => {
    // Arrange
    const doc = JSON.parse(HR_EVENT) as { person: { email: string } };
    doc.person.email = 'not-an-email';
    // Act
    const res = await handleWebhook(request(JSON.stringify(doc)), deps());
    // Assert
    expect(res.statusCode).toBe(400);
    const body = json(res.body) as { error: string; message: string; issues: { path: string; message: string }[] };
    expect(body.error).toBe('invalid_event');
    expect(body.message).toContain('person.email');
    expect(body.issues).toContainEqual({ path: 'person.email', message: 'invalid email' });
  });

  it('returns 400 listing every bad field', async () => {
    const res = await handleWebhook(request(JSON.stringify({ id: '', type: 'person.upserted', occurredAt: 'yesterday', person: { email: 'a@b.co' }, extra: 1 })), deps());
    const paths = (json(res.body).issues as { path: string }[]).map((i) => i.path);
    expect(res.statusCode).toBe(400);
    expect(paths).toEqual(expect.arrayContaining(['id', 'occurredAt', 'extra']));
  });

  it('returns 400 for a signed body that is not JSON at all', async () => {
    const res = await handleWebhook(request('{"id": "x",'), deps());
    expect(res.statusCode).toBe(400);
    expect(json(res.body)).toMatchObject({ error: 'invalid_event', issues: [{ path: '(root)', message: 'not valid JSON' }] });
  });

  it('returns 400 without crashing for deeply nested JSON', async () => {
    const depth = 60_000;
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const body = `{"id":"e1","type":"roster.snapshot","occurredAt":"2024-05-01T08:00:00Z","people":${nested},"x":{"y":${nested}}}`;
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_WEBHOOK_BODY_BYTES);
    const res = await handleWebhook(request(body), deps());
    expect(res.statusCode).toBe(400);
    expect(json(res.body).error).toBe('invalid_event');
  });

  it('verifies a base64-encoded body over its decoded bytes', async () => {
    // an invalid event that passes the signature check reaches validation (400), a failed check is 401
    const res = await handleWebhook(request('{"test": 2432232314}', { base64: true }), deps());
    expect(res.statusCode).toBe(400);
  });

  it('refetches the secret once when no cached key verifies, and accepts the rotated key', async () => {
    // Arrange: the cold start cached KEY; the secret now holds KEY and NEW_KEY
    const secret = countingSecret([KEY, `${KEY} ${NEW_KEY}`]);
    const d = deps(secret);
    // Act: an invalid event signed with the new key: passing the signature shows as 400, not 401
    const res = await handleWebhook(request('{"test": 1}', { key: NEW_KEY }), d);
    // Assert
    expect(res.statusCode).toBe(400);
    expect(secret.fetches).toBe(2);
  });

  it('returns 404 for another path and 405 for another method', async () => {
    const notFound = await handleWebhook(request(HR_EVENT, { path: '/hooks' }), deps());
    const wrongMethod = await handleWebhook(request(HR_EVENT, { method: 'GET' }), deps());
    expect(notFound.statusCode).toBe(404);
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  it('returns 503 misconfigured without the key when the secret holds an invalid key', async () => {
    const d = deps(countingSecret(['whsec_%%%notbase64%%%']));
    const res = await handleWebhook(request(HR_EVENT), d);
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ error: 'misconfigured' });
    expect(res.body).not.toContain('notbase64');
    expect(d.raw.lines.join('\n')).not.toContain('notbase64');
  });
});

describe('Function: isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON; Charset="UTF-8"', true],
    ['application/cloudevents+json', true],
    ['application/json; charset=iso-8859-1', false],
    ['text/json', false],
    ['application/jsonp', false],
    ['', false],
  ])('returns %s → %s', (value, expected) => {
    expect(isJsonContentType(value)).toBe(expected);
  });
});
