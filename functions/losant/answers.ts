// transport answer text --> JSON --> zod schema (schemas.ts) --> domain types (PendingInvite, Member), emails normalised
// request body --> zod schema (strict) --> what is sent
import type { z } from 'zod';
import type { Member, OrgRole, PendingInvite } from '../sync/types.ts';
import { newestInvite } from '../sync/invites.ts';
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

/**
 * The invite a POST created among its answer's items for the address sent (found by a scan): the newest
 * (newestInvite), each checked against the published schema, its email (`wanted`, normalised) and the role
 * sent; undefined when one fails (the caller then parses the whole answer, which decides).
 * @example createdAmong(scan.items, { role: 'view' }, 'ann@x.com', spec)?.id
 */
export function createdAmong(items: readonly unknown[], sent: { role: OrgRole }, wanted: string, call: CallName): PendingInvite | undefined {
  const checked: PendingInvite[] = [];
  for (const raw of items) {
    const item = OrgInviteSchema.safeParse(raw);
    if (!item.success || item.data.role !== sent.role) return undefined;
    let invite: PendingInvite;
    try {
      invite = toPendingInvite(item.data, call);
    } catch {
      return undefined;
    }
    if (invite.email !== wanted) return undefined;
    checked.push(invite);
  }
  return newestInvite(checked);
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

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/** Index of the `"` that ends the string opening at `start` (not escaped by an odd run of backslashes); -1 when the text ends first. */
function stringEnd(text: string, start: number): number {
  for (let end = text.indexOf('"', start + 1); end !== -1; end = text.indexOf('"', end + 1)) {
    let slashes = 0;
    for (let k = end - 1; text.charCodeAt(k) === 92; k--) slashes++;
    if (slashes % 2 === 0) return end;
  }
  return -1;
}

/** Index of the first character after `from` that is not JSON whitespace. */
function skipSpace(text: string, from: number): number {
  let k = from;
  while (k < text.length && isSpace(text.charCodeAt(k))) k++;
  return k;
}

/** Where the root's `items` array and the items holding the hits are, as one forward pass over the text found them. */
interface ItemsLayout {
  /** the `[` of the root's `items` */
  open: number;
  /** the `]` that closes it */
  close: number;
  /** per item holding a hit, in text order: its `{` and the index just past its `}` */
  spans: [number, number][];
}

/**
 * One forward pass over the text, strings skipped whole: finds the root object's `items` array, checks
 * every hit is the key of an object that is an element of it (not inside a string, not deeper, not
 * elsewhere) and where the array closes. Undefined whenever the text does not show that: a hit anywhere
 * else, two `items` keys, a root that is not an object, a text that ends before `items` closes.
 * The pass is what makes the scan sound: the only position known to be outside every string is the
 * text's start, so the structure is read from there (reading back from a hit or from the end would
 * take a string's `]}` for structure in a text cut off inside it).
 */
function itemsLayout(text: string, hits: readonly number[]): ItemsLayout | undefined {
  let k = skipSpace(text, 0);
  if (text.charCodeAt(k) !== 123) return undefined;
  const length = text.length;
  let depth = 0;
  let open = -1;
  let next = 0; // index of the next hit to meet
  let hit = hits[0] ?? Infinity; // its position
  let itemOpen = -1; // the `{` of the items element the pass is in
  let itemHit = false; // whether that element holds a hit
  const spans: [number, number][] = [];
  for (; k < length; k++) {
    const c = text.charCodeAt(k);
    if (c === 34) {
      if (hit < k) return undefined; // a hit passed by: inside a string, or not a key
      const end = stringEnd(text, k);
      if (end === -1) return undefined;
      if (hit === k) {
        if (open === -1 || depth !== 3 || itemOpen === -1) return undefined;
        itemHit = true;
        next += 1;
        hit = hits[next] ?? Infinity;
      } else if (depth === 1 && end - k === 6 && text.startsWith('"items"', k)) {
        const colon = skipSpace(text, end + 1);
        if (text.charCodeAt(colon) !== 58) return undefined;
        const value = skipSpace(text, colon + 1);
        if (text.charCodeAt(value) === 91) {
          if (open !== -1) return undefined; // two `items`: JSON.parse keeps the last
          open = value;
        }
      }
      if (hit <= end) return undefined;
      k = end;
    } else if (c === 123 || c === 91) {
      depth += 1;
      if (depth === 3 && c === 123 && open !== -1) itemOpen = k;
    } else if (c === 125 || c === 93) {
      if (depth === 3) {
        if (itemHit) spans.push([itemOpen, k + 1]);
        itemOpen = -1;
        itemHit = false;
      }
      depth -= 1;
      if (depth === 1 && c === 93 && open !== -1) return next === hits.length ? { open, close: k, spans } : undefined;
      if (depth <= 0) return undefined;
    }
  }
  return undefined;
}

/** What scanCollectionForEmail found: the answer's envelope (with `items: []`) and the raw items whose `email` is the address. */
export interface EmailScan {
  envelope: unknown;
  items: unknown[];
}

/**
 * Finds the items of a collection answer (`{"items":[…], …}`) whose `email` is `email` without
 * building the whole answer: searches the text for `"email":` followed by the address as JSON may
 * spell it, reads the structure in one forward pass that skips strings whole (itemsLayout) to check
 * each hit is a real key of an object that is an element of the root's `items` array, and parses only
 * those objects, plus the envelope around `items` (which proves the answer whole to its last byte).
 * Undefined whenever that is not certain (no hit, a hit inside a string or a nested object, a text cut
 * off or malformed): the caller then parses the whole answer. Items spelling the address another way
 * (other case, upper-case `\u` hex, other escapes) are not found: the caller's full parse covers them
 * when no hit at all is found. Measured on a 2 MB answer of 5 000 invites: about a third of JSON.parse.
 * @example scanCollectionForEmail('{"items":[{"id":"a","email":"ann@x.com"}],"count":1}', 'ann@x.com')?.items // [{ id: 'a', email: 'ann@x.com' }]
 */
export function scanCollectionForEmail(text: string, email: string): EmailScan | undefined {
  const hits = new Set<number>();
  for (const form of emailKeyForms(email)) {
    for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) hits.add(at);
  }
  if (hits.size === 0) return undefined;
  const layout = itemsLayout(text, [...hits].sort((a, b) => a - b));
  if (!layout) return undefined;
  const items: unknown[] = [];
  for (const [start, end] of layout.spans) {
    let item: unknown;
    try {
      item = JSON.parse(text.slice(start, end));
    } catch {
      return undefined;
    }
    if (typeof item !== 'object' || item === null || typeof (item as { email?: unknown }).email !== 'string') return undefined;
    const got = (item as { email: string }).email;
    if (got !== email && got !== email.toLowerCase()) return undefined;
    items.push(item);
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(`${text.slice(0, layout.open + 1)}${text.slice(layout.close)}`);
  } catch {
    return undefined;
  }
  const shell = envelope as { items?: unknown };
  if (typeof envelope !== 'object' || envelope === null || !Array.isArray(shell.items) || shell.items.length !== 0) return undefined;
  return { envelope, items };
}
