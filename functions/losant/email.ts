// Losant answers --> normalizeEmailForCompare --> exact comparisons with the roster's normalised emails
import { domainToASCII } from 'node:url';
import { tryNormalizeEmail } from '../sync/email.ts';

/**
 * The form two addresses are compared in: trimmed, lower-cased, IDN domain in ASCII.
 * Same result as the domain's `normalizeEmail` for every address it accepts; for anything else
 * (an answer the domain would reject) it still returns a comparable form instead of throwing.
 * @example normalizeEmailForCompare(' Ann@Bücher.DE ') // 'ann@xn--bcher-kva.de'
 */
export function normalizeEmailForCompare(raw: string): string {
  const strict = tryNormalizeEmail(raw);
  if (strict !== null) return strict;
  const trimmed = raw.trim().toLowerCase();
  const at = trimmed.lastIndexOf('@');
  if (at < 0) return trimmed;
  const domain = trimmed.slice(at + 1);
  const ascii = domainToASCII(domain);
  return `${trimmed.slice(0, at)}@${ascii === '' ? domain : ascii.toLowerCase()}`;
}
