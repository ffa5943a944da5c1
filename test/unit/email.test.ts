// unit: email normalisation and masking (functions/sync/email.ts)
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maskEmail, maskEmails, normalizeEmail, parseEmail, tryNormalizeEmail } from '../../functions/sync/email.ts';
import { InputError } from '../../functions/sync/errors.ts';

describe('Function: normalizeEmail', () => {
  it('returns the address trimmed and lower-cased', () => {
    expect(normalizeEmail('  Jane.Doe@Example.COM\t')).toBe('jane.doe@example.com');
  });

  it('returns an IDN domain in ASCII (punycode)', () => {
    expect(normalizeEmail('Lena.Schmidt@Müller.de')).toBe('lena.schmidt@xn--mller-kva.de');
  });

  it('returns + tags and the legal * and ? characters of the local part unchanged', () => {
    expect(normalizeEmail('ken+HR@example.com')).toBe('ken+hr@example.com');
    expect(normalizeEmail('a*b?c@example.com')).toBe('a*b?c@example.com');
  });

  it.each([
    ['', 'empty'],
    ['jane.doe', 'no @'],
    ['@example.com', 'empty local part'],
    ['jane@', 'empty domain'],
    ['jane@doe@example.com', 'two @'],
    ['jane doe@example.com', 'space in local part'],
    ['jane@exa mple.com', 'space in domain'],
    ['jane@localhost', 'single-label domain'],
    ['jane@-example.com', 'label starting with a hyphen'],
    ['jane@example..com', 'empty label'],
    ['.jane@example.com', 'leading dot'],
    ['jane@[127.0.0.1]', 'address literal'],
  ])('throws InputError for %j (%s)', (raw) => {
    expect(() => normalizeEmail(raw)).toThrow(InputError);
  });

  it('throws InputError naming the length for an address over 1024 characters', () => {
    const long = `${'a'.repeat(1020)}@example.com`;
    expect(() => normalizeEmail(long)).toThrow(/longer than 1024/);
  });

  it('accepts an address of exactly 1024 characters', () => {
    const local = 'a'.repeat(1024 - '@example.com'.length);
    expect(normalizeEmail(`${local}@example.com`)).toHaveLength(1024);
  });

  it('returns the same result when applied twice (idempotent)', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (raw) => {
        const once = tryNormalizeEmail(raw);
        if (once !== null) expect(normalizeEmail(once)).toBe(once);
      }),
    );
  });
});

describe('Function: tryNormalizeEmail', () => {
  it('returns null instead of throwing for an invalid address', () => {
    expect(tryNormalizeEmail('nope')).toBeNull();
    expect(tryNormalizeEmail('Nope@Example.org')).toBe('nope@example.org');
  });

  it('returns null or a string for any input, never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (raw) => {
        const out = tryNormalizeEmail(raw);
        expect(out === null || out === out.toLowerCase()).toBe(true);
      }),
    );
  });
});

describe('Function: parseEmail', () => {
  it('returns the reason an address is invalid', () => {
    expect(parseEmail('x')).toEqual({ ok: false, reason: 'invalid email' });
    expect(parseEmail('X@Y.io')).toEqual({ ok: true, email: 'x@y.io' });
  });
});

describe('Function: maskEmail', () => {
  it('returns the first characters and the top-level label only', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j***@e***.com');
  });

  it('returns no character of a one-character part', () => {
    expect(maskEmail('j@x.io')).toBe('***@***.io');
  });

  it('returns *** for something that is not an address', () => {
    expect(maskEmail('no-at-sign')).toBe('***');
  });

  it('never contains the whole local part or the whole first domain label', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const at = email.lastIndexOf('@');
        const local = email.slice(0, at);
        const label = email.slice(at + 1).split('.')[0]!;
        const masked = maskEmail(email);
        expect(masked.split('@')[0]).not.toBe(local);
        expect(masked.split('@')[1]!.split('.')[0]).not.toBe(label);
      }),
    );
  });
});

describe('Function: maskEmails', () => {
  it('returns free text with every address masked', () => {
    const text = 'invite for Jane.Doe+x@Example.COM failed; retry bob@sub.example.org, then <lena@müller.de>';
    const masked = maskEmails(text);
    expect(masked).toBe('invite for J***@E***.COM failed; retry b***@s***.org, then <l***@m***.de>');
    expect(masked).not.toMatch(/jane|bob@|sub\.example|müller/i);
  });

  it('returns text without addresses unchanged (package@version, @scope, a lone @)', () => {
    const text = 'zod@4.1.2 from @aws-sdk/client-sqs at 10:00 @ home';
    expect(maskEmails(text)).toBe(text);
  });

  it('returns JSON log lines with the address masked and the quotes kept', () => {
    expect(maskEmails('{"email":"jane@example.com"}')).toBe('{"email":"j***@e***.com"}');
  });

  it('never leaves a generated address readable in surrounding text', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.constantFrom(' ', ', ', '\n', ' (', '"'), (email, sep) => {
        const local = email.slice(0, email.lastIndexOf('@'));
        fc.pre(local.length >= 2);
        const masked = maskEmails(`user${sep}${email}${sep}done`);
        expect(masked).not.toContain(email);
      }),
    );
  });
});
