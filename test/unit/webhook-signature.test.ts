// Standard Webhooks verification: known-answer vector, tolerance edges, rotation, agreement with the library.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import {
  parseWebhookKeys,
  signWebhook,
  verifyWebhookSignature,
  WebhookKeyError,
} from '../../functions/handlers/webhook-signature.ts';

// The test vector of the Standard Webhooks spec / reference libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const OTHER_KEY = `whsec_${Buffer.from('another-signing-key-32-bytes-long!').toString('base64')}`;

function vectorHeaders(overrides: Record<string, string> = {}): Record<string, string> {
  return { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature, ...overrides };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Function: verifyWebhookSignature', () => {
  it('returns ok for the spec test vector at its own timestamp', () => {
    // Arrange
    const nowMs = VECTOR.timestamp * 1000;
    // Act
    const result = verifyWebhookSignature({ payload: VECTOR.payload, headers: vectorHeaders(), keys: [VECTOR.secret], nowMs });
    // Assert
    expect(result).toEqual({ ok: true, keyIndex: 0 });
  });

  it('returns noMatchingSignature when one byte of the body changes', () => {
    const result = verifyWebhookSignature({
      payload: VECTOR.payload.replace('2432232314', '2432232315'),
      headers: vectorHeaders(),
      keys: [VECTOR.secret],
      nowMs: VECTOR.timestamp * 1000,
    });
    expect(result).toEqual({ ok: false, reason: 'noMatchingSignature' });
  });

  it('returns noMatchingSignature when the webhook-id differs from the signed one', () => {
    const result = verifyWebhookSignature({
      payload: VECTOR.payload,
      headers: vectorHeaders({ 'webhook-id': 'msg_other' }),
      keys: [VECTOR.secret],
      nowMs: VECTOR.timestamp * 1000,
    });
    expect(result).toEqual({ ok: false, reason: 'noMatchingSignature' });
  });

  it.each([
    ['299 s in the past', -299, { ok: true, keyIndex: 0 }],
    ['299 s in the future', 299, { ok: true, keyIndex: 0 }],
    ['301 s in the past', -301, { ok: false, reason: 'timestampTooOld' }],
    ['301 s in the future', 301, { ok: false, reason: 'timestampTooNew' }],
  ])('returns the right verdict for a timestamp %s', (_label, offsetSeconds, expected) => {
    // Arrange: a body signed at `timestamp`, checked by a clock `offset` away from it
    const timestamp = 1_700_000_000 + offsetSeconds;
    const headers = signWebhook(VECTOR.secret, 'msg_tolerance', timestamp, '{"a":1}');
    // Act
    const result = verifyWebhookSignature({ payload: '{"a":1}', headers, keys: [VECTOR.secret], nowMs: 1_700_000_000_000 });
    // Assert
    expect(result).toEqual(expected);
  });

  it('returns ok with the index of the second key during a rotation', () => {
    const result = verifyWebhookSignature({ payload: VECTOR.payload, headers: vectorHeaders(), keys: [OTHER_KEY, VECTOR.secret], nowMs: VECTOR.timestamp * 1000 });
    expect(result).toEqual({ ok: true, keyIndex: 1 });
  });

  it('returns noMatchingSignature when no configured key signed it', () => {
    const result = verifyWebhookSignature({ payload: VECTOR.payload, headers: vectorHeaders(), keys: [OTHER_KEY], nowMs: VECTOR.timestamp * 1000 });
    expect(result).toEqual({ ok: false, reason: 'noMatchingSignature' });
  });

  it('returns ok when the matching signature is one of several in the header', () => {
    const headers = vectorHeaders({ 'webhook-signature': `v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1a,ignored ${VECTOR.signature}` });
    const result = verifyWebhookSignature({ payload: VECTOR.payload, headers, keys: [VECTOR.secret], nowMs: VECTOR.timestamp * 1000 });
    expect(result).toEqual({ ok: true, keyIndex: 0 });
  });

  it('returns missingHeaders without a signature header, and badTimestamp for a non-numeric timestamp', () => {
    const { 'webhook-signature': _dropped, ...noSignature } = vectorHeaders();
    const missing = verifyWebhookSignature({ payload: VECTOR.payload, headers: noSignature, keys: [VECTOR.secret], nowMs: VECTOR.timestamp * 1000 });
    const bad = verifyWebhookSignature({
      payload: VECTOR.payload,
      headers: vectorHeaders({ 'webhook-timestamp': '1614265330abc' }),
      keys: [VECTOR.secret],
      nowMs: VECTOR.timestamp * 1000,
    });
    expect(missing).toEqual({ ok: false, reason: 'missingHeaders' });
    expect(bad).toEqual({ ok: false, reason: 'badTimestamp' });
  });

  it('returns the same verdict as the standardwebhooks library verify() at the same time', () => {
    // Arrange: the library reads Date.now(), so fix the system time to the vector's
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(VECTOR.timestamp * 1000);
    const wh = new Webhook(VECTOR.secret);
    const tampered = '{"test": 1}';
    // Act
    const ours = [VECTOR.payload, tampered].map((payload) =>
      verifyWebhookSignature({ payload, headers: vectorHeaders(), keys: [VECTOR.secret], nowMs: Date.now() }).ok,
    );
    const library = [VECTOR.payload, tampered].map((payload) => {
      try {
        wh.verify(payload, vectorHeaders());
        return true;
      } catch {
        return false;
      }
    });
    // Assert
    expect(ours).toEqual([true, false]);
    expect(ours).toEqual(library);
  });
});

describe('Function: signWebhook', () => {
  it('returns the spec vector signature for the spec vector input', () => {
    const headers = signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    expect(headers).toEqual({ 'webhook-id': VECTOR.id, 'webhook-timestamp': '1614265330', 'webhook-signature': VECTOR.signature });
  });
});

describe('Function: parseWebhookKeys', () => {
  it('returns every whitespace-separated key', () => {
    expect(parseWebhookKeys(` ${VECTOR.secret}  ${OTHER_KEY}\n`)).toEqual([VECTOR.secret, OTHER_KEY]);
  });

  it('throws WebhookKeyError naming the key position but not the key', () => {
    const bad = 'whsec_not*base64!';
    let caught: unknown;
    try {
      parseWebhookKeys(`${VECTOR.secret} ${bad}`);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WebhookKeyError);
    expect((caught as WebhookKeyError).message).toContain('#2');
    expect((caught as WebhookKeyError).message).not.toContain('not*base64');
  });

  it('throws WebhookKeyError for a key shorter than 24 bytes and accepts one of exactly 24', () => {
    // Arrange
    const short = `whsec_${Buffer.from('twenty-three-bytes-long').toString('base64')}`;
    const exact = `whsec_${Buffer.from('twenty-four-bytes-long!!').toString('base64')}`;
    // Act
    const attempt = () => parseWebhookKeys(`${exact} ${short}`);
    // Assess
    expect(attempt).toThrow(WebhookKeyError);
    expect(attempt).toThrow(/#2 is 23 bytes; at least 24/);
    expect(parseWebhookKeys(exact)).toEqual([exact]);
  });
});
