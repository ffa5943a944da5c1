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
