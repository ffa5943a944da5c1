// emulator routes --> contract: the published Losant schemas, scopes and query rules the emulator enforces
import { readFileSync, readdirSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default;

/** Where the vendored, published JSON Schemas live (draft-07). */
export const SCHEMA_DIR = new URL('../schemas/losant/', import.meta.url);

/** The org roles of the published schemas. */
export const ROLES = ['admin', 'edit', 'collaborate', 'view', 'none'] as const;
export type Role = (typeof ROLES)[number];

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as object, file);
}

function compiled(file: string): ValidateFunction {
  const fn = ajv.getSchema(file);
  if (!fn) throw new Error(`schema ${file} is missing from ${SCHEMA_DIR.pathname}`);
  return fn;
}

const postBody = compiled('orgInvitePost.json');
const roleInfo = compiled('orgRoleInfo.json');
const memberPost = compiled('instanceOrgMemberPost.json');
const memberPatch = compiled('instanceOrgMemberPatch.json');
const emailFormat = ajv.compile({ type: 'string', format: 'email', maxLength: 1024 });

function describeError(e: ErrorObject): string {
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') {
    message = `must NOT have additional property '${String((e.params as { additionalProperty: string }).additionalProperty)}'`;
  } else if (e.keyword === 'enum') {
    message = `${message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  }
  return e.instancePath ? `${e.instancePath} ${message}` : message;
}

function check(fn: ValidateFunction, data: unknown): string | null {
  if (fn(data)) return null;
  return (fn.errors ?? []).map(describeError).join('; ');
}

/** null when `data` is a valid `orgInvitePost.json` body, else ajv's errors naming the fields. */
export const checkInvitePost = (data: unknown): string | null => check(postBody, data);

/** null when `data` is a valid `orgRoleInfo.json` body (resend), else the errors. */
export const checkRoleInfo = (data: unknown): string | null => check(roleInfo, data);

/** null when `data` is a valid `instanceOrgMemberPost.json` body (`userId` + `role`, or `email` + `role`), else the errors. */
export const checkMemberPost = (data: unknown): string | null => check(memberPost, data);

/** null when `data` is a valid `instanceOrgMemberPatch.json` body (role change), else the errors. */
export const checkMemberPatch = (data: unknown): string | null => check(memberPatch, data);

/** True for an address the published schemas accept (`format: email`, at most 1024 chars). */
export const isSchemaEmail = (value: string): boolean => emailFormat(value);

/** The API routes, by the template the stats report. */
export const ROUTE = {
  invites: '/instances/:instanceId/orgs/:orgId/invites',
  invite: '/instances/:instanceId/orgs/:orgId/invites/:inviteId',
  members: '/instances/:instanceId/orgs/:orgId/members',
  member: '/instances/:instanceId/orgs/:orgId/members/:userId',
  me: '/me',
  org: '/instances/:instanceId/orgs/:orgId',
} as const;

/** What every read route accepts besides its own scopes (API 1.30 added the `.bounded` read scopes). */
const READ = ['all.Instance', 'all.Instance.read', 'all.Instance.bounded', 'all.User', 'all.User.read', 'all.User.bounded'] as const;

/**
 * The scopes each operation accepts (any one of them is enough), as Losant's REST reference and its
 * client (losant-rest-js) list them: resend is `instanceOrgInvite.resendInvite`, not `.post`.
 */
export const SCOPES: Record<string, readonly string[]> = {
  [`GET ${ROUTE.invites}`]: [...READ, 'instanceOrgInvites.*', 'instanceOrgInvites.get'],
  [`POST ${ROUTE.invites}`]: ['all.Instance', 'all.User', 'instanceOrgInvites.*', 'instanceOrgInvites.post'],
  [`GET ${ROUTE.members}`]: [...READ, 'instanceOrgMembers.*', 'instanceOrgMembers.get'],
  [`GET ${ROUTE.invite}`]: [...READ, 'instanceOrgInvite.*', 'instanceOrgInvite.get'],
  [`DELETE ${ROUTE.invite}`]: ['all.Instance', 'all.User', 'instanceOrgInvite.*', 'instanceOrgInvite.delete'],
  [`POST ${ROUTE.invite}`]: ['all.Instance', 'all.User', 'instanceOrgInvite.*', 'instanceOrgInvite.resendInvite'],
  // instanceOrgMembers.md / instanceOrgMember.md of losant-rest-js (the members resource)
  [`POST ${ROUTE.members}`]: ['all.Instance', 'all.User', 'instanceOrgMembers.*', 'instanceOrgMembers.post'],
  [`GET ${ROUTE.member}`]: [...READ, 'instanceOrgMember.*', 'instanceOrgMember.get'],
  [`PATCH ${ROUTE.member}`]: ['all.Instance', 'all.User', 'instanceOrgMember.*', 'instanceOrgMember.patch'],
  [`DELETE ${ROUTE.member}`]: ['all.Instance', 'all.User', 'instanceOrgMember.*', 'instanceOrgMember.delete'],
  // me.md: a user's own record (an instance token has no user: 403 without these scopes)
  [`GET ${ROUTE.me}`]: ['all.User', 'all.User.read', 'all.User.bounded', 'me.*', 'me.get'],
  [`GET ${ROUTE.org}`]: [...READ, 'instanceOrg.*', 'instanceOrg.get'],
};

export type InviteSortField = 'email' | 'role' | 'inviteDate';
export type SortDirection = 'asc' | 'desc';

export interface ListQuery<F extends string> {
  sortField: F;
  sortDirection: SortDirection;
  /** echoed when given and not blank; filtering applies only when both are present */
  filterField?: 'email' | 'role';
  filter?: string;
}

function isOneOf<T extends string>(value: string, list: readonly T[]): value is T {
  return (list as readonly string[]).includes(value);
}

type Parsed<F extends string> = { ok: true; query: ListQuery<F> } | { ok: false; message: string };

/**
 * Reads sortField / sortDirection / filterField / filter. A blank value means the default;
 * a value outside the accepted list, or a parameter given twice, is a 400 naming the parameter.
 * sortDirection also takes `ASC`, `DESC` (the published collection schemas list them).
 */
export function parseListQuery<F extends string>(
  params: URLSearchParams,
  sortFields: readonly F[],
  defaults: { sortField: F; sortDirection: SortDirection },
): Parsed<F> {
  const repeated: string[] = [];
  const one = (name: string): string | undefined => {
    const all = params.getAll(name);
    if (all.length > 1) repeated.push(name);
    return all[0] === undefined || all[0].trim() === '' ? undefined : all[0];
  };
  const sortField = one('sortField');
  const sortDirection = one('sortDirection')?.toLowerCase() ?? defaults.sortDirection;
  const filterField = one('filterField');
  const filter = one('filter');
  if (repeated[0]) return { ok: false, message: `${repeated[0]} must be given at most once` };
  if (sortField !== undefined && !isOneOf(sortField, sortFields)) {
    return { ok: false, message: `sortField must be one of ${sortFields.join(', ')}` };
  }
  if (!isOneOf(sortDirection, ['asc', 'desc'] as const)) return { ok: false, message: 'sortDirection must be one of asc, desc' };
  if (filterField !== undefined && !isOneOf(filterField, ['email', 'role'] as const)) {
    return { ok: false, message: 'filterField must be one of email, role' };
  }
  const query: ListQuery<F> = { sortField: sortField ?? defaults.sortField, sortDirection };
  if (filterField !== undefined) query.filterField = filterField;
  if (filter !== undefined) query.filter = filter;
  return { ok: true, query };
}
