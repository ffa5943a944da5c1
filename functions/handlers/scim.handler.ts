// HTTP API (ANY /scim/v2/{proxy+}) or serve --> handleScimHttp: size, bearer token, throttle, media type, JSON
// --> handleScim (functions/scim/service.ts) --> application/scim+json answer. Losant is not called here.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Container } from '../runtime/composition-root.ts';
import { ScimTokenConfigError } from '../scim/auth.ts';
import { scimErrorBody, ScimError } from '../scim/errors.ts';
import { scimFail } from '../scim/fail.ts';
import { handleScim } from '../scim/service.ts';
import { SecretError } from '../secrets/secrets-manager.ts';
import { maskEmails } from '../sync/email.ts';
import { isJsonContentType } from './webhook.handler.ts';
import type { JsonResult } from './http.ts';

export const SCIM_BASE_PATH = '/scim/v2';
/** Largest SCIM body accepted (bytes, after base64 decoding). */
export const MAX_SCIM_BODY_BYTES = 256 * 1024;
export const SCIM_CONTENT_TYPE = 'application/scim+json';
/**
 * Largest SCIM answer body sent (bytes). Lambda answers at most 6 MB, counted on the body as a JSON string
 * inside its response (every quote escaped): past that API Gateway answers 500 and the IdP retries forever.
 */
export const MAX_SCIM_ANSWER_BYTES = 4 * 1024 * 1024;

export type ScimHttpDeps = Pick<Container, 'config' | 'store' | 'queue' | 'clock' | 'log' | 'metrics' | 'scim'>;

/** True for a path under `/scim/v2` (the route the SCIM handler owns). */
export function isScimPath(rawPath: string): boolean {
  return rawPath === SCIM_BASE_PATH || rawPath.startsWith(`${SCIM_BASE_PATH}/`);
}

function scimResult(status: number, body: unknown, headers: Record<string, string> = {}): JsonResult {
  return {
    statusCode: status,
    headers: { 'cache-control': 'no-store', ...(body === undefined ? {} : { 'content-type': SCIM_CONTENT_TYPE }), ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

const errorResult = (e: ScimError, headers: Record<string, string> = {}): JsonResult => scimResult(e.status, scimErrorBody(e), headers);

/** The 413 SCIM error a body over MAX_SCIM_BODY_BYTES gets (serve answers it before reading the rest). */
export const scimPayloadTooLarge = (): JsonResult => errorResult(scimFail(413, undefined, `body is larger than ${MAX_SCIM_BODY_BYTES} bytes`));

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name && v !== undefined) return v;
  return undefined;
}

/**
 * One SCIM request. Checks, in this order: SCIM enabled (404), body size (413), bearer token (401, a
 * detail that says nothing about users; 503 when the token secret is unusable), per-token throttle (429),
 * media type on writes (415: application/scim+json or application/json), JSON (400 invalidSyntax).
 * @example const res = await handleScimHttp(event, container, { baseUrl: 'http://127.0.0.1:8080/scim/v2' })
 */
export async function handleScimHttp(event: APIGatewayProxyEventV2, deps: ScimHttpDeps, opts: { baseUrl?: string } = {}): Promise<JsonResult> {
  const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
  const rawPath = event.rawPath ?? '/';
  if (!deps.scim) return errorResult(scimFail(404, undefined, 'SCIM is not enabled on this stage'));
  const payload = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8');
  if (payload.length > MAX_SCIM_BODY_BYTES) return scimPayloadTooLarge();

  let caller;
  try {
    caller = await deps.scim.auth.authenticate(header(event, 'authorization'));
  } catch (err) {
    if (err instanceof ScimTokenConfigError || err instanceof SecretError) {
      deps.log.error('SCIM tokens cannot be read', { error: err.message });
      return errorResult(scimFail(503, undefined, 'SCIM authentication is not available; retry later'));
    }
    throw err;
  }
  if (!caller) {
    deps.log.warn('SCIM request refused: no valid bearer token', { method });
    return errorResult(scimFail(401, undefined, 'authentication required: send Authorization: Bearer <token>'), { 'www-authenticate': 'Bearer realm="invite-sync SCIM"' });
  }
  if (deps.scim.throttle && !deps.scim.throttle.take(caller.tokenId)) {
    const retry = deps.scim.throttle.retryAfterSeconds(caller.tokenId);
    deps.log.warn('SCIM request throttled', { tokenId: caller.tokenId, source: caller.source });
    return errorResult(scimFail(429, undefined, `too many requests for this token; retry after ${retry} s`), { 'retry-after': String(retry) });
  }

  let body: unknown;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    if (!isJsonContentType(header(event, 'content-type'))) {
      return errorResult(scimFail(415, undefined, `content-type must be ${SCIM_CONTENT_TYPE} or application/json`));
    }
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return errorResult(scimFail(400, 'invalidSyntax', 'body is not valid JSON'));
    }
  }

  const query: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) query[k] = v;
  const domain = event.requestContext?.domainName ?? 'localhost';
  const baseUrl = opts.baseUrl ?? `https://${domain}${SCIM_BASE_PATH}`;
  const started = deps.clock.now();
  let res;
  try {
    res = await handleScim(
    { scim: deps.scim.store, config: deps.config, queue: deps.queue, leases: deps.store, clock: deps.clock, log: deps.log, metrics: deps.metrics },
      { method, path: rawPath.slice(SCIM_BASE_PATH.length) || '/', query, body, ifMatch: header(event, 'if-match'), baseUrl, caller },
    );
  } catch (err) {
    // a store or queue failure: the IdP retries; the body names nothing of the request
    deps.log.error('scim request failed', { method, source: caller.source, error: maskEmails((err as Error).message), errorName: (err as Error).name });
    return errorResult(scimFail(500, undefined, 'the request could not be completed; retry later'));
  }
  const kind = rawPath.slice(SCIM_BASE_PATH.length).split('/')[1] ?? '';
  deps.log.info('scim request', { method, resource: kind, status: res.status, source: caller.source, tokenId: caller.tokenId, ms: deps.clock.now() - started });
  if (res.body instanceof ScimError) return errorResult(res.body, res.headers);
  const out = scimResult(res.status, res.body, res.headers);
  const max = deps.scim.maxAnswerBytes ?? MAX_SCIM_ANSWER_BYTES;
  const bytes = Buffer.byteLength(out.body);
  if (bytes <= max) return out;
  // a PATCH is done: RFC 7644 §3.5.2 lets it answer 204 with its headers instead of the whole resource (a large group)
  if (method === 'PATCH' && res.status === 200) return scimResult(204, undefined, res.headers);
  deps.log.warn('scim answer too large', { method, resource: kind, bytes, source: caller.source });
  return errorResult(scimFail(400, 'tooMany', `the answer would be ${bytes} bytes, more than ${max}: ask with excludedAttributes=members (groups) or a smaller count`));
}
