// transport answer text --> JSON --> zod schema (schemas.ts) --> domain types (PendingInvite, Member), emails normalised
// request body --> zod schema (strict) --> what is sent
import type { z } from 'zod';
import type { Member, PendingInvite } from '../sync/types.ts';
import { normalizeEmailForCompare } from './email.ts';
import { LosantApiError, type CallName, type LosantErrors } from './errors.ts';
import { OrgInviteSchema, type InstanceOrgMember, type OrgInvite } from './schemas.ts';
import { ROUTES } from './routes.ts';

/** Default cap of one answer body (sync config `limits.maxAnswerBytes`): 64 MiB. */
export const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Formats the first three issues as `path: message` (the root as `(root)`). */
function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * A request body checked against its published schema before anything is sent; `badRequest` otherwise.
 * @example const body = checkedBody(OrgRoleInfoSchema, { role: 'view' }, { method: 'POST', route: ROUTES.invite });
 */
export function checkedBody<S extends z.ZodType>(schema: S, body: unknown, call: CallName): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new LosantApiError('badRequest', `${call.method} ${call.route}: the request body does not match the published schema: ${issues(parsed.error)}`, {
    ...call, cause: parsed.error,
  });
}

/** The part of a transport answer that parsing needs. */
export interface AnswerBody {
  text: string;
  status: number;
  /** the body was longer than the client's `maxAnswerBytes` and was not read to its end */
  cutOff: boolean;
}

/**
 * Reads one answer: JSON, then its schema; `invalidResponse` (with the status) otherwise, and for a
 * body that was cut off at the size cap.
 * @example const data = parseAnswer(errors, answer, OrgInviteSchema, spec, attempt);
 */
