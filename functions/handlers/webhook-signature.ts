// webhook handler --> verifyWebhookSignature (Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, ±300 s)
import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Standard Webhooks' tolerance between the sender's timestamp and our clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** Shortest signing key accepted, in bytes after base64 decoding (Standard Webhooks asks for 24 to 64). */
export const MIN_WEBHOOK_KEY_BYTES = 24;

export type SignatureFailure = 'missingHeaders' | 'badTimestamp' | 'timestampTooOld' | 'timestampTooNew' | 'noMatchingSignature' | 'noKeys';

export type SignatureResult = { ok: true; keyIndex: number } | { ok: false; reason: SignatureFailure };

/** What a 401 answer says for each failure (no secret, no computed signature). */
export const SIGNATURE_FAILURE_MESSAGES: Record<SignatureFailure, string> = {
  missingHeaders: 'missing webhook-id, webhook-timestamp or webhook-signature header',
  badTimestamp: 'webhook-timestamp must be a Unix time in seconds',
  timestampTooOld: `webhook-timestamp is more than ${WEBHOOK_TOLERANCE_SECONDS} s in the past`,
  timestampTooNew: `webhook-timestamp is more than ${WEBHOOK_TOLERANCE_SECONDS} s in the future`,
  noMatchingSignature: 'no signature matches',
  noKeys: 'no signing key configured',
};

/** A webhook secret key that is not a usable `whsec_<base64>` value (or is too short). Never carries the key. */
export class WebhookKeyError extends Error {
  readonly index: number;
  constructor(message: string, index: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebhookKeyError';
    this.index = index;
  }
}

const verifiers = new Map<string, Webhook>();

function verifierFor(key: string, index: number): Webhook {
  let wh = verifiers.get(key);
  if (!wh) {
    try {
      wh = new Webhook(key);
    } catch (err) {
      throw new WebhookKeyError(`webhook signing key #${index + 1} is not a valid whsec_ key`, index, { cause: err });
    }
    // the library keeps the decoded key private; its length is all we read
    const bytes = (wh as unknown as { key: Uint8Array }).key.length;
    if (bytes < MIN_WEBHOOK_KEY_BYTES) {
      throw new WebhookKeyError(`webhook signing key #${index + 1} is ${bytes} bytes; at least ${MIN_WEBHOOK_KEY_BYTES} are required (whsec_ + base64 of 24 to 64 random bytes)`, index);
    }
    if (verifiers.size > 16) verifiers.clear();
    verifiers.set(key, wh);
  }
  return wh;
}

/**
 * Splits a webhook secret into its keys: several space- (or newline-) separated `whsec_…` values,
 * so a key can be rotated without downtime (old and new are both accepted until the old is removed).
 * Throws WebhookKeyError for a key the library cannot decode or one shorter than 24 bytes.
 * @example parseWebhookKeys('whsec_old whsec_new') // ['whsec_old', 'whsec_new']
 */
export function parseWebhookKeys(secret: string): string[] {
  const keys = secret.split(/\s+/).filter((k) => k.length > 0);
  keys.forEach((k, i) => verifierFor(k, i));
  return keys;
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface VerifyInput {
  /** the raw body exactly as received */
  payload: Buffer | string;
  /** request headers (any case) */
  headers: Record<string, string | undefined>;
  /** `whsec_…` keys; any one that verifies is enough */
  keys: string[];
  /** epoch ms of our clock */
  nowMs: number;
}

/**
 * Verifies a Standard Webhooks request: `webhook-timestamp` within ±300 s of `nowMs`, then a `v1,`
 * signature in `webhook-signature` (space-separated list) equal to HMAC-SHA256(key, `id.timestamp.body`)
 * for one of the keys. The HMAC is the `standardwebhooks` library's `sign()`; the clock is ours
 * (the library's `verify()` reads Date.now(), which a test cannot fix).
 * @example verifyWebhookSignature({ payload: body, headers, keys: ['whsec_…'], nowMs: Date.now() })
 */
export function verifyWebhookSignature(input: VerifyInput): SignatureResult {
  const id = header(input.headers, 'webhook-id');
  const timestamp = header(input.headers, 'webhook-timestamp');
  const signatures = header(input.headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missingHeaders' };
  if (!/^\d{1,12}$/.test(timestamp.trim())) return { ok: false, reason: 'badTimestamp' };
  const seconds = Number(timestamp.trim());
  const nowSeconds = Math.floor(input.nowMs / 1000);
  if (nowSeconds - seconds > WEBHOOK_TOLERANCE_SECONDS) return { ok: false, reason: 'timestampTooOld' };
  if (seconds - nowSeconds > WEBHOOK_TOLERANCE_SECONDS) return { ok: false, reason: 'timestampTooNew' };
  if (input.keys.length === 0) return { ok: false, reason: 'noKeys' };

  const passed = signatures
    .split(' ')
    .map((s) => s.split(','))
    .filter((parts): parts is [string, string] => parts.length === 2 && parts[0] === 'v1' && parts[1] !== undefined && parts[1].length > 0)
    .map((parts) => parts[1]);
  if (passed.length === 0) return { ok: false, reason: 'noMatchingSignature' };
  for (const [index, key] of input.keys.entries()) {
    const expected = verifierFor(key, index).sign(id, new Date(seconds * 1000), input.payload).slice('v1,'.length);
    if (passed.some((sig) => sameText(sig, expected))) return { ok: true, keyIndex: index };
  }
  return { ok: false, reason: 'noMatchingSignature' };
}

/**
 * Signs a body as a Standard Webhooks sender does (serve's docs, tests, the demo).
 * @returns the three headers to send
 */
export function signWebhook(key: string, msgId: string, timestampSeconds: number, payload: string): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': verifierFor(key, 0).sign(msgId, new Date(timestampSeconds * 1000), payload),
  };
}
