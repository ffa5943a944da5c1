// API Gateway HTTP API (POST /webhook) --> handleWebhook: size, signature, media type, event --> ingestAndQueue --> 202
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas/api-gatewayv2';
import { parseHrEvent, type HrEvent } from '../sync/events.ts';
import { InputError } from '../sync/errors.ts';
import type { Container } from '../runtime/composition-root.ts';
import { getHttpContainer, type HttpContainer } from '../runtime/http-container.ts';
import { WEBHOOK_ACCEPTED, WEBHOOK_MISCONFIGURED, WEBHOOK_REJECTED } from '../runtime/metric-names.ts';
import { maskEmails } from '../sync/email.ts';
import { errorResponse, jsonResponse, type JsonResult } from './http.ts';
import { handleScimHttp, isScimPath } from './scim.handler.ts';
import { countRejectedEvent, ingestAndQueue, type IngestDeps } from './ingest-and-queue.ts';
import { parseWebhookKeys, SIGNATURE_FAILURE_MESSAGES, verifyWebhookSignature, WebhookKeyError, type SignatureResult } from './webhook-signature.ts';

export const WEBHOOK_PATH = '/webhook';
/** Largest body accepted (bytes, after base64 decoding). */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;
/** Most validation issues one 400 answer lists. */
const MAX_ISSUES = 50;

export type WebhookDeps = IngestDeps & Pick<Container, 'webhookSecret'>;

/** `application/json` or `application/<x>+json`, with no charset or charset utf-8. */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [type = '', ...params] = value.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type)) return false;
  return params.every((p) => {
    if (p === '') return true;
    const [name = '', raw = ''] = p.split('=', 2).map((s) => s.trim());
    if (name !== 'charset') return true;
    return raw.replace(/^"|"$/g, '') === 'utf-8';
  });
}

function lowerCaseHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

async function verify(deps: WebhookDeps, payload: Buffer, headers: Record<string, string>): Promise<SignatureResult> {
  const check = (secret: string) => verifyWebhookSignature({ payload, headers, keys: parseWebhookKeys(secret), nowMs: deps.clock.now() });
  const cached = await deps.webhookSecret.get();
  let first: SignatureResult;
  try {
    first = check(cached);
  } catch (err) {
    if (!(err instanceof WebhookKeyError)) throw err;
    // the operator may have fixed the secret since the cold start (refetch is rate-limited)
    const fresh = await deps.webhookSecret.get({ refresh: true });
    if (fresh === cached) throw err;
    return check(fresh);
  }
  if (first.ok || first.reason !== 'noMatchingSignature') return first;
  // every cached key failed: the key may have been rotated since the cold start (refetch is rate-limited)
  const fresh = await deps.webhookSecret.get({ refresh: true });
  return fresh === cached ? first : check(fresh);
}

/** 400 `invalid_event` naming each bad field; counted in `EventsRejected`. */
function rejected(deps: WebhookDeps, err: InputError): JsonResult {
  deps.log.warn('webhook rejected: invalid event', { message: maskEmails(err.message), issues: err.issues.length });
  countRejectedEvent(deps);
  return errorResponse(400, 'invalid_event', err.message, { issues: err.issues.slice(0, MAX_ISSUES).map((i) => ({ path: i.path, message: i.message })) });
}

/**
 * The signed HR webhook. Checks, in this order: route and method (404/405), body size (413),
 * Standard Webhooks signature and timestamp (401), media type (415), JSON and HR event (400 naming
 * each bad field). A signing key that is unusable (not `whsec_<base64>`, or under 24 bytes) answers
 * 503 `{"error":"misconfigured"}` with one error log line and the metric `WebhookMisconfigured`. A valid event is ingested and answered 202 `{status, eventId, touched}` once its
 * touched targets are queued; Losant is not called here.
 *
 * Dedupe is on the HR event's `id` (the same id the EventBridge path dedupes on, so an event sent
 * both ways applies once): a redelivery, which carries the same `webhook-id` and body, answers 200
 * `{status: "duplicate"}` with no second effect. A new `webhook-id` with an already-seen event id is
 * a duplicate too; the `webhook-id` itself only feeds the signature.
 *
 * Every answer on the webhook route is counted: `WebhookAccepted` (200, 202) or `WebhookRejected`
 * (400, 401, 413, 415), which the WebhookRejections alarm reads (webhook traffic only, not SCIM's).
 * @example const res = await handleWebhook(event, container)
 */
export async function handleWebhook(event: APIGatewayProxyEventV2, deps: WebhookDeps): Promise<JsonResult> {
  const res = await answerWebhook(event, deps);
  const counted = res.statusCode === 200 || res.statusCode === 202 ? WEBHOOK_ACCEPTED : WEBHOOK_COUNTED_REFUSALS.has(res.statusCode) ? WEBHOOK_REJECTED : undefined;
  if (counted) {
    deps.metrics.addMetric(counted, 'Count', 1);
    deps.metrics.publishStoredMetrics();
  }
  return res;
}