export function parseAnswer<S extends z.ZodType>(errors: LosantErrors, answer: AnswerBody, schema: S, call: CallName, attempt: number): z.infer<S> {
  const { status } = answer;
  if (answer.cutOff) {
    throw errors.make('invalidResponse', call, attempt, 'the answer is longer than the size cap (limits.maxAnswerBytes): cut off, not read', { status });
  }
  let data: unknown;
  try {
    data = JSON.parse(answer.text);
  } catch (err) {
    throw errors.make('invalidResponse', call, attempt, 'the answer is not JSON', { status, cause: err });
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw errors.make('invalidResponse', call, attempt, `the answer does not match the published schema: ${issues(parsed.error)}`, { status, cause: parsed.error });
}

/**
 * The items of a list answer that must be whole: `items` present (an array: the schema checked that),
 * and, when `unfiltered`, as many as `count` says. Otherwise `invalidResponse`: a list that cannot be
 * trusted must fail the target, never read as "nobody there".
 * @example const items = trustedItems(errors, data, spec, answer.status, attempt, true);
 */
export function trustedItems<T>(
  errors: LosantErrors,
  data: { items?: T[] | undefined; count?: number | undefined },
  call: CallName,
  status: number,
  attempt: number,
  unfiltered: boolean,
): T[] {
  if (data.items === undefined) throw errors.make('invalidResponse', call, attempt, 'the list answer has no items', { status });
  if (unfiltered && data.count !== undefined && data.count !== data.items.length) {
    throw errors.make('invalidResponse', call, attempt, `the list answer says count ${data.count} but holds ${data.items.length} items`, { status });
  }
  return data.items;
}

/** Checks one item of a collection whose envelope was read with `z.unknown()` items. */
export function parseInviteItem(errors: LosantErrors, item: unknown, call: CallName, status: number, attempt: number): OrgInvite {
  const parsed = OrgInviteSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  throw errors.make('invalidResponse', call, attempt, `the answer does not match the published schema: items: ${issues(parsed.error)}`, { status, cause: parsed.error });
}

/** An answer's invite as the domain sees it; `invalidResponse` when it lacks what the sync needs. */
export function toPendingInvite(item: OrgInvite, call: CallName): PendingInvite {
  const { id, email, role, inviteDate } = item;
  if (id === undefined || email === undefined || role === undefined || inviteDate === undefined) {
    throw new LosantApiError('invalidResponse', `Losant ${call.method} ${call.route}: an invite lacks id, email, role or inviteDate`, call);
  }
  const invite: PendingInvite = { id, email: normalizeEmailForCompare(email), role, inviteDate, hasExpired: item.hasExpired ?? false };
  if (item.ttl !== undefined) invite.ttl = item.ttl;
  return invite;
}

/** An answer's member as the domain sees it; `invalidResponse` without email or role. */
export function toMember(item: InstanceOrgMember): Member {
  const { email, role } = item;
  if (email === undefined || role === undefined) {
    throw new LosantApiError('invalidResponse', `Losant GET ${ROUTES.members}: a member lacks email or role`, { method: 'GET', route: ROUTES.members });
  }
  const member: Member = { email: normalizeEmailForCompare(email), role };
  if (item.userId !== undefined) member.userId = item.userId;
  return member;
}

/** True when a raw answer item's `email` normalises to `wanted` (cheap for ASCII addresses, the common case). */
export function rawEmailMatches(item: unknown, wanted: string): boolean {
  if (typeof item !== 'object' || item === null) return false;
  const email = (item as { email?: unknown }).email;
  if (typeof email !== 'string') return false;
  const lower = email.trim().toLowerCase();
  if (lower === wanted) return true;
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(lower) && normalizeEmailForCompare(email) === wanted;
}

/** How a JSON text may spell `"email":<the address>`: as JSON.stringify writes it, lower-cased, non-ASCII as `\u` escapes. */
function emailKeyForms(email: string): string[] {
  const forms = new Set<string>();
  for (const e of [email, email.toLowerCase()]) {
    const literal = JSON.stringify(e);
    // eslint-disable-next-line no-control-regex
    const ascii = literal.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    for (const l of [literal, ascii]) for (const sep of [':', ': ']) forms.add(`"email"${sep}${l}`);
  }
  return [...forms];
}

/** True when the `"` at `at` is a real string delimiter (not preceded by an odd run of backslashes). */
function realQuote(text: string, at: number): boolean {
  let n = 0;
  for (let k = at - 1; k >= 0 && text.charCodeAt(k) === 92; k--) n++;
  return n % 2 === 0;
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * The unmatched `{` / `[` before `from` (which must be outside any string), innermost first, at most
 * `want` of them; undefined when the text before is not well formed.
 */
function openersBefore(text: string, from: number, want: number): number[] | undefined {
  const out: number[] = [];
  let depth = 0;
  let inString = false;
  for (let k = from - 1; k >= 0; k--) {
    const c = text.charCodeAt(k);
    if (c === 34) {
      if (realQuote(text, k)) inString = !inString;
      continue;
    }
    if (inString) continue;
    if (c === 125 || c === 93) depth++;
    else if (c === 123 || c === 91) {
      if (depth > 0) depth--;
      else {
        out.push(k);
        if (out.length > want) return undefined;
      }
    }
  }
  return inString ? undefined : out;
}

/** Index just past the `}` or `]` that closes the opener at `start`; -1 when the text ends first. */
function closeOf(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let k = start; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (inString) {
      if (c === 92) k++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return -1;
}

/** Index of the `]` that closes the root object's last array member, scanning back from the root's `}`; -1 when there is none. */
function lastRootArrayClose(text: string): number {
  let end = text.length - 1;
  while (end >= 0 && isSpace(text.charCodeAt(end))) end--;
  if (text.charCodeAt(end) !== 125) return -1;
  let depth = 0;
  let inString = false;
  for (let k = end - 1; k >= 0; k--) {
    const c = text.charCodeAt(k);
    if (c === 34) {
      if (realQuote(text, k)) inString = !inString;
      continue;
    }
    if (inString) continue;
    if (c === 93 && depth === 0) return k;
    if (c === 125 || c === 93) depth++;
    else if (c === 123 || c === 91) {
      if (depth === 0) return -1;
      depth--;
    }
  }
  return -1;
}

/** True when the array opening at `arrayOpen` is the value of a root-level `"items"` key. */
function isItemsKeyBefore(text: string, arrayOpen: number): boolean {
  let k = arrayOpen - 1;
  while (k >= 0 && isSpace(text.charCodeAt(k))) k--;
  if (text.charCodeAt(k) !== 58) return false;
  k--;
  while (k >= 0 && isSpace(text.charCodeAt(k))) k--;
  const open = k - 6;
  if (open < 0 || text.slice(open, k + 1) !== '"items"' || !realQuote(text, open)) return false;
  k = open - 1;
  while (k >= 0 && isSpace(text.charCodeAt(k))) k--;
  return text.charCodeAt(k) === 123 || text.charCodeAt(k) === 44;
}

/** What scanCollectionForEmail found: the answer's envelope (with `items: []`) and the raw items whose `email` is the address. */
export interface EmailScan {
  envelope: unknown;
  items: unknown[];
}

/**
 * Finds the items of a collection answer (`{"items":[…], …}`) whose `email` is `email` without parsing
 * the whole answer: searches the text for `"email":` followed by the address as JSON may spell it,
 * checks each hit is a real key of an object that is an element of the root's `items` array, and
 * parses only those objects, plus the envelope around `items` (which proves the answer whole to its
 * last byte). Undefined whenever that is not certain (no hit, a hit inside a string or a nested object,
 * a text cut off or malformed): the caller then parses the whole answer. Items spelling the address
 * another way (other case, upper-case `\u` hex, other escapes) are not found: the caller's full parse
 * covers them when no hit at all is found.
 * @example scanCollectionForEmail('{"items":[{"id":"a","email":"ann@x.com"}],"count":1}', 'ann@x.com')?.items // [{ id: 'a', email: 'ann@x.com' }]
 */
export function scanCollectionForEmail(text: string, email: string): EmailScan | undefined {
  const hits = new Set<number>();
  for (const form of emailKeyForms(email)) {
    for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) hits.add(at);
  }
  if (hits.size === 0) return undefined;
  let itemsOpen = -1;
  const items: unknown[] = [];
  for (const at of [...hits].sort((a, b) => a - b)) {
    if (!realQuote(text, at)) return undefined;
    // innermost first: the item's `{`, the items array's `[`, the root `{` (and nothing else)
    const openers = openersBefore(text, at, 3);
    if (openers?.length !== 3) return undefined;
    const [itemOpen, arrayOpen, rootOpen] = openers as [number, number, number];
    if (text.charCodeAt(itemOpen) !== 123 || text.charCodeAt(arrayOpen) !== 91 || text.charCodeAt(rootOpen) !== 123) return undefined;
    if (text.slice(0, rootOpen).trim() !== '' || !isItemsKeyBefore(text, arrayOpen)) return undefined;
    if (itemsOpen !== -1 && itemsOpen !== arrayOpen) return undefined;
    itemsOpen = arrayOpen;
    const itemEnd = closeOf(text, itemOpen);
    if (itemEnd === -1) return undefined;
    let item: unknown;
    try {
      item = JSON.parse(text.slice(itemOpen, itemEnd));
    } catch {
      return undefined;
    }
    if (typeof item !== 'object' || item === null || typeof (item as { email?: unknown }).email !== 'string') return undefined;
    const got = (item as { email: string }).email;
    if (got !== email && got !== email.toLowerCase()) return undefined;
    items.push(item);
  }
  const arrayClose = lastRootArrayClose(text);
  if (arrayClose === -1 || arrayClose < itemsOpen) return undefined;
  let envelope: unknown;
  try {
    envelope = JSON.parse(`${text.slice(0, itemsOpen + 1)}${text.slice(arrayClose)}`);
  } catch {
    return undefined;
  }
  const shell = envelope as { items?: unknown };
  if (typeof envelope !== 'object' || envelope === null || !Array.isArray(shell.items) || shell.items.length !== 0) return undefined;
  return { envelope, items };
}
