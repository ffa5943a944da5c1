// roster / event / adapter --> normalizeEmail (the one form invite-sync compares and POSTs); logs --> maskEmails
import { domainToASCII } from 'node:url';
import { InputError } from './errors.ts';

/** Longest address orgInvitePost.json accepts. */
export const MAX_EMAIL_LENGTH = 1024;

// RFC 5322 dot-atom of atext (ASCII): `+` tags and `*`, `?` are legal and kept.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// After domainToASCII: two or more LDH labels, none starting or ending with a hyphen.
const ASCII_DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Normalises an address or says why it cannot (for field-level messages).
 * @example parseEmail('a@b') // { ok: false, reason: 'invalid email' }
 */
export function parseEmail(raw: string): { ok: true; email: string } | { ok: false; reason: string } {
  const trimmed = raw.trim();
  if (trimmed.length === 0) return { ok: false, reason: 'invalid email' };
  if (trimmed.length > MAX_EMAIL_LENGTH) return { ok: false, reason: `email longer than ${MAX_EMAIL_LENGTH} characters` };
  const at = trimmed.indexOf('@');
  if (at < 0 || at !== trimmed.lastIndexOf('@')) return { ok: false, reason: 'invalid email' };
  const local = trimmed.slice(0, at).toLowerCase();
  const domainRaw = trimmed.slice(at + 1).toLowerCase();
  if (!LOCAL_PART.test(local) || domainRaw.length === 0) return { ok: false, reason: 'invalid email' };
  const domain = domainToASCII(domainRaw).toLowerCase();
  if (!ASCII_DOMAIN.test(domain)) return { ok: false, reason: 'invalid email' };
  const email = `${local}@${domain}`;
  if (email.length > MAX_EMAIL_LENGTH) return { ok: false, reason: `email longer than ${MAX_EMAIL_LENGTH} characters` };
  return { ok: true, email };
}

/**
 * Normalises an address: trimmed, lower-cased, IDN domain in ASCII (punycode).
 * Throws InputError when it is not a single `local@domain` address of at most 1024 characters.
 * @example normalizeEmail(' Jan.Kowalski+HR@Müller.de ') // 'jan.kowalski+hr@xn--mller-kva.de'
 */
export function normalizeEmail(raw: string): string {
  const result = parseEmail(raw);
  if (result.ok) return result.email;
  throw new InputError(result.reason, [{ path: 'email', message: result.reason }]);
}

/**
 * Like normalizeEmail, but null for an invalid address.
 * @example tryNormalizeEmail('not an email') // null
 */
export function tryNormalizeEmail(raw: string): string | null {
  const result = parseEmail(raw);
  return result.ok ? result.email : null;
}

function maskPart(part: string): string {
  // one visible character only when at least two exist, so a part is never shown whole
  const chars = [...part];
  return chars.length >= 2 ? `${chars[0] ?? ''}***` : '***';
}

/**
 * Masks an address for logs: first character of the local part and of the first domain label,
 * plus the top-level label.
 * @example maskEmail('jane.doe@example.com') // 'j***@e***.com'
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return '***';
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  const first = labels[0] ?? '';
  const tld = labels.length > 1 ? `.${labels[labels.length - 1] ?? ''}` : '';
  return `${maskPart(local)}@${maskPart(first)}${tld}`;
}

// An email-looking run: a local part not preceded by another local-part character (keeps the scan
// linear), `@`, then dotted labels ending in a label that starts with a letter (so `zod@4.1.2` stays).
const LOCAL_CHARS = "\\p{L}\\p{N}.!#$%&'*+/=?^_`{|}~-";
const EMAIL_IN_TEXT = new RegExp(
  `(?<![${LOCAL_CHARS}])[${LOCAL_CHARS}]+@(?:[\\p{L}\\p{N}_-]+\\.)+\\p{L}[\\p{L}\\p{N}-]*`,
  'gu',
);

/**
 * Replaces every email-looking substring of free text with its masked form.
 * @example maskEmails('invite failed for Jane@Example.com') // 'invite failed for J***@E***.com'
 */
export function maskEmails(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(EMAIL_IN_TEXT, (m) => maskEmail(m));
}
