// LosantClient --> routes (templates, paths, Losant's query dialect) --> RequestSpec for the transport
import type { TargetRef } from '../sync/types.ts';

/** Route templates, as metrics and the emulator's stats name them (no ids, no emails). */
export const ROUTES = {
  invites: '/instances/:instanceId/orgs/:orgId/invites',
  invite: '/instances/:instanceId/orgs/:orgId/invites/:inviteId',
  members: '/instances/:instanceId/orgs/:orgId/members',
  member: '/instances/:instanceId/orgs/:orgId/members/:userId',
  me: '/me',
  org: '/instances/:instanceId/orgs/:orgId',
} as const;

export type Method = 'GET' | 'POST' | 'DELETE';
export type Route = (typeof ROUTES)[keyof typeof ROUTES];

/** The narrowest scope each call needs (Losant's REST reference; a broader one, e.g. `all.Instance`, also works). */
const REQUIRED_SCOPES: Record<string, string> = {
  [`GET ${ROUTES.invites}`]: 'instanceOrgInvites.get',
  [`POST ${ROUTES.invites}`]: 'instanceOrgInvites.post',
  [`GET ${ROUTES.members}`]: 'instanceOrgMembers.get',
  [`GET ${ROUTES.invite}`]: 'instanceOrgInvite.get',
  [`POST ${ROUTES.invite}`]: 'instanceOrgInvite.resendInvite',
  [`DELETE ${ROUTES.invite}`]: 'instanceOrgInvite.delete',
  [`DELETE ${ROUTES.member}`]: 'instanceOrgMember.delete',
  [`GET ${ROUTES.me}`]: 'me.get',
  [`GET ${ROUTES.org}`]: 'instanceOrg.get',
};

/**
 * The narrowest scope a call needs, for a 403's error (Losant has no way to read a token's scopes).
 * @example requiredScope({ method: 'POST', route: ROUTES.invite }) // 'instanceOrgInvite.resendInvite'
 */
export function requiredScope(call: { method: string; route: string }): string | undefined {
  return REQUIRED_SCOPES[`${call.method} ${call.route}`];
}

/** One call to Losant: what is sent (path with ids and query) and how metrics name it (route). */
export interface RequestSpec {
  method: Method;
  route: Route;
  path: string;
  body?: unknown;
  /** per attempt: a watcher the transport feeds each chunk of the answer body as it arrives (still in cache) */
  watch?: () => ChunkWatch;
}

/** Sees an answer body chunk by chunk, in order, as the transport reads it (answer-bytes.ts NeedleScan). */
export interface ChunkWatch {
  /** true: the watcher keeps what it needs of the body from here on, and the answer holds none of it (`taken`) */
  push(chunk: Buffer): boolean;
}

/** Losant's sort and filter parameters of GET invites (the client's own dialect; the domain never sees it). */
export interface InviteQuery {
  sortField?: 'email' | 'role' | 'inviteDate';
  sortDirection?: 'asc' | 'desc';
  filterField?: 'email' | 'role';
  filter?: string;
}

/**
 * Builds `?sortField=…&sortDirection=…&filterField=…&filter=…` with every value percent-encoded
 * (`+` → %2B, `@` → %40; `*` is unreserved and stays).
 * @example queryString({ filterField: 'email', filter: 'a+b@x.com' }) // '?filterField=email&filter=a%2Bb%40x.com'
 */
export function queryString(query: InviteQuery): string {
  const pairs: string[] = [];
  for (const key of ['sortField', 'sortDirection', 'filterField', 'filter'] as const) {
    const value = query[key];
    if (value !== undefined) pairs.push(`${key}=${encodeURIComponent(value)}`);
  }
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

/**
 * Paths below a base URL's path prefix, every id percent-encoded.
 * @example new LosantPaths('/api').invite(target, id) // '/api/instances/…/orgs/…/invites/…'
 */
export class LosantPaths {
  constructor(private readonly prefix: string) {}

  collection(target: TargetRef, what: 'invites' | 'members'): string {
    return `${this.org(target)}/${what}`;
  }

  org(target: TargetRef): string {
    return `${this.prefix}/instances/${encodeURIComponent(target.instanceId)}/orgs/${encodeURIComponent(target.orgId)}`;
  }

  invite(target: TargetRef, inviteId: string): string {
    return `${this.collection(target, 'invites')}/${encodeURIComponent(inviteId)}`;
  }

  member(target: TargetRef, userId: string): string {
    return `${this.collection(target, 'members')}/${encodeURIComponent(userId)}`;
  }

  me(): string {
    return `${this.prefix}/me`;
  }
}