/** The refusals WebhookRejected counts: what a sender with the wrong key or a wrong body gets (not 404/405, a scanner's). */
const WEBHOOK_COUNTED_REFUSALS = new Set([400, 401, 413, 415]);

async function answerWebhook(event: APIGatewayProxyEventV2, deps: WebhookDeps): Promise<JsonResult> {
  const outer = APIGatewayProxyEventV2Schema.safeParse(event);
  if (!outer.success) {
    deps.log.warn('webhook rejected: not an HTTP API v2 event', { issues: outer.error.issues.slice(0, 5).map((i) => i.path.join('.')) });
    return errorResponse(400, 'invalid_request', 'not an HTTP API request');
  }
  const req = outer.data;
  const path = req.rawPath.replace(/\/+$/, '') || '/';
  if (path !== WEBHOOK_PATH && req.routeKey !== `POST ${WEBHOOK_PATH}`) return errorResponse(404, 'not_found', `no route ${path}`);
  if (req.requestContext.http.method !== 'POST') return errorResponse(405, 'method_not_allowed', 'use POST', {}, { allow: 'POST' });

  const payload = req.isBase64Encoded ? Buffer.from(req.body ?? '', 'base64') : Buffer.from(req.body ?? '', 'utf8');
  if (payload.length > MAX_WEBHOOK_BODY_BYTES) {
    deps.log.warn('webhook rejected: body too large', { bytes: payload.length });
    return errorResponse(413, 'payload_too_large', `body is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes`);
  }

  const headers = lowerCaseHeaders(req.headers);
  let signature: SignatureResult;
  try {
    signature = await verify(deps, payload, headers);
  } catch (err) {
    if (err instanceof WebhookKeyError) {
      // a weak or broken key is the operator's to fix: no request can be trusted until then
      deps.log.error('webhook misconfigured: WEBHOOK_SECRET holds an unusable key', { error: err.message, keyIndex: err.index + 1 });
      deps.metrics.addMetric(WEBHOOK_MISCONFIGURED, 'Count', 1);
      deps.metrics.publishStoredMetrics();
      return jsonResponse(503, { error: 'misconfigured' });
    }
    deps.log.error('webhook signature cannot be checked', { error: (err as Error).message, errorName: (err as Error).name });
    return errorResponse(500, 'internal', 'webhook verification is not available; retry later');
  }
  if (!signature.ok) {
    deps.log.warn('webhook rejected: bad signature', { reason: signature.reason });
    return errorResponse(401, 'invalid_signature', SIGNATURE_FAILURE_MESSAGES[signature.reason]);
  }

  if (!isJsonContentType(headers['content-type'])) {
    return errorResponse(415, 'unsupported_media_type', 'content-type must be application/json (charset utf-8)');
  }

  let hrEvent: HrEvent;
  try {
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch {
      throw new InputError('body is not valid JSON', [{ path: '(root)', message: 'not valid JSON' }]);
    }
    hrEvent = parseHrEvent(doc);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return rejected(deps, err);
  }

  deps.log.appendKeys({ eventId: hrEvent.id });
  try {
    const result = await ingestAndQueue(deps, hrEvent, 'webhook');
    if (result.status === 'duplicate') return jsonResponse(200, { status: 'duplicate', eventId: hrEvent.id });
    return jsonResponse(202, { status: result.status, eventId: hrEvent.id, touched: result.touched.length, ...(result.run ? { runId: result.run.runId } : {}), ...(result.blocked ? { blocked: result.blocked } : {}) });
  } catch (err) {
    if (err instanceof InputError) return rejected(deps, err);
    deps.log.error('webhook event could not be stored', { error: (err as Error).message, errorName: (err as Error).name });
    return errorResponse(500, 'internal', 'the event could not be stored; retry later');
  } finally {
    deps.log.removeKeys(['eventId']);
  }
}

/**
 * The HTTP API's routes: `/scim/v2/…` to the SCIM handler, everything else to the webhook.
 * @example const res = await handleHttp(event, container)
 */
export async function handleHttp(event: APIGatewayProxyEventV2, deps: HttpContainer): Promise<JsonResult> {
  if (typeof event?.rawPath === 'string' && isScimPath(event.rawPath)) return handleScimHttp(event, deps);
  return handleWebhook(event, deps);
}

/** The HTTP function's entry (lib/invite-sync-stack.ts, SyncFunction 'Http'): it builds no Losant client, S3 reader or run events. */
export const handler = async (event: APIGatewayProxyEventV2): Promise<JsonResult> => handleHttp(event, await getHttpContainer());
